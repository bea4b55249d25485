import test from 'ava';
import { Approvals } from '../../../src/staff/approvals.js';
import { readOutbox, latestOutboxCode } from '../../../src/ports/sms/index.js';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { errorCode, hidden } from '../../helpers/http-browser.js';
import { APP, beginAuthorization, PORTAL, passwordLogin } from '../../helpers/oidc.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { auditOf, createStaff, staffSignIn, type StaffClient } from '../../helpers/staff.js';
import type { StaffCredentials } from '../../../src/staff/staff-accounts.js';

let server: TestServer;
let agent: StaffCredentials;
let supervisor: StaffCredentials;
let agentClient: StaffClient;
let supervisorClient: StaffClient;

test.before(async () => {
  server = await startServer();
  agent = await createStaff(server.deps, 'agent.desk', ['agent']);
  supervisor = await createStaff(server.deps, 'head.desk', ['supervisor']);
  agentClient = await staffSignIn(server, agent);
  supervisorClient = await staffSignIn(server, supervisor);
});
test.after.always(async () => { await server?.close(); });

function outbox(): string {
  const sms = server.deps.config.sms;
  if (sms.kind !== 'outbox') throw new Error('tests need the SMS outbox');
  return sms.file;
}

const notices = async (phone: string) => (await readOutbox(outbox())).filter((m) => m.to === phone && m.purpose === 'notice').map((m) => m.text);

async function loginError(identifier: string, password: string): Promise<string | undefined> {
  const auth = await beginAuthorization(server.url, PORTAL);
  return errorCode((await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier, password })).body);
}

async function refresh(token: string) {
  const response = await fetch(`${server.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, client_id: APP.client_id }) });
  return { status: response.status, body: await response.json() as Record<string, string> };
}

/** Seeds a citizen and has the agent find them (acts need the account found by this session's search). */
async function foundCitizen(person: { idNumber: string; name: string; phone: string }): Promise<string> {
  const id = await seedAccount(server.deps, person);
  const found = await agentClient.api('GET', `/citizens?q=${person.phone}`);
  if (found.body.results?.[0]?.id !== id) throw new Error('search did not find the seeded account');
  return id;
}

test.serial('counter registration: registry check, SMS code to the applicant, level-3 counter account, password shown once and changed at first login', async (t) => {
  const browser = agentClient.browser;
  const form = await browser.get('/admin/counter/register');
  const csrf = hidden(form.body, 'csrf');

  const mismatch = await browser.post('/admin/counter/register', { csrf, name: '黄小丽', id_number: '310104200002290866', phone: '13900000001' });
  t.is(errorCode(mismatch.body), 'identity_mismatch');
  t.true((await auditOf(server.deps, 'account.register.counter')).some((r) => r.result === 'denied' && r.details.reason === 'identity_mismatch'));

  const started = await browser.post('/admin/counter/register', { csrf, name: '黄丽', id_number: '310104200002290866', phone: '13900000001' });
  t.regex(started.url, /\/admin\/counter\/register\/[A-Za-z0-9_-]+$/);
  t.regex(started.body, /139\*\*\*\*0001/);
  const code = await latestOutboxCode(outbox(), '13900000001', 'counter');
  t.truthy(code);
  const wrong = await browser.post(new URL(started.url).pathname, { csrf, code: String((Number(code) + 1) % 1_000_000).padStart(6, '0') });
  t.is(errorCode(wrong.body), 'code_invalid');
  t.is(await server.deps.accounts.byIdNumber('310104200002290866'), undefined);

  const done = await browser.post(new URL(started.url).pathname, { csrf, code: code! });
  t.regex(done.body, /data-handover="register"/);
  t.is(done.response.headers.get('cache-control'), 'no-store');
  const password = /<code data-initial-password>(.+?)<\/code>/.exec(done.body)?.[1]?.replace(/<[^>]+>/g, '');
  t.regex(password ?? '', /^[2-9a-hjkmnp-z]{12}$/, 'lower-case letters and digits, easy to type');
  t.false(done.body.includes('310104200002290866'), 'the ID number is shown masked');
  // A sheet to take home: the full sign-in and agreement addresses with their QR codes, who issued it and when.
  t.true(done.body.includes(`<span class="address" data-agreement-url>${server.url}/agreement</span>`));
  t.true(done.body.includes(`<span class="address" data-login-url>${server.url}/account</span>`));
  t.is((done.body.match(/<img class="qr"[^>]+src="data:image\/png;base64,/g) ?? []).length, 2);
  t.regex(done.body, /data-agent>工号 agent\.desk</, 'a member with no display name: their username, as a staff ID');
  t.regex(done.body, /data-hall>_{10,}</, 'no SERVICE_HALL: a line to fill in by hand');
  t.regex(done.body, /data-issued-at>20\d\d-/);

  const row = await server.deps.accounts.byIdNumber('310104200002290866');
  t.like(row, { assurance_level: 3, registration_channel: 'counter', password_must_change: true, status: 'active' });
  const registered = (await auditOf(server.deps, 'account.register')).find((r) => r.target_id === row!.id);
  t.like(registered, { actor_kind: 'staff', actor_id: agent.id, result: 'success' });

  // The flow is spent: the same code cannot open a second account.
  const replay = await browser.post(new URL(started.url).pathname, { csrf, code: code! });
  t.not(errorCode(replay.body), undefined);

  // The citizen signs in with the printed password and must change it first.
  const auth = await beginAuthorization(server.url, PORTAL);
  const signedIn = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: '310104200002290866', password: password! });
  t.regex(signedIn.body, /login\/password-change/);
});

test.serial('counter registration leaves a record of every register lookup and every refusal: already registered, phone in use, a wrong applicant code', async (t) => {
  const start = (person: { name: string; id_number: string; phone: string }) => agentClient.api('POST', '/counter/registrations', person);
  const refusals = async () => (await auditOf(server.deps, 'account.register.counter')).filter((r) => r.actor_id === agent.id && r.result === 'denied').map((r) => r.details.reason);
  const before = (await refusals()).length;

  // 黄丽 registered at the counter in the first test; 郑志强 wants 黄丽's phone.
  t.is((await start({ name: '黄丽', id_number: '310104200002290866', phone: '13900000077' })).body.error, 'already_registered');
  t.is((await start({ name: '郑志强', id_number: '440305199910010031', phone: '13900000001' })).body.error, 'phone_in_use');
  const started = await start({ name: '郑志强', id_number: '440305199910010031', phone: '13900000078' });
  t.is(started.status, 201, JSON.stringify(started.body));
  const lookup = (await auditOf(server.deps, 'account.register.counter.start')).at(-1);
  t.like(lookup, { actor_kind: 'staff', actor_id: agent.id, result: 'success', details: { registry: 'match', id_number_masked: '440305********0031', phone_masked: '139****0078' } });
  t.false(JSON.stringify(lookup?.details).includes('440305199910010031'), 'the lookup is recorded masked');

  const code = await latestOutboxCode(outbox(), '13900000078', 'counter');
  const wrong = await agentClient.api('POST', `/counter/registrations/${started.body.flow_id}/confirm`, { code: String((Number(code) + 1) % 1_000_000).padStart(6, '0') });
  t.is(wrong.body.error, 'code_invalid');
  t.deepEqual((await refusals()).slice(before), ['already_registered', 'phone_in_use', 'code_invalid']);
  t.is(await server.deps.accounts.byIdNumber('440305199910010031'), undefined);
});

test.serial('search is exact and masked; an account not found by this session\'s search cannot be acted on', async (t) => {
  const person = { idNumber: '350102198503150241', name: '李娜', phone: '13905910001' };
  const id = await seedAccount(server.deps, person);
  const reset = await agentClient.api('POST', `/citizens/${id}/password-reset`, { name: person.name, id_number: person.idNumber });
  t.is(reset.status, 403);
  t.is(reset.body.error, 'outside_search');
  t.true((await auditOf(server.deps, 'account.password_reset')).some((r) => r.result === 'denied' && r.target_id === id));

  const byId = await agentClient.api('GET', `/citizens?q=${person.idNumber}`);
  t.deepEqual(byId.body.results, [{ id, status: 'active', assurance_level: 2, name_masked: '*娜', id_number_masked: '350102********0241', phone_masked: '139****0001' }]);
  t.deepEqual((await agentClient.api('GET', '/citizens?q=13905910002')).body.results, []);

  const page = await agentClient.browser.get(`/admin/citizens/${id}`);
  t.regex(page.body, /data-status="active"/);
  t.regex(page.body, /139\*\*\*\*0001/);
  t.false(page.body.includes(person.idNumber));
  t.false(page.body.includes(person.phone));
  t.is(page.response.headers.get('cache-control'), 'no-store');

  // Another staff session did not search for it.
  const other = await staffSignIn(server, agent, 1);
  t.is((await other.api('GET', `/citizens/${id}`)).body.error, 'outside_search');
});

test.serial('counter password reset: name and ID must match; a random password once; every session and refresh token dies; change forced; SMS notice', async (t) => {
  const person = { idNumber: '350203199207210138', name: '陈伟', phone: '15859201234' };
  const id = await foundCitizen(person);
  const before = await passwordLogin(server.url, APP, person.idNumber, PASSWORD);
  t.truthy(before.tokens.body.refresh_token);

  const mismatch = await agentClient.api('POST', `/citizens/${id}/password-reset`, { name: '陈伟伟', id_number: person.idNumber });
  t.is(mismatch.body.error, 'identity_mismatch');
  t.is(await loginError(person.idNumber, PASSWORD), undefined, 'nothing changed');

  const reset = await agentClient.api('POST', `/citizens/${id}/password-reset`, { name: person.name, id_number: person.idNumber });
  t.is(reset.status, 200, JSON.stringify(reset.body));
  t.true(reset.body.revoked_grants >= 1);
  t.is((await refresh(before.tokens.body.refresh_token!)).body.error, 'invalid_grant');
  t.is(await loginError(person.idNumber, PASSWORD), 'login_failed');
  const auth = await beginAuthorization(server.url, PORTAL);
  const signedIn = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: person.idNumber, password: reset.body.password });
  t.regex(signedIn.body, /login\/password-change/);
  t.true((await notices(person.phone)).some((text) => text.includes('重置')));
  t.like((await auditOf(server.deps, 'account.password_reset')).at(-1), { actor_kind: 'staff', actor_id: agent.id, target_id: id, result: 'success' });
});

test.serial('ban needs a reason, takes effect at once (tokens dead, login refused with whom to contact), and notifies by SMS', async (t) => {
  const person = { idNumber: '350105197806200159', name: '林建华', phone: '13959112345' };
  const id = await foundCitizen(person);
  const before = await passwordLogin(server.url, APP, person.idNumber, PASSWORD);

  const noReason = await agentClient.api('POST', `/citizens/${id}/ban`, {});
  t.is(noReason.body.error, 'ban_reason_required');
  const otherWithoutText = await agentClient.api('POST', `/citizens/${id}/ban`, { reason: 'other' });
  t.is(otherWithoutText.body.error, 'ban_reason_required');
  t.is((await server.deps.accounts.row(id))?.status, 'active');
  t.is((await auditOf(server.deps, 'account.ban')).filter((r) => r.result === 'denied' && r.target_id === id).length, 2);

  // The console page's ban form asks for its confirmation box: without it nothing happens.
  const page = await agentClient.browser.get(`/admin/citizens/${id}`);
  const unconfirmed = await agentClient.browser.post(`/admin/citizens/${id}/ban`, { csrf: /name="csrf" value="([^"]+)"/.exec(page.body)![1]!, reason: 'abuse' });
  t.true(unconfirmed.body.includes('data-error-code="confirmation_required"'));
  t.is((await server.deps.accounts.row(id))?.status, 'active');

  // A supervisor does not ban: that is the agent's act.
  t.is((await supervisorClient.api('POST', `/citizens/${id}/ban`, { reason: 'abuse' })).body.error, 'forbidden');

  const banned = await agentClient.api('POST', `/citizens/${id}/ban`, { reason: 'identity_fraud', note: '窗口核实' });
  t.is(banned.status, 200, JSON.stringify(banned.body));
  t.is((await server.deps.accounts.row(id))?.status, 'banned');
  t.is((await refresh(before.tokens.body.refresh_token!)).body.error, 'invalid_grant');
  t.is(await loginError(person.idNumber, PASSWORD), 'account_banned');
  t.true((await notices(person.phone)).some((text) => text.includes('停用') && text.includes('涉嫌冒用他人身份')));
  t.is((await agentClient.api('POST', `/citizens/${id}/ban`, { reason: 'abuse' })).body.error, 'account_not_active');
});

test.serial('unban: only of a banned account, asked by an agent, decided by a supervisor who is not the requester; restored with an SMS', async (t) => {
  const person = { idNumber: '650102199405230489', name: '阿依古丽·买买提', phone: '18999012345' };
  const id = await foundCitizen(person);
  const notBanned = await agentClient.api('POST', `/citizens/${id}/unban-requests`, { reason: '误操作' });
  t.is(notBanned.body.error, 'account_not_banned');
  t.true((await auditOf(server.deps, 'approval.request.account.unban')).some((r) => r.result === 'denied' && r.target_id === id));

  await agentClient.api('POST', `/citizens/${id}/ban`, { reason: 'account_compromised' });
  const request = await agentClient.api('POST', `/citizens/${id}/unban-requests`, { reason: '本人携身份证到窗口确认账号安全' });
  t.is(request.status, 201, JSON.stringify(request.body));
  t.is((await agentClient.api('POST', `/citizens/${id}/unban-requests`, { reason: '再次申请' })).body.error, 'approval_pending');

  // The requesting agent cannot decide (no supervisor role).
  t.is((await agentClient.api('POST', `/approvals/${request.body.id}/approve`, {})).body.error, 'forbidden');
  t.is((await server.deps.staff.approvals.list({ id: supervisor.id, username: supervisor.username, roles: ['supervisor'], sessionHandle: 'x' }, { targetId: id }, {}))[0]?.status, 'pending');

  const approved = await supervisorClient.api('POST', `/approvals/${request.body.id}/approve`, { note: '同意' });
  t.is(approved.status, 200, JSON.stringify(approved.body));
  t.like(approved.body, { status: 'approved', decided_by: supervisor.id, requested_by: agent.id });
  t.is((await server.deps.accounts.row(id))?.status, 'active');
  t.is(await loginError(person.idNumber, PASSWORD), undefined);
  t.true((await notices(person.phone)).some((text) => text.includes('恢复正常使用')));
  t.is((await supervisorClient.api('POST', `/approvals/${request.body.id}/reject`, {})).body.error, 'approval_closed');
});

test.serial('nobody approves their own request, even after becoming a supervisor; rejected and expired requests are kept', async (t) => {
  const person = { idNumber: '440305199910010031', name: '郑志强', phone: '13700000044' };
  const [promoted, admin] = [await createStaff(server.deps, 'agent.selfish', ['agent']), await createStaff(server.deps, 'admin.desk', ['admin'])];
  let client = await staffSignIn(server, promoted);
  const id = await seedAccount(server.deps, person);
  await client.api('GET', `/citizens?q=${person.idNumber}`);
  await client.api('POST', `/citizens/${id}/ban`, { reason: 'abuse' });
  const request = await client.api('POST', `/citizens/${id}/unban-requests`, { reason: '申请解禁' });
  // The agent becomes the department head: the role moves (never both at once), their own request stays theirs.
  const root = await staffSignIn(server, admin);
  t.is((await root.api('POST', `/staff/${promoted.id}/roles`, { role: 'supervisor', reason: '调任部门负责人' })).body.error, 'roles_incompatible');
  t.is((await root.api('POST', `/staff/${promoted.id}/roles/agent/withdraw`, { reason: '调任部门负责人' })).status, 200);
  t.is((await root.api('POST', `/staff/${promoted.id}/roles`, { role: 'supervisor', reason: '调任部门负责人' })).status, 200);
  client = await staffSignIn(server, promoted, 1);
  const self = await client.api('POST', `/approvals/${request.body.id}/approve`, {});
  t.is(self.status, 403);
  t.is(self.body.error, 'self_approval');
  t.is((await server.deps.accounts.row(id))?.status, 'banned');
  t.true((await auditOf(server.deps, 'approval.approve')).some((r) => r.result === 'denied' && r.actor_id === promoted.id && r.details.reason === 'self_approval'));

  const rejected = await supervisorClient.api('POST', `/approvals/${request.body.id}/reject`, { note: '材料不全' });
  t.is(rejected.body.status, 'rejected');
  t.is((await server.deps.accounts.row(id))?.status, 'banned');

  await agentClient.api('GET', `/citizens?q=${person.idNumber}`);
  const again = await agentClient.api('POST', `/citizens/${id}/unban-requests`, { reason: '补充材料后再次申请' });
  t.is(again.status, 201);
  // A week and a day later the request has expired; it is kept, marked so, and cannot be approved.
  const later = new Approvals(server.deps.database.db, server.deps.audit, () => new Date(Date.now() + 8 * 86_400_000));
  t.is(await later.expire(), 1);
  const listed = (await supervisorClient.api('GET', '/approvals')).body.approvals as Array<{ id: string; status: string }>;
  t.is(listed.find((a) => a.id === request.body.id)?.status, 'rejected');
  t.is(listed.find((a) => a.id === again.body.id)?.status, 'expired');
  t.is((await supervisorClient.api('POST', `/approvals/${again.body.id}/approve`, {})).body.error, 'approval_closed');
  t.is((await server.deps.accounts.row(id))?.status, 'banned');
});

test.serial('the admin role: never granted on creation from the console, never beside another role; a second admin must approve the request', async (t) => {
  const first = await createStaff(server.deps, 'admin.first', ['admin']);
  const second = await createStaff(server.deps, 'admin.second', ['admin']);
  const a = await staffSignIn(server, first);
  const b = await staffSignIn(server, second);
  const direct = await a.api('POST', '/staff', { username: 'would.be.admin', roles: ['admin'] });
  t.is(direct.body.error, 'admin_needs_approval');
  const created = await a.api('POST', '/staff', { username: 'new.colleague', roles: ['agent'] });
  t.is(created.status, 201);
  t.regex(created.body.otpauth_uri, /^otpauth:\/\/totp\//);
  t.true(created.body.must_change);
  // An agent is not made an admin: the agent role goes first.
  t.is((await a.api('POST', `/staff/${created.body.id}/admin-requests`, { reason: '接任系统管理' })).body.error, 'roles_incompatible');
  t.is((await a.api('POST', `/staff/${created.body.id}/roles/agent/withdraw`, { reason: '转任系统管理' })).status, 200);
  const request = await a.api('POST', `/staff/${created.body.id}/admin-requests`, { reason: '接任系统管理' });
  t.is(request.status, 201, JSON.stringify(request.body));
  t.is((await a.api('POST', `/approvals/${request.body.id}/approve`, {})).body.error, 'self_approval');
  t.deepEqual(await server.deps.staff.accounts.roles(created.body.id), []);
  t.is((await supervisorClient.api('POST', `/approvals/${request.body.id}/approve`, {})).body.error, 'forbidden', 'a supervisor does not decide admin grants');
  const approved = await b.api('POST', `/approvals/${request.body.id}/approve`, {});
  t.is(approved.body.status, 'approved');
  t.deepEqual(await server.deps.staff.accounts.roles(created.body.id), ['admin']);
});

test.serial('counter phone change: in-person check, then a code to the new phone; both numbers are told', async (t) => {
  const person = { idNumber: '11010519491231002X', name: '张三', phone: '13800138000' };
  const id = await foundCitizen(person);
  const browser = agentClient.browser;
  const page = await browser.get(`/admin/citizens/${id}`);
  const csrf = hidden(page.body, 'csrf');

  const mismatch = await browser.post(`/admin/citizens/${id}/phone`, { csrf, name: '张三', id_number: '350102198503150241', phone: '13700001111' });
  t.is(errorCode(mismatch.body), 'identity_mismatch');
  t.true((await auditOf(server.deps, 'account.phone_change')).some((r) => r.result === 'denied' && r.target_id === id));

  const started = await browser.post(`/admin/citizens/${id}/phone`, { csrf, name: person.name, id_number: person.idNumber, phone: '13700001111' });
  t.regex(started.url, new RegExp(`/admin/citizens/${id}/phone/[A-Za-z0-9_-]+$`));
  t.regex(started.body, /137\*\*\*\*1111/);
  const code = await latestOutboxCode(outbox(), '13700001111', 'counter');
  t.truthy(code);
  const done = await browser.post(new URL(started.url).pathname, { csrf, code: code! });
  t.regex(done.url, new RegExp(`/admin/citizens/${id}\\?done=phone_changed$`));
  t.regex(done.body, /137\*\*\*\*1111/);
  t.is((await server.deps.accounts.byPhone('13700001111'))?.id, id);
  t.true((await notices(person.phone)).some((text) => text.includes('137****1111')));
  t.true((await notices('13700001111')).some((text) => text.includes('绑定')));
  t.like((await auditOf(server.deps, 'account.phone_change')).at(-1), { actor_kind: 'staff', actor_id: agent.id, result: 'success' });
});


test.serial('counter phone change leaves a record of every new-phone lookup and every refusal, and only an agent confirms, their own flow', async (t) => {
  const person = { idNumber: '320106198808081232', name: '周敏', phone: '13900250001' };
  const id = await foundCitizen(person);
  await seedAccount(server.deps, { idNumber: '320106199001012345', name: '吴刚', phone: '13900250002' });
  const start = (phone: string) => agentClient.api('POST', `/citizens/${id}/phone-changes`, { name: person.name, id_number: person.idNumber, phone });
  const refusals = async (actorId: string) => (await auditOf(server.deps, 'account.phone_change'))
    .filter((r) => r.actor_id === actorId && r.result === 'denied' && r.target_id === id).map((r) => r.details.reason);
  const before = (await refusals(agent.id)).length;

  t.is((await start('12345')).body.error, 'invalid_phone');
  t.is((await start(person.phone)).body.error, 'phone_unchanged');
  t.is((await start('13900250002')).body.error, 'phone_in_use', 'the lookup found another account\'s phone');
  const started = await start('13900250003');
  t.is(started.status, 201, JSON.stringify(started.body));
  const lookup = (await auditOf(server.deps, 'account.phone_change.start')).at(-1);
  t.like(lookup, { actor_kind: 'staff', actor_id: agent.id, target_kind: 'account', target_id: id, result: 'success', details: { phone_masked: '139****0003', flow: started.body.flow_id } });
  t.false(JSON.stringify(lookup?.details).includes('13900250003'), 'the lookup is recorded masked');

  const confirm = (client: StaffClient, code: string) => client.api('POST', `/citizens/${id}/phone-changes/${started.body.flow_id}/confirm`, { code });
  const code = (await latestOutboxCode(outbox(), '13900250003', 'counter'))!;
  t.is((await confirm(agentClient, String((Number(code) + 1) % 1_000_000).padStart(6, '0'))).body.error, 'code_invalid');
  t.deepEqual((await refusals(agent.id)).slice(before), ['invalid_phone', 'phone_unchanged', 'phone_in_use', 'code_invalid']);

  // A supervisor does not bind phones; another agent does not finish this agent's change.
  const deniedConfirms = async () => (await auditOf(server.deps, 'account.phone_change')).filter((r) => r.actor_id === supervisor.id && r.result === 'denied').length;
  const supervisorBefore = await deniedConfirms();
  t.is((await confirm(supervisorClient, code)).body.error, 'forbidden');
  t.is(await deniedConfirms(), supervisorBefore + 1);
  const colleague = await createStaff(server.deps, 'agent.colleague', ['agent']);
  t.is((await confirm(await staffSignIn(server, colleague), code)).body.error, 'flow_expired');
  // Recorded, naming no account: a flow another desk started is not read for this one.
  t.deepEqual((await auditOf(server.deps, 'account.phone_change')).filter((r) => r.actor_id === colleague.id && r.result === 'denied').map((r) => [r.details.reason, r.target_id]), [['flow_expired', null]]);
  t.is((await server.deps.accounts.byPhone(person.phone))?.id, id, 'nothing changed');

  t.is((await confirm(agentClient, code)).body.state, 'complete');
  t.is((await server.deps.accounts.byPhone('13900250003'))?.id, id);
});

test.serial('each member sees only the requests they may ask for or decide: agents and supervisors no staff re-enabling, admins no citizen\'s unban', async (t) => {
  const admin = await staffSignIn(server, await createStaff(server.deps, 'admin.sees', ['admin']));
  const member = await createStaff(server.deps, 'agent.away', ['agent']);
  t.is((await admin.api('POST', `/staff/${member.id}/disable`, { reason: '长期病假' })).status, 200);
  const enable = await admin.api('POST', `/staff/${member.id}/enable-requests`, { reason: '病假结束返岗' });
  t.is(enable.status, 201, JSON.stringify(enable.body));
  const id = await foundCitizen({ idNumber: '440106198204150011', name: '何静', phone: '13900250021' });
  t.is((await agentClient.api('POST', `/citizens/${id}/ban`, { reason: 'abuse' })).status, 200);
  const unban = await agentClient.api('POST', `/citizens/${id}/unban-requests`, { reason: '本人到窗口说明情况' });
  t.is(unban.status, 201, JSON.stringify(unban.body));

  const listed = async (client: StaffClient) => ((await client.api('GET', '/approvals')).body.approvals as Array<{ id: string }>).map((a) => a.id);
  for (const client of [agentClient, supervisorClient]) {
    const ids = await listed(client);
    t.true(ids.includes(unban.body.id));
    t.false(ids.includes(enable.body.id), 'why a colleague was disabled is no business of the helpdesk');
  }
  const adminIds = await listed(admin);
  t.true(adminIds.includes(enable.body.id));
  t.false(adminIds.includes(unban.body.id), 'whom a ban concerns is no business of system administration');

  // The page the same: the pending requests and the decided ones.
  const agentPage = (await agentClient.browser.get('/admin/approvals')).body;
  t.true(agentPage.includes(`data-approval="${unban.body.id}"`));
  t.false(agentPage.includes(`data-approval="${enable.body.id}"`));
  t.false(agentPage.includes('病假结束返岗'));
  t.true(agentPage.includes('440106********0011'), 'the subject, masked, for those who decide it');
  const adminPage = (await admin.browser.get('/admin/approvals')).body;
  t.true(adminPage.includes(`data-approval="${enable.body.id}"`));
  t.false(adminPage.includes(`data-approval="${unban.body.id}"`));
  t.false(adminPage.includes('440106********0011'), 'not even masked');
});

test.serial('GET /approvals answers what the approvals page shows: the subject masked with its link, the requester by username, the ban undone and its reason, the earlier requests', async (t) => {
  const id = await foundCitizen({ idNumber: '510107198706120036', name: '罗军', phone: '13900250031' });
  t.is((await agentClient.api('POST', `/citizens/${id}/ban`, { reason: 'identity_fraud', note: '他人持其证件办理' })).status, 200);
  const first = await agentClient.api('POST', `/citizens/${id}/unban-requests`, { reason: '本人到窗口说明情况' });
  t.is((await supervisorClient.api('POST', `/approvals/${first.body.id}/reject`, { note: '材料不全' })).status, 200);
  const second = await agentClient.api('POST', `/citizens/${id}/unban-requests`, { reason: '补齐材料再次申请' });
  t.is(second.status, 201, JSON.stringify(second.body));

  const pending = ((await supervisorClient.api('GET', '/approvals?status=pending')).body.approvals as Array<Record<string, any>>).find((a) => a.id === second.body.id);
  t.like(pending, {
    kind: 'account.unban', target: { kind: 'account', id }, requested_by: agent.id, requester: agent.username, reason: '补齐材料再次申请',
    subject: { label: '*军（510107********0036）', href: `/admin/citizens/${id}`, grounds: { action: 'account.ban', by: agent.username, reason: 'identity_fraud', note: '他人持其证件办理' } },
  });
  t.deepEqual(pending?.history.map((h: { id: string; status: string; reason: string }) => [h.id, h.status, h.reason]), [[first.body.id, 'rejected', '本人到窗口说明情况']]);
  t.false(JSON.stringify(pending).includes('510107198706120036'), 'the person is masked');

  // A decided request is listed with its requester by name; a case is for deciding.
  const decided = ((await supervisorClient.api('GET', '/approvals?status=rejected')).body.approvals as Array<Record<string, any>>).find((a) => a.id === first.body.id);
  t.like(decided, { requester: agent.username, status: 'rejected', decision_note: '材料不全' });
  t.false('history' in decided!);

  // The page shows the same case.
  const page = (await supervisorClient.browser.get('/admin/approvals')).body;
  const item = page.slice(page.indexOf(`data-approval="${second.body.id}"`), page.indexOf('</li>', page.indexOf('data-approval-history', page.indexOf(`data-approval="${second.body.id}"`))));
  t.regex(item, /data-approval-subject><a href="\/admin\/citizens\/[0-9a-f-]+">\*军（510107\*{8}0036）<\/a>/);
  t.regex(item, new RegExp(`data-approval-requester>${agent.username}<`));
  t.regex(item, /data-approval-history><li>[^<]*本人到窗口说明情况/);
});

test.serial('a supervisor may open an account only while an unban request about it waits for them; before and after, it is outside their search', async (t) => {
  // Any real-name account will do: the register is not asked when staff act on an existing one.
  const person = { idNumber: '110105198001010016', name: '甲乙', phone: '13711112222' };
  const id = await foundCitizen(person);
  t.is((await supervisorClient.api('GET', `/citizens/${id}`)).body.error, 'outside_search', 'no request yet');
  t.is((await agentClient.api('POST', `/citizens/${id}/ban`, { reason: 'abuse' })).status, 200);
  const request = await agentClient.api('POST', `/citizens/${id}/unban-requests`, { reason: '本人到窗口说明情况' });
  t.is(request.status, 201);
  t.is((await supervisorClient.api('GET', `/citizens/${id}`)).status, 200, 'the decider may look at what they decide');
  // Twenty looks at once while the request waits: all allowed, each audited as a view.
  const views = async (result: string) => (await auditOf(server.deps, 'citizen.view')).filter((r) => r.target_id === id && r.result === result).length;
  const allowedBefore = await views('success');
  const looks = await Promise.all(Array.from({ length: 20 }, () => supervisorClient.api('GET', `/citizens/${id}`)));
  t.true(looks.every((look) => look.status === 200));
  t.is(await views('success'), allowedBefore + 20);
  t.is((await supervisorClient.api('POST', `/approvals/${request.body.id}/reject`, { note: '材料不全' })).status, 200);
  const deniedBefore = await views('denied');
  t.is((await supervisorClient.api('GET', `/citizens/${id}`)).body.error, 'outside_search', 'once decided, the door closes again');
  t.is(await views('denied'), deniedBefore + 1, 'and the refused look is in the log');
});
