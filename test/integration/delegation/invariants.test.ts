import test from 'ava';
import { makePerson } from '../../helpers/account-centre.js';
import { asPortal, citizen, days, delegationApi, portal, portalLoginAs, seedEnterprise, type Citizen } from '../../helpers/delegation.js';
import { PASSWORD } from '../../helpers/accounts.js';
import { hidden } from '../../helpers/http-browser.js';
import { APP, beginAuthorization } from '../../helpers/oidc.js';
import { startServer, type TestServer } from '../../helpers/server.js';

let server: TestServer;
test.before(async () => { server = await startServer(); });
test.after.always(async () => { await server?.close(); });

/** A fresh enterprise whose representative granted B level 1 (re-delegable) for two portal items, 30 days. */
async function chain() {
  const rep = await citizen(server);
  const b = await citizen(server);
  const enterprise = await seedEnterprise(server, rep);
  const toB = await delegationApi(server, rep.token, 'POST', '', {
    enterprise_id: enterprise.id, grantee: { phone: b.phone }, scope: portal('tax.declare', 'social.insurance'), valid_until: days(30), may_redelegate: true,
  });
  if (toB.status !== 201) throw new Error(JSON.stringify(toB.body));
  return { rep, b, enterprise, toB: toB.body };
}

async function grantsOf(enterpriseId: string) {
  return server.deps.database.db.selectFrom('delegation_grants').selectAll().where('enterprise_id', '=', enterpriseId).execute();
}

function grant(from: Citizen, enterpriseId: string, to: { phone: string } | { id_number: string; name: string }, extra: Record<string, unknown> = {}) {
  return delegationApi(server, from.token, 'POST', '', { enterprise_id: enterpriseId, grantee: to, scope: portal('tax.declare'), valid_until: days(10), may_redelegate: false, ...extra });
}

test('a scope wider than the grantor\'s, an unknown item or a client without items is refused and changes nothing', async (t) => {
  const { rep, b, enterprise } = await chain();
  const c = await citizen(server);
  const wider = await grant(b, enterprise.id, { phone: c.phone }, { scope: portal('license.apply') });
  t.is(wider.status, 400);
  t.is(wider.body.error, 'delegation_scope_exceeded');
  t.truthy(wider.body.message_en);
  t.is((await grant(rep, enterprise.id, { phone: c.phone }, { scope: portal('no.such-item') })).body.error, 'delegation_scope_exceeded');
  t.is((await grant(rep, enterprise.id, { phone: c.phone }, { scope: [{ client_id: 'app', service_items: ['tax.declare'] }] })).body.error, 'delegation_scope_exceeded');
  t.is((await grantsOf(enterprise.id)).length, 1);
});

test('a period beyond the grantor\'s, or already over, is refused', async (t) => {
  const { rep, b, enterprise } = await chain();
  const c = await citizen(server);
  const longer = await grant(b, enterprise.id, { phone: c.phone }, { valid_until: days(31) });
  t.is(longer.status, 400);
  t.is(longer.body.error, 'delegation_period_exceeded');
  t.is((await grant(rep, enterprise.id, { phone: c.phone }, { valid_until: days(-1) })).body.error, 'delegation_period_exceeded');
  t.is((await grantsOf(enterprise.id)).length, 1);
});

test('an unregistered person, a wrong name or a banned account cannot receive a grant (one answer for all)', async (t) => {
  const { rep, enterprise } = await chain();
  const stranger = makePerson('未注册');
  t.is((await grant(rep, enterprise.id, { id_number: stranger.idNumber, name: stranger.name })).body.error, 'delegation_grantee_not_found');
  t.is((await grant(rep, enterprise.id, { phone: stranger.phone })).body.error, 'delegation_grantee_not_found');
  const c = await citizen(server, makePerson('真名'));
  t.is((await grant(rep, enterprise.id, { id_number: c.idNumber, name: '假名' })).body.error, 'delegation_grantee_not_found');
  await server.deps.accounts.update(c.accountId, { status: 'banned' });
  t.is((await grant(rep, enterprise.id, { id_number: c.idNumber, name: c.name })).body.error, 'delegation_grantee_not_found');
  t.is((await grantsOf(enterprise.id)).length, 1);
});

test('no grant to oneself, nor to someone already holding that scope (the representative included)', async (t) => {
  const { rep, b, enterprise } = await chain();
  const self = await grant(rep, enterprise.id, { phone: rep.phone });
  t.is(self.status, 400);
  t.is(self.body.error, 'delegation_self');
  const again = await grant(rep, enterprise.id, { phone: b.phone });
  t.is(again.status, 409);
  t.is(again.body.error, 'delegation_duplicate');
  t.is((await grant(b, enterprise.id, { phone: rep.phone })).body.error, 'delegation_duplicate');
  t.is((await grantsOf(enterprise.id)).length, 1);
});

test('only a holder who may re-delegate grants, approves or rejects; a request is approved (narrowed) once', async (t) => {
  const { rep, b, enterprise } = await chain();
  const c = await citizen(server);
  const toC = await grant(b, enterprise.id, { phone: c.phone }, { may_redelegate: false });
  t.is(toC.status, 201);
  const d = await citizen(server);
  t.is((await grant(c, enterprise.id, { phone: d.phone })).body.error, 'delegation_no_authority');

  const asker = await citizen(server);
  const request = await delegationApi(server, asker.token, 'POST', '/requests', { uscc: enterprise.uscc, scope: portal('tax.declare', 'social.insurance'), valid_until: days(20), reason: '代办纳税申报' });
  t.is(request.status, 201, JSON.stringify(request.body));
  const stranger = await citizen(server);
  for (const who of [stranger, c]) {
    const approve = await delegationApi(server, who.token, 'POST', `/requests/${request.body.id}/approve`, {});
    t.is(approve.status, 403);
    t.is(approve.body.error, 'delegation_no_authority');
    t.is((await delegationApi(server, who.token, 'POST', `/requests/${request.body.id}/reject`)).body.error, 'delegation_no_authority');
  }
  const wider = await delegationApi(server, rep.token, 'POST', `/requests/${request.body.id}/approve`, { scope: portal('license.apply') });
  t.is(wider.body.error, 'delegation_scope_exceeded', 'approving narrows only');
  const listed = await delegationApi(server, rep.token, 'GET', '/requests');
  t.true(listed.body.to_decide.some((r: { id: string }) => r.id === request.body.id));
  const approved = await delegationApi(server, rep.token, 'POST', `/requests/${request.body.id}/approve`, { scope: portal('tax.declare'), valid_until: days(5) });
  t.is(approved.status, 201, JSON.stringify(approved.body));
  t.is(approved.body.level, 1);
  t.deepEqual(approved.body.scope, portal('tax.declare'));
  t.is((await delegationApi(server, rep.token, 'POST', `/requests/${request.body.id}/approve`, {})).body.error, 'delegation_request_decided');
  const mine = await delegationApi(server, asker.token, 'GET', '/requests');
  t.is(mine.body.mine[0].status, 'approved');
});

test('acting on a cancelled grant is refused: no change, no second cancel, no grant under it', async (t) => {
  const { rep, b, enterprise, toB } = await chain();
  t.is((await delegationApi(server, rep.token, 'POST', `/${toB.id}/cancel`, {})).status, 200);
  const c = await citizen(server);
  const under = await grant(b, enterprise.id, { phone: c.phone }, { parent_id: toB.id });
  t.is(under.status, 409);
  t.is(under.body.error, 'delegation_grant_inactive');
  t.is((await delegationApi(server, rep.token, 'PATCH', `/${toB.id}`, { valid_until: days(20) })).body.error, 'delegation_grant_inactive');
  t.is((await delegationApi(server, rep.token, 'POST', `/${toB.id}/cancel`, {})).body.error, 'delegation_grant_inactive');
  // Without naming it, B no longer holds any authority.
  t.is((await grant(b, enterprise.id, { phone: c.phone })).body.error, 'delegation_no_authority');
});

test('an expired grant gives no authority: not offered at login, no grant under it, no change', async (t) => {
  const { rep, b, enterprise, toB } = await chain();
  await server.deps.database.db.updateTable('delegation_grants')
    .set({ valid_from: new Date(Date.now() - 3 * 86_400_000), valid_until: new Date(Date.now() - 86_400_000) }).where('id', '=', toB.id).execute();
  const c = await citizen(server);
  t.is((await grant(b, enterprise.id, { phone: c.phone }, { parent_id: toB.id })).body.error, 'delegation_grant_inactive');
  t.is((await delegationApi(server, rep.token, 'PATCH', `/${toB.id}`, { scope: portal('tax.declare') })).body.error, 'delegation_grant_inactive');
  t.deepEqual(await server.deps.acting.options(b.accountId, 'portal'), []);
  const view = await delegationApi(server, b.token, 'GET', `/${toB.id}`);
  t.is(view.body.grant.status, 'expired');
});

test('expiry is enforced at every token issue: a refresh after the grant lapses fails, userinfo refuses', async (t) => {
  const { b, enterprise, toB } = await chain();
  const login = await portalLoginAs(server, b.phone, (offered) => offered[0]!);
  t.deepEqual(login.offered, [`${enterprise.id}:${toB.id}`]);
  t.is(login.tokens.status, 200);
  await server.deps.database.db.updateTable('delegation_grants')
    .set({ valid_from: new Date(Date.now() - 3 * 86_400_000), valid_until: new Date(Date.now() - 1000) }).where('id', '=', toB.id).execute();
  const refreshed = await asPortal(server, '/token', { grant_type: 'refresh_token', refresh_token: login.tokens.body.refresh_token! });
  t.is(refreshed.status, 400);
  t.is(refreshed.body.error, 'invalid_grant');
  const info = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${login.tokens.body.access_token}` } });
  t.is(info.status, 401);
  t.false((await asPortal(server, '/token/introspection', { token: login.tokens.body.access_token! })).body.active);
});

test('change: extend within the parent, never beyond it, and never leaving a grant below wider than its parent', async (t) => {
  const { rep, b, enterprise, toB } = await chain();
  const c = await citizen(server);
  const toC = await grant(b, enterprise.id, { phone: c.phone }, { valid_until: days(10), scope: portal('tax.declare') });
  const extended = await delegationApi(server, b.token, 'PATCH', `/${toC.body.id}`, { version: toC.body.version, valid_until: days(25), scope: portal('tax.declare', 'social.insurance') });
  t.is(extended.status, 200, JSON.stringify(extended.body));
  t.is(extended.body.version, toC.body.version + 1);
  t.is((await delegationApi(server, b.token, 'PATCH', `/${toC.body.id}`, { valid_until: days(35) })).body.error, 'delegation_period_exceeded');
  t.is((await delegationApi(server, c.token, 'PATCH', `/${toC.body.id}`, { valid_until: days(12) })).body.error, 'delegation_no_authority', 'a grantee cannot change their own grant');
  const narrowB = await delegationApi(server, rep.token, 'PATCH', `/${toB.id}`, { scope: portal('license.apply') });
  t.is(narrowB.body.error, 'delegation_scope_exceeded');
  const history = await delegationApi(server, b.token, 'GET', `/${toC.body.id}`);
  t.deepEqual(history.body.history.map((h: { action: string }) => h.action), ['grant', 'change']);
});

test('two operations racing on one grant: one wins, the other gets a clear error', async (t) => {
  const { rep, b, enterprise, toB } = await chain();
  const changes = await Promise.all([days(20), days(25)].map((until) => delegationApi(server, rep.token, 'PATCH', `/${toB.id}`, { version: toB.version, valid_until: until })));
  t.deepEqual(changes.map((r) => r.status).sort(), [200, 409]);
  t.is(changes.find((r) => r.status === 409)!.body.error, 'delegation_conflict');
  const row = await server.deps.database.db.selectFrom('delegation_grants').selectAll().where('id', '=', toB.id).executeTakeFirstOrThrow();
  t.is(row.version, toB.version + 1);

  const cancels = await Promise.all([rep, b].map((who) => delegationApi(server, who.token, 'POST', `/${toB.id}/cancel`, {})));
  t.deepEqual(cancels.map((r) => r.status).sort(), [200, 409]);
  t.is(cancels.find((r) => r.status === 409)!.body.error, 'delegation_grant_inactive');

  const c = await citizen(server);
  const grants = await Promise.all([1, 2].map(() => grant(rep, enterprise.id, { phone: c.phone })));
  t.deepEqual(grants.map((r) => r.status).sort(), [201, 409]);
  t.is(grants.find((r) => r.status === 409)!.body.error, 'delegation_duplicate');
});

test('cancelling a grant and one below it at the same moment: both end revoked, no deadlock, no server error', async (t) => {
  const { rep, b, enterprise, toB } = await chain();
  const c = await citizen(server);
  const toC = await grant(b, enterprise.id, { phone: c.phone });
  const results = await Promise.all([
    delegationApi(server, rep.token, 'POST', `/${toB.id}/cancel`, {}),
    delegationApi(server, b.token, 'POST', `/${toC.body.id}/cancel`, {}),
  ]);
  // The loser is told why: its grant is already revoked (409), or B's authority above it is gone (403).
  for (const result of results) t.true([200, 403, 409].includes(result.status), JSON.stringify(result.body));
  t.deepEqual((await grantsOf(enterprise.id)).map((g) => g.status), ['revoked', 'revoked']);
});

test('only those a grant concerns see it; a delegate sees their own part of the tree', async (t) => {
  const { rep, b, enterprise, toB } = await chain();
  const stranger = await citizen(server);
  t.is((await delegationApi(server, stranger.token, 'GET', `/${toB.id}`)).status, 404);
  t.is((await delegationApi(server, stranger.token, 'GET', `/enterprises/${enterprise.id}`)).body.error, 'delegation_no_authority');
  const c = await citizen(server);
  await grant(b, enterprise.id, { phone: c.phone });
  const asB = await delegationApi(server, b.token, 'GET', `/enterprises/${enterprise.id}`);
  t.deepEqual(asB.body.grants.map((g: { level: number }) => g.level), [1, 2]);
  const overview = await delegationApi(server, b.token, 'GET', '');
  t.deepEqual(overview.body.enterprises.map((e: { role: string }) => e.role), ['delegate']);
  t.false(JSON.stringify(overview.body).includes(rep.phone));
  t.is((await delegationApi(server, rep.token, 'POST', '', { enterprise_id: enterprise.id })).body.error, 'invalid_input');
  t.is((await delegationApi(server, rep.token, 'GET', '')).status, 200);
  t.is((await fetch(`${server.url}/api/v1/delegations`)).status, 401);
});

test('a client outside a grant\'s scope is never offered the enterprise, and a forged choice is refused', async (t) => {
  const { enterprise, b, toB } = await chain();
  const auth = await beginAuthorization(server.url, APP, { scope: 'openid', prompt: 'select_account' });
  const page = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: b.phone, password: PASSWORD });
  t.regex(page.url, /\/identity$/);
  t.notRegex(page.body, /data-enterprise-option/);
  const forged = await auth.browser.post(new URL(page.url).pathname, { csrf: hidden(page.body, 'csrf'), choice: `${enterprise.id}:${toB.id}` });
  t.is(/data-error-code="([^"]+)"/.exec(forged.body)?.[1], 'identity_choice_invalid');
  t.deepEqual(await server.deps.acting.options(b.accountId, 'app'), []);
  t.is((await server.deps.acting.options(b.accountId, 'portal')).length, 1);
});
