import test from 'ava';
import { ZHANG_SAN } from '../../helpers/accounts.js';
import { CHEN_WEI, LIN_JIANHUA, LI_NA, PASSWORD, asPortal, citizen, days, delegationApi, jwtClaims, portal, seedEnterprise } from '../../helpers/delegation.js';
import { ENTERPRISES, bearerApi, registerAsRepresentative } from '../../helpers/enterprises.js';
import { hidden } from '../../helpers/http-browser.js';
import { APP, PORTAL, beginAuthorization, codeFrom, exchangeCode, throughConsent } from '../../helpers/oidc.js';
import { makePerson } from '../../helpers/account-centre.js';
import { startServer, type TestServer } from '../../helpers/server.js';

let server: TestServer;
test.before(async () => { server = await startServer(); });
test.after.always(async () => { await server?.close(); });

const portalPost = (path: '/token' | '/token/introspection', form: Record<string, string>) => asPortal(server, path, form);

async function userinfo(accessToken: string) {
  const response = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: response.status, body: response.status === 200 ? await response.json() as Record<string, unknown> : {} };
}

test('representative → B (level 1, re-delegable, two items, 30 days) → C (level 2, one item) → D (level 3); level 4 refused; C acts for the enterprise at the portal only; cancelling B stops C at once', async (t) => {
  const a = await citizen(server, ZHANG_SAN);
  const b = await citizen(server, LI_NA);
  const c = await citizen(server, CHEN_WEI);
  const d = await citizen(server, LIN_JIANHUA);
  const e = await citizen(server);
  // Registered as the representative would: by USCC and name, checked against the registry, confirmed by SMS.
  const enterprise = { ...ENTERPRISES.fuzhouTech, id: await registerAsRepresentative(server, bearerApi(server, a.token), ENTERPRISES.fuzhouTech, ZHANG_SAN.phone) };

  const toB = await delegationApi(server, a.token, 'POST', '', {
    enterprise_id: enterprise.id, grantee: { id_number: b.idNumber, name: b.name }, scope: portal('tax.declare', 'social.insurance'), valid_until: days(30), may_redelegate: true,
  });
  t.is(toB.status, 201, JSON.stringify(toB.body));
  t.is(toB.body.level, 1);
  t.true(toB.body.may_redelegate);

  const toC = await delegationApi(server, b.token, 'POST', '', {
    enterprise_id: enterprise.id, grantee: { phone: c.phone }, scope: portal('tax.declare'), valid_until: days(20), may_redelegate: true,
  });
  t.is(toC.status, 201, JSON.stringify(toC.body));
  t.is(toC.body.level, 2);
  t.is(toC.body.parent_id, toB.body.id);

  const toD = await delegationApi(server, c.token, 'POST', '', {
    enterprise_id: enterprise.id, grantee: { id_number: d.idNumber, name: d.name }, scope: portal('tax.declare'), valid_until: days(10), may_redelegate: true,
  });
  t.is(toD.status, 201, JSON.stringify(toD.body));
  t.is(toD.body.level, 3);
  t.false(toD.body.may_redelegate, 'level 3 can never re-delegate');

  const fourth = await delegationApi(server, d.token, 'POST', '', {
    enterprise_id: enterprise.id, parent_id: toD.body.id, grantee: { phone: e.phone }, scope: portal('tax.declare'), valid_until: days(5), may_redelegate: false,
  });
  t.is(fourth.status, 400);
  t.is(fourth.body.error, 'delegation_level_exceeded');

  // The representative sees the whole tree.
  const tree = await delegationApi(server, a.token, 'GET', `/enterprises/${enterprise.id}`);
  t.deepEqual(tree.body.grants.map((g: { level: number }) => g.level), [1, 2, 3]);

  // C signs in to the portal and is offered the enterprise.
  const auth = await beginAuthorization(server.url, PORTAL, { scope: 'openid profile offline_access', prompt: 'consent' });
  const choice = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: c.phone, password: PASSWORD });
  t.regex(choice.url, /\/interaction\/[^/]+\/identity$/);
  const offered = [...choice.body.matchAll(/data-enterprise-option="([^"]+)"/g)].map((m) => m[1]);
  t.deepEqual(offered, [`${enterprise.id}:${toC.body.id}`]);
  t.true(choice.body.includes(enterprise.name));
  t.false(choice.body.includes(enterprise.uscc), 'the credit code is shown masked');
  const chosen = await auth.browser.post(new URL(choice.url).pathname, { csrf: hidden(choice.body, 'csrf'), choice: offered[0]! });
  const done = await throughConsent(auth.browser, chosen);
  const tokens = await exchangeCode(server.url, PORTAL, codeFrom(done.url, auth.state), auth.verifier);
  t.is(tokens.status, 200, JSON.stringify(tokens.body));

  const id = jwtClaims(tokens.body.id_token!);
  t.is(id.sub, c.accountId, 'sub is still the person');
  t.is(id.entity_type, 'legal');
  t.deepEqual(id.org, { uscc: enterprise.uscc, name: enterprise.name, type: 'company' });
  t.is(id.authority.role, 'delegate');
  t.is(id.authority.level, 2);
  t.deepEqual(id.authority.service_items, ['tax.declare']);
  t.is(id.authority.valid_until, toC.body.valid_until);

  const info = await userinfo(tokens.body.access_token!);
  t.is(info.status, 200);
  t.is(info.body.sub, c.accountId);
  t.is(info.body.entity_type, 'legal');
  t.deepEqual(info.body.authority, id.authority);
  t.deepEqual(info.body.org, id.org);

  const introspected = await portalPost('/token/introspection', { token: tokens.body.access_token! });
  t.true(introspected.body.active);
  t.is(introspected.body.entity_type, 'legal');
  t.is((introspected.body.authority as { level: number }).level, 2);

  // The app is outside C's grant: no choice, C signs in as themselves.
  const app = await beginAuthorization(server.url, APP, { scope: 'openid' });
  const appDone = await throughConsent(app.browser, await app.browser.post(`/interaction/${app.uid}/login/password`, { csrf: app.csrf, identifier: c.phone, password: PASSWORD }));
  t.true(appDone.url.startsWith(APP.redirect_uri), `the app is never offered the enterprise: ${appDone.url}`);
  const appTokens = await exchangeCode(server.url, APP, codeFrom(appDone.url, app.state), app.verifier);
  t.is(jwtClaims(appTokens.body.id_token!).entity_type, undefined, 'a person is not a legal entity (entity_type "natural" comes with the realname scope)');
  t.is(jwtClaims(appTokens.body.id_token!).org, undefined);

  // Before the cancellation the refresh token works...
  const refreshed = await portalPost('/token', { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token! });
  t.is(refreshed.status, 200, JSON.stringify(refreshed.body));
  const refreshToken = String(refreshed.body.refresh_token ?? tokens.body.refresh_token);
  const accessToken = String(refreshed.body.access_token);

  // ... the representative cancels B's grant, and with it C's and D's.
  const cancelled = await delegationApi(server, a.token, 'POST', `/${toB.body.id}/cancel`, {});
  t.is(cancelled.status, 200, JSON.stringify(cancelled.body));
  t.deepEqual(new Set(cancelled.body.revoked), new Set([toB.body.id, toC.body.id, toD.body.id]));

  const after = await portalPost('/token', { grant_type: 'refresh_token', refresh_token: refreshToken });
  t.is(after.status, 400);
  t.is(after.body.error, 'invalid_grant');
  t.false((await portalPost('/token/introspection', { token: accessToken })).body.active);
  t.false((await portalPost('/token/introspection', { token: refreshToken })).body.active);
  t.is((await userinfo(accessToken)).status, 401);

  // The history of C's grant records the cascade; the audit log every operation.
  const history = await delegationApi(server, c.token, 'GET', `/${toC.body.id}`);
  t.deepEqual(history.body.history.map((h: { action: string }) => h.action), ['grant', 'cancel']);
  t.is(history.body.grant.status, 'revoked');
  const audit = await server.deps.database.db.selectFrom('audit_log').select(['action', 'result']).where('action', 'like', 'delegation.%').execute();
  t.is(audit.filter((r) => r.action === 'delegation.grant' && r.result === 'success').length, 3);
  t.is(audit.filter((r) => r.action === 'delegation.grant' && r.result === 'denied').length, 1);
  t.is(audit.filter((r) => r.action === 'delegation.cancel').length, 1);
  const choices = await server.deps.database.db.selectFrom('audit_log').selectAll().where('action', '=', 'login.identity_choice').where('actor_id', '=', c.accountId).execute();
  t.is(choices.length, 1);
});

test('a client may ask for a kind of identity: entity_type=natural offers no enterprise, entity_type=legal only enterprises; prompt=select_account chooses again', async (t) => {
  const rep = await citizen(server, makePerson('王五'));
  const enterprise = await seedEnterprise(server, rep);

  // Natural only: straight through, a natural-person token.
  const natural = await beginAuthorization(server.url, PORTAL, { scope: 'openid', entity_type: 'natural' });
  const naturalDone = await natural.browser.post(`/interaction/${natural.uid}/login/password`, { csrf: natural.csrf, identifier: rep.phone, password: PASSWORD });
  t.true(naturalDone.url.startsWith(PORTAL.redirect_uri));

  // Legal only, in the same browser session: the choice has no "myself".
  const legal = await beginAuthorization(server.url, PORTAL, { scope: 'openid', entity_type: 'legal' }, natural.browser);
  t.regex(legal.page, /data-enterprise-option/);
  t.notRegex(legal.page, /value="self"/);
  const refused = await legal.browser.post(`/interaction/${legal.uid}/identity`, { csrf: legal.csrf, choice: 'self' });
  t.is(/data-error-code="([^"]+)"/.exec(refused.body)?.[1], 'identity_choice_invalid');
  const legalDone = await legal.browser.post(`/interaction/${legal.uid}/identity`, { csrf: hidden(refused.body, 'csrf'), choice: `${enterprise.id}:root` });
  const legalTokens = await exchangeCode(server.url, PORTAL, codeFrom(legalDone.url, legal.state), legal.verifier);
  const claims = jwtClaims(legalTokens.body.id_token!);
  t.is(claims.authority.role, 'legal_representative');
  t.is(claims.authority.level, 0);
  t.deepEqual(claims.authority.service_items, ['tax.declare', 'social.insurance', 'license.apply']);

  // Without logging out: prompt=select_account leads back to the choice, and "myself" gives a natural token.
  const again = await beginAuthorization(server.url, PORTAL, { scope: 'openid', prompt: 'select_account' }, natural.browser);
  t.regex(again.page, /value="self"/);
  const selfDone = await again.browser.post(`/interaction/${again.uid}/identity`, { csrf: again.csrf, choice: 'self' });
  const selfTokens = await exchangeCode(server.url, PORTAL, codeFrom(selfDone.url, again.state), again.verifier);
  t.is(jwtClaims(selfTokens.body.id_token!).entity_type, undefined);
  t.is(jwtClaims(selfTokens.body.id_token!).org, undefined);
  // The session now acts as the person for the portal: its earlier session-bound token as the enterprise ends.
  const info = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${legalTokens.body.access_token}` } });
  t.is(info.status, 401);
});
