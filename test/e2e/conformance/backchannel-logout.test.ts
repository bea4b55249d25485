import test from 'ava';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import { accountSessions } from '../../../src/oidc/adapters/cache-artifacts.js';
import { PASSWORD, ZHANG_SAN, seedAccount } from '../../helpers/accounts.js';
import { HttpBrowser, hidden } from '../../helpers/http-browser.js';
import { LOCAL_RELYING_PARTIES, LogoutReceiver, discoverThree, rpLogin, threeClients, writeClientsFile, type LogoutDelivery } from '../../helpers/relying-party.js';
import { startServer, type TestServer } from '../../helpers/server.js';

/**
 * OpenID Connect Back-Channel Logout 1.0, as the conformance plan checks it: every relying
 * party that had a session gets a signed logout token when the session ends, whichever way
 * it ends (RP-initiated logout, the account centre, a ban or a password reset), and a
 * relying party that is down gets it again later.
 */

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const LOGIN = { identifier: ZHANG_SAN.idNumber, password: PASSWORD };

let receiver: LogoutReceiver;
let server: TestServer;
let accountId: string;
const logLines: string[] = [];

test.before(async () => {
  receiver = await LogoutReceiver.start();
  server = await startServer(
    { ...LOCAL_RELYING_PARTIES, CLIENTS_FILE: writeClientsFile(threeClients(receiver)), LOG_LEVEL: 'warn', BACKCHANNEL_LOGOUT_RETRIES: '2', BACKCHANNEL_LOGOUT_RETRY_MS: '20' },
    { logSink: { write: (line) => { logLines.push(line); } } },
  );
  accountId = await seedAccount(server.deps, ZHANG_SAN);
});
test.after.always(async () => {
  await server?.close();
  await receiver?.close();
});

/** Verifies a logout token as a relying party must (OIDC Back-Channel Logout 1.0 section 2.6). */
async function verifyLogoutToken(delivery: LogoutDelivery, audience: string): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(`${server.url}/jwks`));
  const { payload, protectedHeader } = await jwtVerify(delivery.logoutToken, jwks, {
    issuer: server.url, audience, typ: 'logout+jwt', algorithms: ['ES256', 'RS256'], requiredClaims: ['iat', 'jti', 'events'],
  });
  if (!protectedHeader.kid) throw new Error('no kid');
  return payload;
}

/** Logs in at the portal, then gets into portal2 and the app through the SSO session alone. */
async function signedInEverywhere() {
  const configs = await discoverThree(server.url);
  const browser = new HttpBrowser(server.url);
  const portal = await rpLogin(configs.portal, browser, LOGIN);
  const portal2 = await rpLogin(configs.portal2, browser, undefined, { prompt: 'none' });
  const app = await rpLogin(configs.app, browser, undefined);
  return { configs, browser, portal, portal2, app };
}

/** The RP-initiated logout at `/session/end` with a good hint, confirmed on the page. */
async function logoutAtPortal(browser: HttpBrowser, idToken: string, state = 'bye-123') {
  const url = new URL('/session/end', server.url);
  url.search = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: 'http://localhost:8080/', state }).toString();
  const page = await browser.get(url.href);
  return browser.post('/session/end/confirm', { xsrf: hidden(page.body, 'xsrf'), logout: 'yes' });
}

test.serial('a logout at the portal sends every client of the session a valid logout token, and ends all three', async (t) => {
  const { configs, browser, portal, portal2, app } = await signedInEverywhere();
  t.true(portal.loginShown);
  t.false(portal2.loginShown, 'the second portal gets in with prompt=none');
  t.false(app.loginShown, 'the app gets in without a login page');

  const before = receiver.deliveries.length;
  const done = await logoutAtPortal(browser, portal.tokens.id_token!);
  t.is(done.url, 'http://localhost:8080/?state=bye-123');

  for (const [path, clientId, login] of [['/portal', 'portal', portal], ['/portal2', 'portal2', portal2], ['/app', 'app', app]] as const) {
    const [delivery] = (await receiver.waitFor(path, 1)).filter((d) => receiver.deliveries.indexOf(d) >= before);
    t.truthy(delivery, `${clientId} got a logout token`);
    t.is(delivery!.contentType, 'application/x-www-form-urlencoded');
    const claims = await verifyLogoutToken(delivery!, clientId);
    const idToken = login.tokens.claims()!;
    t.is(claims.iss, server.url);
    t.is(claims.aud, clientId);
    t.is(claims.sub, idToken.sub);
    t.is(claims.sub, accountId);
    t.truthy(idToken.sid, `${clientId}'s ID token carries sid`);
    t.is(claims.sid, idToken.sid, `${clientId}: sid matches the ID token's`);
    t.deepEqual(claims.events, { [EVENT]: {} });
    t.false('nonce' in claims, 'a logout token never has a nonce');
    t.is(typeof claims.jti, 'string');
    t.true(typeof claims.iat === 'number' && claims.iat <= Math.floor(Date.now() / 1000) + 5);
  }
  const jtis = receiver.deliveries.slice(before).map((d) => decodeJwt(d.logoutToken).jti);
  t.is(new Set(jtis).size, jtis.length, 'every logout token has its own jti');

  // Everything the session carried is over: tokens, refresh tokens and the SSO session.
  const userinfo = await oidc.fetchUserInfo(configs.portal2, portal2.tokens.access_token, oidc.skipSubjectCheck).catch((e: unknown) => e);
  t.true(userinfo instanceof Error, 'the second portal\'s access token no longer works');
  await t.throwsAsync(oidc.refreshTokenGrant(configs.app, app.tokens.refresh_token!), { instanceOf: oidc.ResponseBodyError });
  const silent = await rpLogin(configs.portal2, browser, undefined, { prompt: 'none' }).catch((e: unknown) => e);
  t.is((silent as oidc.AuthorizationResponseError).error, 'login_required');
});

test.serial('signing out everywhere from the account centre, a ban, a reset or deregistration (revokeAll) tells every client', async (t) => {
  const { portal, portal2, app } = await signedInEverywhere();
  const before = receiver.deliveries.length;
  await server.deps.accountSessions.revokeAll(accountId);
  const fresh = receiver.deliveries.slice(before);
  t.deepEqual(fresh.map((d) => d.path).sort(), ['/app', '/portal', '/portal2'], 'the first attempts are made before revokeAll returns');
  for (const [delivery, clientId, login] of [[fresh.find((d) => d.path === '/portal')!, 'portal', portal], [fresh.find((d) => d.path === '/portal2')!, 'portal2', portal2], [fresh.find((d) => d.path === '/app')!, 'app', app]] as const) {
    const claims = await verifyLogoutToken(delivery, clientId);
    t.is(claims.sid, login.tokens.claims()!.sid);
    t.is(claims.sub, accountId);
    t.deepEqual(claims.events, { [EVENT]: {} });
    t.false('nonce' in claims);
  }
});

test.serial('signing out one session (endByHandle) tells only the clients of that session', async (t) => {
  const first = await signedInEverywhere();
  const second = await rpLogin((await discoverThree(server.url)).portal, new HttpBrowser(server.url), LOGIN);
  const sessions = await server.deps.accountSessions.list(accountId);
  const target = sessions.find((s) => s.clients.length === 1)!;
  t.truthy(target, 'the second browser\'s session has only the portal');

  const before = receiver.deliveries.length;
  t.true((await server.deps.accountSessions.endByHandle(accountId, target.handle)).ended);
  const fresh = receiver.deliveries.slice(before);
  t.deepEqual(fresh.map((d) => d.path), ['/portal']);
  t.is(decodeJwt(fresh[0]!.logoutToken).sid, second.tokens.claims()!.sid);
  t.not(decodeJwt(fresh[0]!.logoutToken).sid, first.portal.tokens.claims()!.sid, 'the other session is untouched');
  await server.deps.accountSessions.revokeAll(accountId);
});

test.serial('a password change (revokeOthers) tells the clients of every other session, not of the kept one', async (t) => {
  const kept = await signedInEverywhere();
  const other = await rpLogin((await discoverThree(server.url)).portal2, new HttpBrowser(server.url), LOGIN);
  const keptSession = (await server.deps.accountSessions.list(accountId)).find((s) => s.clients.length === 3)!;
  const before = receiver.deliveries.length;
  const sessionId = (await accountSessions(server.deps.cache, accountId)).find(({ id }) => server.deps.accountSessions.handle(id) === keptSession.handle)?.id;
  t.truthy(sessionId);
  await server.deps.accountSessions.revokeOthers(accountId, { sessionId, grantIds: [] });
  const fresh = receiver.deliveries.slice(before);
  t.deepEqual(fresh.map((d) => d.path), ['/portal2']);
  t.is(decodeJwt(fresh[0]!.logoutToken).sid, other.tokens.claims()!.sid);
  t.false(fresh.some((d) => decodeJwt(d.logoutToken).sid === kept.portal2.tokens.claims()!.sid), 'the kept session\'s clients hear nothing');
  await server.deps.accountSessions.revokeAll(accountId);
});

test.serial('without OUTBOUND_PRIVATE_HOSTS a relying party on a loopback address is not called (SSRF guard), and that is logged', async (t) => {
  const lines: string[] = [];
  const guarded = await startServer(
    { CLIENTS_FILE: writeClientsFile(threeClients(receiver)), LOG_LEVEL: 'warn', BACKCHANNEL_LOGOUT_RETRIES: '0' },
    { logSink: { write: (line) => { lines.push(line); } } },
  );
  try {
    const id = await seedAccount(guarded.deps, ZHANG_SAN);
    const { tokens } = await rpLogin((await discoverThree(guarded.url)).portal, new HttpBrowser(guarded.url), LOGIN);
    const before = receiver.attempts.length;
    await guarded.deps.accountSessions.revokeAll(id);
    await guarded.deps.backchannelLogout.settled();
    t.is(receiver.attempts.length, before, 'nothing reached the loopback address');
    t.truthy(tokens.claims()!.sid);
    const warning = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'back-channel logout delivery failed');
    t.regex(String(warning?.reason), /special-use IP address/);
  } finally {
    await guarded.close();
  }
});

test.serial('a relying party that is down gets the token on a retry; one that stays down is logged and audited', async (t) => {
  const { browser, portal } = await signedInEverywhere();
  receiver.failNext('/portal2', 1);
  receiver.failNext('/app', 100);
  const attemptsBefore = receiver.attempts.filter((a) => a.path === '/app').length;
  const portal2Before = receiver.to('/portal2').length;

  const done = await logoutAtPortal(browser, portal.tokens.id_token!);
  t.is(done.url, 'http://localhost:8080/?state=bye-123', 'the user is not kept waiting for the retries');
  await receiver.waitFor('/portal2', portal2Before + 1);
  await server.deps.backchannelLogout.settled();

  t.is(receiver.attempts.filter((a) => a.path === '/app').length - attemptsBefore, 3, 'one attempt and two retries');
  const warnings = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'back-channel logout delivery failed');
  t.true(warnings.some((w) => w.client_id === 'portal2' && w.level === 'warn'));
  t.is(warnings.filter((w) => w.client_id === 'app').length, 3);
  t.false(logLines.some((line) => line.includes('eyJ')), 'no token in the logs');

  const audited = await server.deps.database.db.selectFrom('audit_log').selectAll().where('action', '=', 'backchannel_logout.failed').execute();
  t.is(audited.length, 1, 'giving up is audited once; the recovered delivery is not');
  t.like(audited[0], { actor_kind: 'system', target_kind: 'account', target_id: accountId, result: 'failure' });
  t.like(audited[0]!.details as Record<string, unknown>, { client_id: 'app', attempts: 3 });
});
