import test from 'ava';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { accountSessions } from '../../../src/oidc/adapters/cache-artifacts.js';
import { PASSWORD, ZHANG_SAN, seedAccount } from '../../helpers/accounts.js';
import { HttpBrowser } from '../../helpers/http-browser.js';
import { LOCAL_RELYING_PARTIES, LogoutReceiver, discoverThree, rpLogin, threeClients, writeClientsFile } from '../../helpers/relying-party.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { createStaff, staffSignIn, type StaffClient } from '../../helpers/staff.js';

/**
 * A relying party can hold a person's grant with no SSO session left: the app's thirty-day
 * refresh token outlives the login that made it. When the grant is revoked (a ban, a
 * reset, signing out elsewhere), such a client is told by a logout token with `sub` and no
 * `sid` (OpenID Connect Back-Channel Logout 1.0, section 2.4) if it does not require
 * `sid`; one that requires `sid` is not sent a token it could not act on.
 * Here the app and the second portal do not require `sid`; the portal does.
 */
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const LOGIN = { identifier: ZHANG_SAN.idNumber, password: PASSWORD };
/** A login whose refresh token outlives the SSO session (without offline_access it dies with it). */
const OFFLINE = { scope: 'openid offline_access', prompt: 'consent' };

let receiver: LogoutReceiver;
let server: TestServer;
let accountId: string;
let desk: StaffClient;

test.before(async () => {
  receiver = await LogoutReceiver.start();
  const clients = threeClients(receiver).map((client) => (client.client_id === 'portal' ? client : { ...client, backchannel_logout_session_required: false }));
  server = await startServer({ ...LOCAL_RELYING_PARTIES, CLIENTS_FILE: writeClientsFile(clients), BACKCHANNEL_LOGOUT_RETRIES: '0' });
  accountId = await seedAccount(server.deps, ZHANG_SAN);
  desk = await staffSignIn(server, await createStaff(server.deps, 'agent.bcl', ['agent']));
});
test.after.always(async () => {
  await server?.close();
  await receiver?.close();
});

/** What happens when an SSO session reaches its TTL: its record is gone, its grants stay. */
async function expireSessions(): Promise<void> {
  for (const { id } of await accountSessions(server.deps.cache, accountId)) await server.deps.cache.delete(`oidc:Session:${id}`);
}

const since = (path: string, before: number) => receiver.attempts.slice(before).filter((a) => a.path === path);

test.serial('a ban tells a client that holds only a refresh token (sub, no sid); a client that requires sid is not sent one', async (t) => {
  const configs = await discoverThree(server.url);
  const app = await rpLogin(configs.app, new HttpBrowser(server.url), LOGIN, OFFLINE);
  const portal = await rpLogin(configs.portal, new HttpBrowser(server.url), LOGIN, OFFLINE);
  t.truthy(app.tokens.refresh_token);
  t.truthy(portal.tokens.refresh_token);
  await expireSessions();
  t.deepEqual(await server.deps.accountSessions.list(accountId), [], 'no SSO session is left');
  const refreshed = await oidc.refreshTokenGrant(configs.app, app.tokens.refresh_token!);

  const before = receiver.attempts.length;
  t.is((await desk.api('GET', `/citizens?q=${ZHANG_SAN.phone}`)).body.results?.[0]?.id, accountId);
  const ban = await desk.api('POST', `/citizens/${accountId}/ban`, { reason: 'account_compromised' });
  t.is(ban.status, 200, JSON.stringify(ban.body));
  await server.deps.backchannelLogout.settled();

  const [delivery, ...more] = since('/app', before);
  t.truthy(delivery, 'the app, with a refresh token and no session, is told');
  t.is(more.length, 0, 'once');
  const { payload } = await jwtVerify(delivery!.logoutToken, createRemoteJWKSet(new URL(`${server.url}/jwks`)), {
    issuer: server.url, audience: 'app', typ: 'logout+jwt', requiredClaims: ['iat', 'jti', 'events', 'sub'],
  });
  t.is(payload.sub, accountId);
  t.deepEqual(payload.events, { [EVENT]: {} });
  t.false('sid' in payload, 'no session to name: the token means every session of the person at the app');
  t.false('nonce' in payload);
  t.deepEqual(since('/portal', before), [], 'the portal requires sid and has no session: nothing is sent');
  t.deepEqual(since('/portal2', before), [], 'the second portal held nothing');

  await t.throwsAsync(oidc.refreshTokenGrant(configs.app, refreshed.refresh_token!), { instanceOf: oidc.ResponseBodyError });
  await t.throwsAsync(oidc.refreshTokenGrant(configs.portal, portal.tokens.refresh_token!), { instanceOf: oidc.ResponseBodyError });
  await server.deps.accounts.update(accountId, { status: 'active' });
});

test.serial('a client of a live session is told once, through the session, not a second time for its grant', async (t) => {
  const configs = await discoverThree(server.url);
  const browser = new HttpBrowser(server.url);
  await rpLogin(configs.portal2, browser, LOGIN);
  await rpLogin(configs.app, browser, undefined);
  const before = receiver.attempts.length;
  await server.deps.accountSessions.revokeAll(accountId);
  await server.deps.backchannelLogout.settled();
  t.is(since('/portal2', before).length, 1);
  t.is(since('/app', before).length, 1);
  t.is(since('/portal', before).length, 0);
});

test.serial('signing out other devices tells a client whose revoked grant had no session, but not one still signed in here', async (t) => {
  const configs = await discoverThree(server.url);
  // Yesterday on a phone: the app and the second portal; those sessions have expired.
  const phone = new HttpBrowser(server.url);
  const oldApp = await rpLogin(configs.app, phone, LOGIN, OFFLINE);
  await rpLogin(configs.portal2, phone, undefined, OFFLINE);
  await expireSessions();
  const oldRefresh = (await oidc.refreshTokenGrant(configs.app, oldApp.tokens.refresh_token!)).refresh_token!;
  t.truthy(oldRefresh, 'the phone\'s app login outlives its session');
  // Today on a computer: the app again, in the session that is kept.
  const computer = new HttpBrowser(server.url);
  const newApp = await rpLogin(configs.app, computer, LOGIN, OFFLINE);
  const [kept] = await accountSessions(server.deps.cache, accountId);

  const before = receiver.attempts.length;
  const revoked = await server.deps.accountSessions.revokeOthers(accountId, { sessionId: kept!.id, grantIds: [] });
  await server.deps.backchannelLogout.settled();
  t.is(revoked.grants, 2, 'the phone\'s two grants');
  const [toPortal2] = since('/portal2', before);
  t.is(decodeJwt(toPortal2!.logoutToken).sub, accountId);
  t.false('sid' in decodeJwt(toPortal2!.logoutToken));
  t.deepEqual(since('/app', before), [], 'a token without sid would sign the app out of the kept session too: not sent');
  await t.throwsAsync(oidc.refreshTokenGrant(configs.app, oldRefresh), { instanceOf: oidc.ResponseBodyError });
  t.truthy((await oidc.refreshTokenGrant(configs.app, newApp.tokens.refresh_token!)).access_token, 'the kept login still works');
});
