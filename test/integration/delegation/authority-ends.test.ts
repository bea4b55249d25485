import { readFileSync } from 'node:fs';
import test from 'ava';
import { decodeJwt } from 'jose';
import type { Enterprise } from '../../../src/ports/registries/index.js';
import { citizen, days, delegationApi, makeUscc, PASSWORD, portal, seedEnterprise, type Citizen } from '../../helpers/delegation.js';
import { registerAnswering } from '../../helpers/enterprises.js';
import { hidden } from '../../helpers/http-browser.js';
import { APP, PORTAL, beginAuthorization, codeFrom, throughConsent } from '../../helpers/oidc.js';
import { LOCAL_RELYING_PARTIES, LogoutReceiver, writeClientsFile } from '../../helpers/relying-party.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { createStaff, staffSignIn } from '../../helpers/staff.js';

/**
 * Authority does not outlive itself: a JWT access token acting for an enterprise expires
 * with the grant behind it; once the grant ends or the register names another
 * representative, the tokens issued under it open none of our APIs; cancelling a grant,
 * deregistering the enterprise or a new representative sends the relying parties holding
 * logins under it a back-channel logout; and a name the register changes reaches `org`.
 * The tests run one after another: they count what one receiver of logout tokens got.
 */

const API = 'https://api.gov.example/';

let server: TestServer;
let receiver: LogoutReceiver;
/** What the business register answers, by code; the tests change it. */
const register = new Map<string, Enterprise>();

test.before(async () => {
  receiver = await LogoutReceiver.start();
  // The bundled clients, with the portal's back-channel endpoint here and the app taking part in delegation.
  const clients = (JSON.parse(readFileSync('config/clients.json', 'utf8')) as Array<Record<string, any>>).map((client) => {
    if (client.client_id === 'portal') return { ...client, backchannel_logout_uri: receiver.uri('/portal') };
    if (client.client_id === 'app') return { ...client, access_policy: { ...client.access_policy, service_items: [{ code: 'enterprise.manage', name: '企业事务' }] } };
    return client;
  });
  server = await startServer({ CLIENTS_FILE: writeClientsFile(clients), ...LOCAL_RELYING_PARTIES });
  registerAnswering(server, register);
});
test.after.always(async () => {
  await server?.close();
  await receiver?.close();
});

/** An enterprise seeded with `rep` as representative, and the register saying so. */
async function enterpriseOf(rep: Citizen) {
  const enterprise = await seedEnterprise(server, rep);
  register.set(enterprise.uscc, {
    uscc: enterprise.uscc, name: enterprise.name, type: 'company', status: 'active',
    legalRepresentative: { name: rep.name, idNumber: rep.idNumber, phone: rep.phone },
  });
  return enterprise;
}

/** A login of `who` at `client` that chooses the option `pick` selects on the identity page; the token answer. */
async function loginActingAs(who: Citizen, client: typeof PORTAL | typeof APP, extra: Record<string, string>, pick: (options: string[]) => string) {
  const auth = await beginAuthorization(server.url, client, { prompt: 'consent', ...extra });
  const page = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: who.phone, password: PASSWORD });
  const options = [...page.body.matchAll(/data-enterprise-option="([^"]+)"/g)].map((m) => m[1]!);
  const chosen = await auth.browser.post(new URL(page.url).pathname, { csrf: hidden(page.body, 'csrf'), choice: pick(options) });
  const done = await throughConsent(auth.browser, chosen);
  const body = new URLSearchParams({ grant_type: 'authorization_code', code: codeFrom(done.url, auth.state), redirect_uri: client.redirect_uri, code_verifier: auth.verifier, ...(extra.resource ? { resource: extra.resource } : {}) });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if ('secret' in client) headers.authorization = `Basic ${Buffer.from(`${client.client_id}:${client.secret}`).toString('base64')}`;
  else body.set('client_id', client.client_id);
  const response = await fetch(`${server.url}/token`, { method: 'POST', headers, body });
  const answer = await response.json() as Record<string, string>;
  if (response.status !== 200) throw new Error(`token: ${JSON.stringify(answer)}`);
  return answer;
}

/** Waits (within ava's timeout) until every logout job an act left has run. */
async function outboxEmptied(): Promise<void> {
  while (await server.deps.logouts.waiting() > 0) await new Promise((resolve) => setTimeout(resolve, 50));
}

const enterpriseOption = (enterpriseId: string) => (options: string[]) => options.find((o) => o.startsWith(enterpriseId))!;

async function grantTo(rep: Citizen, enterpriseId: string, to: Citizen, validUntil: string, items = portal('tax.declare')) {
  const granted = await delegationApi(server, rep.token, 'POST', '', { enterprise_id: enterpriseId, grantee: { phone: to.phone }, scope: items, valid_until: validUntil, may_redelegate: false });
  if (granted.status !== 201) throw new Error(JSON.stringify(granted.body));
  return granted.body as { id: string; valid_until: string };
}

test.serial('a JWT access token acting under a delegation expires when the grant does; one acting by root authority keeps its full lifetime', async (t) => {
  const rep = await citizen(server);
  const delegate = await citizen(server);
  const enterprise = await enterpriseOf(rep);
  const until = new Date(Date.now() + 3 * 60_000);
  until.setMilliseconds(0);
  await grantTo(rep, enterprise.id, delegate, until.toISOString());

  const asDelegate = await loginActingAs(delegate, PORTAL, { scope: 'openid profile services.read', resource: API }, enterpriseOption(enterprise.id));
  const capped = decodeJwt(asDelegate.access_token!);
  t.is(capped.entity_type, 'legal');
  t.is(capped.exp, Math.floor(until.getTime() / 1000), 'exp is the grant\'s end, not iat + 600');

  const asRep = await loginActingAs(rep, PORTAL, { scope: 'openid profile services.read', resource: API }, enterpriseOption(enterprise.id));
  const full = decodeJwt(asRep.access_token!);
  t.is((full.authority as { role: string }).role, 'legal_representative');
  t.is(full.exp! - full.iat!, 600);
});

test.serial('after the grant ends, the app\'s token acting for the enterprise opens neither /api/v1/enterprises nor /api/v1/delegations', async (t) => {
  const rep = await citizen(server);
  const delegate = await citizen(server);
  const enterprise = await enterpriseOf(rep);
  const grant = await grantTo(rep, enterprise.id, delegate, days(30), [{ client_id: 'app', service_items: ['enterprise.manage'] }]);
  const tokens = await loginActingAs(delegate, APP, { scope: 'openid account' }, enterpriseOption(enterprise.id));
  const bearer = { authorization: `Bearer ${tokens.access_token}` };
  t.is((await fetch(`${server.url}/api/v1/enterprises`, { headers: bearer })).status, 200);
  t.is((await fetch(`${server.url}/api/v1/delegations`, { headers: bearer })).status, 200);

  await server.deps.database.db.updateTable('delegation_grants')
    .set({ valid_from: new Date(Date.now() - 3 * 86_400_000), valid_until: new Date(Date.now() - 1000) }).where('id', '=', grant.id).execute();
  const calls = await Promise.all(['/api/v1/enterprises', '/api/v1/delegations', '/api/v1/account'].map((path) => fetch(`${server.url}${path}`, { headers: bearer })));
  t.deepEqual(calls.map((r) => r.status), [401, 401, 401]);
  t.is((await calls[0]!.json() as { error: string }).error, 'unauthenticated');
});

test.serial('a new representative on the register ends the old one\'s tokens and logins in the enterprise\'s name, with a back-channel logout', async (t) => {
  const rep = await citizen(server);
  const successor = await citizen(server);
  const enterprise = await enterpriseOf(rep);
  const app = await loginActingAs(rep, APP, { scope: 'openid account' }, enterpriseOption(enterprise.id));
  const atPortal = await loginActingAs(rep, PORTAL, { scope: 'openid profile' }, enterpriseOption(enterprise.id));
  const sid = decodeJwt(atPortal.id_token!).sid;
  const bearer = { authorization: `Bearer ${app.access_token}` };
  t.is((await fetch(`${server.url}/api/v1/enterprises`, { headers: bearer })).status, 200);

  register.set(enterprise.uscc, { ...register.get(enterprise.uscc)!, legalRepresentative: { name: successor.name, idNumber: successor.idNumber, phone: successor.phone } });
  const before = receiver.to('/portal').length;
  t.is((await server.deps.enterprises.refreshFromRegistry(enterprise.id)).outcome, 'representative_changed');

  t.is((await fetch(`${server.url}/api/v1/enterprises`, { headers: bearer })).status, 401);
  t.is((await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${atPortal.access_token}` } })).status, 401);
  const told = (await receiver.waitFor('/portal', before + 1)).slice(before).map((d) => decodeJwt(d.logoutToken));
  t.true(told.some((claims) => claims.sid === sid && claims.sub === rep.accountId), JSON.stringify(told));
});

test.serial('cancelling a grant and deregistering an enterprise each send the portal a back-channel logout for the logins under them, naming their session', async (t) => {
  const rep = await citizen(server);
  const delegate = await citizen(server);
  const enterprise = await enterpriseOf(rep);
  const grant = await grantTo(rep, enterprise.id, delegate, days(30));
  const underGrant = await loginActingAs(delegate, PORTAL, { scope: 'openid profile offline_access' }, enterpriseOption(enterprise.id));
  const sid = decodeJwt(underGrant.id_token!).sid;

  let before = receiver.to('/portal').length;
  t.is((await delegationApi(server, rep.token, 'POST', `/${grant.id}/cancel`, {})).status, 200);
  const cancelled = (await receiver.waitFor('/portal', before + 1)).slice(before).map((d) => decodeJwt(d.logoutToken));
  t.deepEqual(cancelled.map((claims) => [claims.sub, claims.sid]), [[delegate.accountId, sid]]);

  // The representative's own login in the enterprise's name ends when staff deregister it.
  const byRoot = await loginActingAs(rep, PORTAL, { scope: 'openid profile' }, enterpriseOption(enterprise.id));
  const rootSid = decodeJwt(byRoot.id_token!).sid;
  before = receiver.to('/portal').length;
  const agent = await staffSignIn(server, await createStaff(server.deps, 'agent-authority-ends', ['agent']));
  await agent.api('GET', `/enterprises?q=${enterprise.uscc}`);
  t.is((await agent.api('POST', `/enterprises/${enterprise.id}/deregister`, { reason: '营业执照已注销' })).status, 200);
  const deregistered = (await receiver.waitFor('/portal', before + 1)).slice(before).map((d) => decodeJwt(d.logoutToken));
  t.true(deregistered.some((claims) => claims.sub === rep.accountId && claims.sid === rootSid), JSON.stringify(deregistered));
});

test.serial('a change that takes an item or time away ends the logins acting under the grant, with a back-channel logout; one that only adds ends none', async (t) => {
  const rep = await citizen(server);
  const delegate = await citizen(server);
  const enterprise = await enterpriseOf(rep);
  const grant = await grantTo(rep, enterprise.id, delegate, days(30), portal('tax.declare', 'social.insurance'));
  const change = (body: Record<string, unknown>) => delegationApi(server, rep.token, 'PATCH', `/${grant.id}`, body);
  const loginUnderGrant = async () => {
    const tokens = await loginActingAs(delegate, PORTAL, { scope: 'openid profile offline_access' }, enterpriseOption(enterprise.id));
    return { tokens, sid: decodeJwt(tokens.id_token!).sid, me: () => fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } }) };
  };
  const refresh = (token: string) => fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${PORTAL.client_id}:${PORTAL.secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
  });

  const first = await loginUnderGrant();
  let before = receiver.to('/portal').length;
  // The same end typed to the minute, as the page sends it, keeps the exact end.
  const toTheMinute = new Date(grant.valid_until);
  toTheMinute.setSeconds(0, 0);
  const unchanged = await change({ valid_until: toTheMinute.toISOString() });
  t.is(unchanged.body.valid_until, grant.valid_until);
  t.is((await change({ valid_until: days(40) })).status, 200);
  t.is((await first.me()).status, 200, 'a later end takes nothing away');
  t.is(receiver.to('/portal').length, before);

  t.is((await change({ scope: portal('tax.declare') })).status, 200);
  const narrowed = (await receiver.waitFor('/portal', before + 1)).slice(before).map((d) => decodeJwt(d.logoutToken));
  t.deepEqual(narrowed.map((claims) => [claims.sub, claims.sid]), [[delegate.accountId, first.sid]]);
  t.is((await first.me()).status, 401);
  t.is((await refresh(first.tokens.refresh_token!)).status, 400, 'the offline login ends too');

  const second = await loginUnderGrant();
  before = receiver.to('/portal').length;
  t.is((await change({ valid_until: days(20) })).status, 200);
  const shortened = (await receiver.waitFor('/portal', before + 1)).slice(before).map((d) => decodeJwt(d.logoutToken));
  t.deepEqual(shortened.map((claims) => [claims.sub, claims.sid]), [[delegate.accountId, second.sid]]);
  t.is((await second.me()).status, 401);
  const audited = await server.deps.database.db.selectFrom('audit_log').select(['details']).where('action', '=', 'delegation.change').where('target_id', '=', grant.id).orderBy('seq').execute();
  t.deepEqual(audited.map((row) => (row.details as { logins_ended: boolean }).logins_ended), [false, false, true, true]);
});

test.serial('twenty narrowings of one grant at once: the grant is narrowed once, and the login under it is told once', async (t) => {
  const rep = await citizen(server);
  const delegate = await citizen(server);
  const enterprise = await enterpriseOf(rep);
  const grant = await grantTo(rep, enterprise.id, delegate, days(30), portal('tax.declare', 'social.insurance'));
  const login = await loginActingAs(delegate, PORTAL, { scope: 'openid profile' }, enterpriseOption(enterprise.id));
  const sid = decodeJwt(login.id_token!).sid;
  const before = receiver.to('/portal').length;
  const answers = await Promise.all(Array.from({ length: 20 }, () => delegationApi(server, rep.token, 'PATCH', `/${grant.id}`, { scope: portal('tax.declare') })));
  // Changes of one grant are serialised: each either applies or meets the one before it.
  t.true(answers.every((answer) => answer.status === 200 || answer.body.error === 'delegation_conflict'), JSON.stringify(answers.map((a) => a.body.error ?? a.status)));
  const audited = await server.deps.database.db.selectFrom('audit_log').select(['details']).where('action', '=', 'delegation.change').where('target_id', '=', grant.id).where('result', '=', 'success').execute();
  t.is(audited.filter((row) => (row.details as { logins_ended: boolean }).logins_ended).length, 1, 'one change took the item away');
  // Nothing is left that could still send one: no logout job waits in the outbox, no delivery is under way or due for a retry.
  await outboxEmptied();
  await server.deps.backchannelLogout.settled();
  const told = receiver.to('/portal').slice(before).map((d) => decodeJwt(d.logoutToken));
  t.deepEqual(told.map((claims) => [claims.sub, claims.sid]), [[delegate.accountId, sid]], 'told once, and no second logout token follows');
});

test.serial('a name the register changes reaches the enterprise and the org claim when its representative next chooses it at login', async (t) => {
  const rep = await citizen(server);
  const enterprise = await enterpriseOf(rep);
  register.set(enterprise.uscc, { ...register.get(enterprise.uscc)!, name: '福州新名称科技有限公司' });
  // Choosing the enterprise at login asks the register again and applies its answer.
  const tokens = await loginActingAs(rep, PORTAL, { scope: 'openid profile' }, enterpriseOption(enterprise.id));
  t.like(decodeJwt(tokens.id_token!).org as object, { uscc: enterprise.uscc, name: '福州新名称科技有限公司' });
  const held = await fetch(`${server.url}/api/v1/enterprises/${enterprise.id}`, { headers: { authorization: `Bearer ${rep.token}` } });
  t.like(await held.json(), { uscc: enterprise.uscc, name: '福州新名称科技有限公司' });
  const renamed = await server.deps.database.db.selectFrom('audit_log').select(['details']).where('action', '=', 'enterprise.registry_name').where('target_id', '=', enterprise.id).execute();
  t.like(renamed.map((row) => row.details), [{ from: enterprise.name, to: '福州新名称科技有限公司' }]);
});

test.serial('the register marking an enterprise revoked ends every login in its name, its delegates\' included, with a back-channel logout', async (t) => {
  const rep = await citizen(server);
  const delegate = await citizen(server);
  const enterprise = await enterpriseOf(rep);
  await grantTo(rep, enterprise.id, delegate, days(30));
  const underGrant = await loginActingAs(delegate, PORTAL, { scope: 'openid profile' }, enterpriseOption(enterprise.id));
  const sid = decodeJwt(underGrant.id_token!).sid;
  const before = receiver.to('/portal').length;
  register.set(enterprise.uscc, { ...register.get(enterprise.uscc)!, status: 'revoked' });
  t.is((await server.deps.enterprises.refreshFromRegistry(enterprise.id)).outcome, 'status_changed');
  const told = (await receiver.waitFor('/portal', before + 1)).slice(before).map((d) => decodeJwt(d.logoutToken));
  t.true(told.some((claims) => claims.sub === delegate.accountId && claims.sid === sid), JSON.stringify(told));
  t.is((await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${underGrant.access_token}` } })).status, 401);
  // Asking the register again changes nothing and ends nothing twice.
  const after = receiver.to('/portal').length;
  t.is((await server.deps.enterprises.refreshFromRegistry(enterprise.id)).outcome, 'unchanged');
  t.is(receiver.to('/portal').length, after);
});

test.serial('a representative the register has since replaced cannot reject an application made while they held the seat', async (t) => {
  const rep = await citizen(server);
  const successor = await citizen(server);
  const applicant = await citizen(server);
  // An enterprise on the register that is not registered here yet.
  const uscc = makeUscc();
  register.set(uscc, { uscc, name: '福州待注册示例有限公司', type: 'company', status: 'active', legalRepresentative: { name: rep.name, idNumber: rep.idNumber, phone: rep.phone } });
  const call = (who: Citizen, method: 'GET' | 'POST', path: string, body?: unknown) => fetch(`${server.url}/api/v1${path}`, {
    method, headers: { authorization: `Bearer ${who.token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
  }).then(async (r) => ({ status: r.status, body: await r.json() as Record<string, any> }));
  const applied = await call(applicant, 'POST', '/enterprises', { uscc, name: '福州待注册示例有限公司', on_behalf: true });
  t.is(applied.status, 201, JSON.stringify(applied.body));
  register.set(uscc, { ...register.get(uscc)!, legalRepresentative: { name: successor.name, idNumber: successor.idNumber, phone: successor.phone } });
  const rejected = await call(rep, 'POST', `/enterprises/applications/${applied.body.application.id}/reject`);
  t.is(rejected.body.error, 'enterprise_representative_mismatch');
  t.is((await call(applicant, 'GET', `/enterprises/applications/${applied.body.application.id}`)).body.status, 'pending');
});
