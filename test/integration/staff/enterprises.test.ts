import { createHash } from 'node:crypto';
import test from 'ava';
import { latestOutboxCode } from '../../../src/ports/sms/index.js';
import type { StaffCredentials } from '../../../src/staff/staff-accounts.js';
import { seedAccount, ZHANG_SAN } from '../../helpers/accounts.js';
import { makePerson, otherCode, outboxFile } from '../../helpers/account-centre.js';
import { asPortal, CHEN_WEI, citizen, days, delegationApi, LI_NA, portal, portalLoginAs, seedEnterprise } from '../../helpers/delegation.js';
import { ENTERPRISES } from '../../helpers/enterprises.js';
import { errorCode, hidden } from '../../helpers/http-browser.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { auditOf, createStaff, moveRole, staffSignIn, type StaffClient } from '../../helpers/staff.js';

let server: TestServer;
let agent: StaffCredentials;
let agentClient: StaffClient;
let otherAgentClient: StaffClient;
let supervisorClient: StaffClient;
let supervisor: StaffCredentials;

test.before(async () => {
  server = await startServer();
  agent = await createStaff(server.deps, 'agent.enterprise', ['agent']);
  supervisor = await createStaff(server.deps, 'head.enterprise', ['supervisor']);
  agentClient = await staffSignIn(server, agent);
  otherAgentClient = await staffSignIn(server, await createStaff(server.deps, 'agent.other', ['agent']));
  supervisorClient = await staffSignIn(server, supervisor);
});
test.after.always(async () => { await server?.close(); });

const outbox = () => outboxFile(server);

/** The code with its check character replaced by another valid character. */
function wrongCheck(uscc: string): string {
  return uscc.slice(0, 17) + (uscc.endsWith('3') ? '4' : '3');
}

const enterpriseRow = (uscc: string) => server.deps.database.db.selectFrom('enterprises').selectAll().where('uscc', '=', uscc).executeTakeFirst();
const counterRecords = (enterpriseId: string) => server.deps.database.db.selectFrom('enterprise_counter_registrations').selectAll().where('enterprise_id', '=', enterpriseId).execute();

const refreshAsPortal = (refreshToken: string) => asPortal(server, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken });

test.serial('search by USCC: the check character is verified first; exact; the page shows the representative masked and the grants by level', async (t) => {
  const a = await citizen(server, makePerson('王五'));
  const b = await citizen(server);
  const enterprise = await seedEnterprise(server, a);
  const grant = await delegationApi(server, a.token, 'POST', '', {
    enterprise_id: enterprise.id, grantee: { phone: b.phone }, scope: portal('tax.declare'), valid_until: days(30), may_redelegate: false,
  });
  t.is(grant.status, 201, JSON.stringify(grant.body));

  const invalid = await agentClient.api('GET', `/enterprises?q=${wrongCheck(enterprise.uscc)}`);
  t.is(invalid.status, 400);
  t.is(invalid.body.error, 'invalid_uscc');
  t.deepEqual((await agentClient.api('GET', `/enterprises?q=${ENTERPRISES.association.uscc}`)).body.results, [], 'valid but not registered');

  // Nobody searched for it yet: the page is refused, and the refusal audited.
  const before = await agentClient.api('GET', `/enterprises/${enterprise.id}`);
  t.is(before.body.error, 'outside_search');
  t.true((await auditOf(server.deps, 'enterprise.view')).some((r) => r.result === 'denied' && r.target_id === enterprise.id));

  const found = await agentClient.api('GET', `/enterprises?q=${enterprise.uscc.toLowerCase()}`);
  t.deepEqual(found.body.results, [{ id: enterprise.id, uscc: enterprise.uscc, name: enterprise.name, type: 'company', status: 'active', registry_status: 'active' }]);

  const detail = await agentClient.api('GET', `/enterprises/${enterprise.id}`);
  t.is(detail.status, 200, JSON.stringify(detail.body));
  t.like(detail.body.representative, { account_id: a.accountId, name_masked: '*五', id_number_masked: `${a.idNumber.slice(0, 6)}********${a.idNumber.slice(-4)}` });
  t.deepEqual(detail.body.grants, { total: 1, by_level_status: [{ level: 1, status: 'active', count: 1 }] });
  t.true(detail.body.events.some((e: { action: string }) => e.action === 'enterprise.search'));

  const page = await agentClient.browser.get(`/admin/enterprises/${enterprise.id}`);
  t.regex(page.body, /data-status="active"/);
  t.regex(page.body, /data-grants-total="1"/);
  t.false(page.body.includes(a.idNumber), 'the representative\'s ID number is masked');
  t.false(page.body.includes(a.phone));
  t.is(page.response.headers.get('cache-control'), 'no-store');
  const searchPage = await agentClient.browser.get(`/admin/enterprises?q=${wrongCheck(enterprise.uscc)}`);
  t.is(errorCode(searchPage.body), 'invalid_uscc');

  // Another console session did not search for it.
  t.is((await otherAgentClient.api('GET', `/enterprises/${enterprise.id}`)).body.error, 'outside_search');
});

test.serial('counter registration in person: register checks, the representative must hold an account, the agent\'s check replaces the code; audited with the agent as actor', async (t) => {
  const representativeId = await seedAccount(server.deps, ZHANG_SAN);
  const { uscc, name } = ENTERPRISES.fuzhouTech;
  const base = { uscc, name, mode: 'in_person', representative_name: ZHANG_SAN.name, representative_id_number: ZHANG_SAN.idNumber };

  const badCheck = await agentClient.api('POST', '/counter/enterprises', { ...base, uscc: wrongCheck(uscc) });
  t.is(badCheck.body.error, 'invalid_uscc');
  const mismatch = await agentClient.api('POST', '/counter/enterprises', { ...base, representative_name: '张四' });
  t.is(mismatch.body.error, 'enterprise_representative_mismatch');
  const otherPerson = await agentClient.api('POST', '/counter/enterprises', { ...base, representative_name: LI_NA.name, representative_id_number: LI_NA.idNumber });
  t.is(otherPerson.body.error, 'enterprise_representative_mismatch');
  const wrongName = await agentClient.api('POST', '/counter/enterprises', { ...base, name: '福州示例科技' });
  t.is(wrongName.body.error, 'enterprise_name_mismatch');
  const noAccount = await agentClient.api('POST', '/counter/enterprises', {
    uscc: ENTERPRISES.association.uscc, name: ENTERPRISES.association.name, mode: 'in_person', representative_name: '林建华', representative_id_number: '350105197806200159',
  });
  t.is(noAccount.body.error, 'enterprise_representative_not_registered');
  t.is(await enterpriseRow(uscc), undefined, 'nothing was registered');
  const denied = (await auditOf(server.deps, 'enterprise.register.counter')).filter((r) => r.result === 'denied' && r.actor_id === agent.id).map((r) => r.details.reason);
  t.deepEqual(denied, ['invalid_uscc', 'enterprise_representative_mismatch', 'enterprise_representative_mismatch', 'enterprise_name_mismatch', 'enterprise_representative_not_registered']);
  t.is((await supervisorClient.api('POST', '/counter/enterprises', base)).body.error, 'forbidden', 'agents register, supervisors do not');

  // Through the console page, as the desk does it.
  const form = await agentClient.browser.get('/admin/counter/enterprise');
  const done = await agentClient.browser.post('/admin/counter/enterprise', { csrf: hidden(form.body, 'csrf'), ...base });
  t.regex(done.url, /\/admin\/enterprises\/[0-9a-f-]{36}\?done=enterprise_registered$/);
  t.regex(done.body, /data-counter-mode="in_person"/);
  const row = await enterpriseRow(uscc);
  t.like(row, { status: 'active', name, representative_account_id: representativeId });
  t.like((await counterRecords(row!.id))[0], { mode: 'in_person', staff_id: agent.id, power_of_attorney_number: null, power_of_attorney_sha256: null });
  const registered = (await auditOf(server.deps, 'enterprise.register')).find((r) => r.target_id === row!.id);
  t.like(registered, { actor_kind: 'staff', actor_id: agent.id, result: 'success' });
  t.like(registered?.details, { via: 'counter', mode: 'in_person', representative_account: representativeId });
  t.is((await latestOutboxCode(outbox(), ZHANG_SAN.phone, 'enterprise')), undefined, 'no code in person');

  const again = await agentClient.api('POST', '/counter/enterprises', base);
  t.is(again.body.error, 'enterprise_already_registered');
});

test.serial('counter registration by power of attorney: number and digest required, the scan hashed and not kept, the code to the representative\'s register phone confirms', async (t) => {
  const representativeId = await seedAccount(server.deps, CHEN_WEI);
  const { uscc, name, registerPhone } = ENTERPRISES.xiamenSoftware;
  const delegate = makePerson('刘受托');
  const scan = Buffer.from('%PDF-1.4 委托书 扫描件 (test)');
  const base = {
    uscc, name, mode: 'power_of_attorney', representative_name: CHEN_WEI.name, representative_id_number: CHEN_WEI.idNumber,
    delegate_name: delegate.name, delegate_id_number: delegate.idNumber,
  };

  const noNumber = await agentClient.api('POST', '/counter/enterprises', { ...base, power_of_attorney_scan: scan.toString('base64') });
  t.is(noNumber.status, 400);
  t.is(noNumber.body.error, 'power_of_attorney_required');
  const noDigest = await agentClient.api('POST', '/counter/enterprises', { ...base, power_of_attorney_number: 'WT-2026-0001' });
  t.is(noDigest.body.error, 'power_of_attorney_required');
  const badDigest = await agentClient.api('POST', '/counter/enterprises', { ...base, power_of_attorney_number: 'WT-2026-0001', power_of_attorney_sha256: 'abc123' });
  t.is(badDigest.body.error, 'invalid_input');
  t.is(await latestOutboxCode(outbox(), registerPhone, 'enterprise'), undefined, 'no code sent for a refused start');

  const started = await agentClient.api('POST', '/counter/enterprises', { ...base, power_of_attorney_number: 'WT-2026-0001', power_of_attorney_scan: scan.toString('base64') });
  t.is(started.status, 201, JSON.stringify(started.body));
  t.like(started.body, { state: 'code_sent', code_sent_to: '186****1122' });
  const code = await latestOutboxCode(outbox(), registerPhone, 'enterprise');
  t.truthy(code, 'the code goes to the representative\'s phone on the register');
  t.is(await latestOutboxCode(outbox(), CHEN_WEI.phone, 'enterprise'), undefined, 'not to the account\'s phone');

  const wrong = await agentClient.api('POST', `/counter/enterprises/${started.body.flow_id}/confirm`, { code: otherCode(code!) });
  t.is(wrong.body.error, 'code_invalid');
  t.is(await enterpriseRow(uscc), undefined);
  t.true((await auditOf(server.deps, 'enterprise.register.counter')).some((r) => r.result === 'failure' && r.details.reason === 'code_invalid'));
  // Another agent cannot finish this agent's registration, nor anyone a flow that does not exist; both refusals are in the log.
  const expired = async () => (await auditOf(server.deps, 'enterprise.register.counter')).filter((r) => r.result === 'denied' && r.details.reason === 'flow_expired');
  const expiredBefore = (await expired()).length;
  t.is((await otherAgentClient.api('POST', `/counter/enterprises/${started.body.flow_id}/confirm`, { code: code! })).body.error, 'flow_expired');
  // The flow is not read for another desk, so its refusal names no enterprise: the request learns nothing of it.
  t.is((await agentClient.api('POST', '/counter/enterprises/no-such-flow/confirm', { code: code! })).body.error, 'flow_expired');
  t.is((await expired()).length, expiredBefore + 2);
  // Nor can this agent signed in at another desk: the flow belongs to the console session that started it.
  const elsewhere = await staffSignIn(server, agent, 1);
  t.is((await elsewhere.api('POST', `/counter/enterprises/${started.body.flow_id}/confirm`, { code: code! })).body.error, 'flow_expired');
  t.is(errorCode((await elsewhere.browser.get(`/admin/counter/enterprise/${started.body.flow_id}`)).body), 'flow_expired');

  const done = await agentClient.api('POST', `/counter/enterprises/${started.body.flow_id}/confirm`, { code: code! });
  t.is(done.status, 200, JSON.stringify(done.body));
  const row = await enterpriseRow(uscc);
  t.is(row?.representative_account_id, representativeId);
  t.is(done.body.enterprise_id, row!.id);
  const [record] = await counterRecords(row!.id);
  t.like(record, {
    mode: 'power_of_attorney', staff_id: agent.id, power_of_attorney_number: 'WT-2026-0001',
    power_of_attorney_sha256: createHash('sha256').update(scan).digest('hex'),
    delegate_id_number_masked: `${delegate.idNumber.slice(0, 6)}********${delegate.idNumber.slice(-4)}`,
  });
  t.false(JSON.stringify(record).includes(delegate.idNumber));
  t.like((await auditOf(server.deps, 'enterprise.register')).find((r) => r.target_id === row!.id), { actor_kind: 'staff', actor_id: agent.id });

  // The same through the page, with the digest typed (李娜's shop; code to her register phone).
  await seedAccount(server.deps, LI_NA);
  const digest = createHash('sha256').update('another scan').digest('hex').toUpperCase();
  const form = await agentClient.browser.get('/admin/counter/enterprise');
  const csrf = hidden(form.body, 'csrf');
  const shop = { ...ENTERPRISES.fishBallShop, mode: 'power_of_attorney', representative_name: LI_NA.name, representative_id_number: LI_NA.idNumber, delegate_name: delegate.name, delegate_id_number: delegate.idNumber };
  const missing = await agentClient.browser.post('/admin/counter/enterprise', { csrf, ...shop, power_of_attorney_number: '', power_of_attorney_sha256: digest });
  t.is(errorCode(missing.body), 'power_of_attorney_required');
  const codePage = await agentClient.browser.post('/admin/counter/enterprise', { csrf, ...shop, power_of_attorney_number: 'WT-2026-0002', power_of_attorney_sha256: digest });
  t.regex(codePage.url, /\/admin\/counter\/enterprise\/[A-Za-z0-9_-]+$/);
  const shopCode = await latestOutboxCode(outbox(), LI_NA.phone, 'enterprise');
  const finished = await agentClient.browser.post(new URL(codePage.url).pathname, { csrf, code: shopCode! });
  t.regex(finished.url, /\?done=enterprise_registered$/);
  const shopRow = await enterpriseRow(ENTERPRISES.fishBallShop.uscc);
  t.is((await counterRecords(shopRow!.id))[0]?.power_of_attorney_sha256, digest.toLowerCase());
});

test.serial('deregistration needs a reason, revokes every grant and ends the tokens acting for the enterprise at once; restore: not by the requester, not by a non-supervisor, by another supervisor; grants stay revoked', async (t) => {
  const a = await citizen(server);
  const b = await citizen(server);
  const enterprise = await seedEnterprise(server, a);
  const toB = await delegationApi(server, a.token, 'POST', '', {
    enterprise_id: enterprise.id, grantee: { phone: b.phone }, scope: portal('tax.declare'), valid_until: days(30), may_redelegate: true,
  });
  t.is(toB.status, 201, JSON.stringify(toB.body));
  const asEnterprise = (offered: string[]) => offered.find((o) => o.startsWith(enterprise.id))!;
  const delegateLogin = await portalLoginAs(server, b.phone, asEnterprise);
  const representativeLogin = await portalLoginAs(server, a.phone, asEnterprise);
  const bRefresh = delegateLogin.tokens.body.refresh_token!;
  const aRefresh = representativeLogin.tokens.body.refresh_token!;
  t.truthy(bRefresh);
  t.truthy(aRefresh);

  // Not found by this session's search: refused.
  t.is((await agentClient.api('POST', `/enterprises/${enterprise.id}/deregister`, { reason: '企业申请注销' })).body.error, 'outside_search');
  await agentClient.api('GET', `/enterprises?q=${enterprise.uscc}`);
  const noReason = await agentClient.api('POST', `/enterprises/${enterprise.id}/deregister`, {});
  t.is(noReason.status, 400);
  t.is(noReason.body.error, 'invalid_input');
  t.is((await enterpriseRow(enterprise.uscc))?.status, 'active');
  t.is((await supervisorClient.api('GET', `/enterprises?q=${enterprise.uscc}`)).status, 200);
  t.is((await supervisorClient.api('POST', `/enterprises/${enterprise.id}/deregister`, { reason: '企业申请注销' })).body.error, 'forbidden');
  // A refresh still works before the deregistration (the tests below would pass for the wrong reason otherwise).
  const stillValid = await refreshAsPortal(bRefresh);
  t.is(stillValid.status, 200, JSON.stringify(stillValid.body));
  const bRefreshNow = String(stillValid.body.refresh_token ?? bRefresh);

  // The console page asks for its confirmation box first: without it nothing happens.
  const deregisterPage = await agentClient.browser.get(`/admin/enterprises/${enterprise.id}`);
  const unconfirmed = await agentClient.browser.post(`/admin/enterprises/${enterprise.id}/deregister`, { csrf: /name="csrf" value="([^"]+)"/.exec(deregisterPage.body)![1]!, reason: '营业执照已注销' });
  t.true(unconfirmed.body.includes('data-error-code="confirmation_required"'));
  t.is((await enterpriseRow(enterprise.uscc))?.status, 'active');
  const deregistered = await agentClient.api('POST', `/enterprises/${enterprise.id}/deregister`, { reason: '营业执照已注销，企业申请注销账号' });
  t.is(deregistered.status, 200, JSON.stringify(deregistered.body));
  t.is(deregistered.body.revoked_grants, 1);
  t.is((await enterpriseRow(enterprise.uscc))?.status, 'deregistered');
  t.is((await server.deps.database.db.selectFrom('delegation_grants').select('status').where('id', '=', toB.body.id).executeTakeFirst())?.status, 'revoked');
  t.is((await refreshAsPortal(bRefreshNow)).body.error, 'invalid_grant', 'the delegate\'s token for the enterprise stops at once');
  t.is((await refreshAsPortal(aRefresh)).body.error, 'invalid_grant', 'so does the representative\'s');
  t.like((await auditOf(server.deps, 'enterprise.deregister')).find((r) => r.result === 'success' && r.target_id === enterprise.id), { actor_id: agent.id });
  t.is((await agentClient.api('POST', `/enterprises/${enterprise.id}/deregister`, { reason: '再次注销' })).body.error, 'account_not_active');
  // The delegate is no longer offered the enterprise.
  t.deepEqual((await server.deps.acting.options(b.accountId, 'portal')).filter((o) => o.enterprise.id === enterprise.id), []);
  t.deepEqual((await server.deps.acting.options(a.accountId, 'portal')).filter((o) => o.enterprise.id === enterprise.id), []);

  const page = await agentClient.browser.get(`/admin/enterprises/${enterprise.id}`);
  t.regex(page.body, /data-status="deregistered"/);
  t.regex(page.body, /action="\/admin\/enterprises\/[0-9a-f-]+\/restore"/);
  t.regex(page.body, /data-grants-status="revoked"/);

  // Restore: only of a deregistered enterprise, asked by an agent, decided by a supervisor who is not the requester.
  const other = await seedEnterprise(server, b);
  await agentClient.api('GET', `/enterprises?q=${other.uscc}`);
  t.is((await agentClient.api('POST', `/enterprises/${other.id}/restore-requests`, { reason: '误操作' })).body.error, 'enterprise_not_deregistered');

  const both = await createStaff(server.deps, 'agent.head', ['agent']);
  const bothClient = await staffSignIn(server, both);
  await bothClient.api('GET', `/enterprises?q=${enterprise.uscc}`);
  // A reason of one character is no reason: refused, and the refusal is in the log.
  const shortReasons = async () => (await auditOf(server.deps, 'approval.request.enterprise.restore')).filter((r) => r.result === 'denied' && r.target_id === enterprise.id && r.details.reason === 'invalid_input').length;
  t.is((await bothClient.api('POST', `/enterprises/${enterprise.id}/restore-requests`, { reason: 'x' })).body.error, 'invalid_input');
  t.is(await shortReasons(), 1);
  const request = await bothClient.api('POST', `/enterprises/${enterprise.id}/restore-requests`, { reason: '注销有误，企业持执照到窗口申请恢复' });
  t.is(request.status, 201, JSON.stringify(request.body));
  t.like(request.body, { kind: 'enterprise.restore', status: 'pending', target: { kind: 'enterprise', id: enterprise.id } });

  // The requester becomes a supervisor (agent and supervisor are never held together): their own request stays theirs.
  await moveRole(server, both.id, 'agent', 'supervisor');
  const self = await (await staffSignIn(server, both, 1)).api('POST', `/approvals/${request.body.id}/approve`, {});
  t.is(self.status, 403);
  t.is(self.body.error, 'self_approval');
  const notSupervisor = await agentClient.api('POST', `/approvals/${request.body.id}/approve`, {});
  t.is(notSupervisor.body.error, 'forbidden');
  t.is((await enterpriseRow(enterprise.uscc))?.status, 'deregistered');

  const approved = await supervisorClient.api('POST', `/approvals/${request.body.id}/approve`, { note: '同意恢复' });
  t.is(approved.status, 200, JSON.stringify(approved.body));
  t.like(approved.body, { status: 'approved', decided_by: supervisor.id, requested_by: both.id });
  t.is((await enterpriseRow(enterprise.uscc))?.status, 'active');
  t.is((await server.deps.database.db.selectFrom('delegation_grants').select('status').where('id', '=', toB.body.id).executeTakeFirst())?.status, 'revoked', 'revoked grants stay revoked');
  t.like((await auditOf(server.deps, 'enterprise.restore')).at(-1), { actor_id: supervisor.id, target_id: enterprise.id, result: 'success' });
  // The representative acts for it again; the delegate is not offered it until granted anew.
  t.true((await portalLoginAs(server, a.phone, asEnterprise)).offered.some((o) => o.startsWith(enterprise.id)));
  t.deepEqual((await server.deps.acting.options(b.accountId, 'portal')).filter((o) => o.enterprise.id === enterprise.id), []);
});

test.serial('a supervisor may open an enterprise only while a restore request about it waits for them; before and after, it is outside their search', async (t) => {
  const enterprise = await seedEnterprise(server, await citizen(server));
  const decider = await staffSignIn(server, await createStaff(server.deps, 'head.restores', ['supervisor']));
  await agentClient.api('GET', `/enterprises?q=${enterprise.uscc}`);
  t.is((await agentClient.api('POST', `/enterprises/${enterprise.id}/deregister`, { reason: '企业申请注销' })).status, 200);
  t.is((await decider.api('GET', `/enterprises/${enterprise.id}`)).body.error, 'outside_search', 'no request yet');
  const request = await agentClient.api('POST', `/enterprises/${enterprise.id}/restore-requests`, { reason: '注销有误' });
  t.is(request.status, 201);
  const views = async (result: string) => (await auditOf(server.deps, 'enterprise.view')).filter((r) => r.target_id === enterprise.id && r.result === result).length;
  const allowedBefore = await views('success');
  const looks = await Promise.all(Array.from({ length: 20 }, () => decider.api('GET', `/enterprises/${enterprise.id}`)));
  t.true(looks.every((look) => look.status === 200), 'the decider may look at what they decide');
  t.is(await views('success'), allowedBefore + 20);
  t.is((await decider.api('POST', `/approvals/${request.body.id}/reject`, { note: '材料不全' })).status, 200);
  const deniedBefore = await views('denied');
  t.is((await decider.api('GET', `/enterprises/${enterprise.id}`)).body.error, 'outside_search', 'once decided, the door closes again');
  t.is(await views('denied'), deniedBefore + 1);
});
