import { randomUUID } from 'node:crypto';
import test from 'ava';
import { seedAccount } from '../../helpers/accounts.js';
import { errorCode, HttpBrowser } from '../../helpers/http-browser.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { auditOf, createStaff, staffSignIn, totpCode, type StaffClient } from '../../helpers/staff.js';
import type { StaffCredentials } from '../../../src/staff/staff-accounts.js';

/**
 * Every refusal of a staff act is in the audit log: those the staff services make before
 * or besides their main checks (an unknown member or request, a reason too short, a query
 * that is no ID number or phone, a member disabled between the two sign-in steps), and
 * requests the console refuses for their form before any service sees them. Each test
 * counts the refusals of its action before and after.
 */

let server: TestServer;
/** An admin, an agent and a supervisor, each signed in. */
let root: StaffClient;
let agent: StaffCredentials & { client: StaffClient };
let supervisor: StaffCredentials & { client: StaffClient };
test.before(async () => {
  server = await startServer();
  root = await staffSignIn(server, await createStaff(server.deps, 'admin.refuses', ['admin']));
  const signedIn = async (member: StaffCredentials) => ({ ...member, client: await staffSignIn(server, member) });
  agent = await signedIn(await createStaff(server.deps, 'agent.refused', ['agent']));
  supervisor = await signedIn(await createStaff(server.deps, 'head.refused', ['supervisor']));
});
test.after.always(async () => { await server?.close(); });

const denied = async (action: string) => (await auditOf(server.deps, action)).filter((r) => r.result === 'denied');

/** Runs a request that is refused; returns its error code, how many refusals of `action` the log gained, and the last one. */
async function refused(action: string, request: () => Promise<{ body: Record<string, any> } | { body: string }>) {
  const before = (await denied(action)).length;
  const answer = await request();
  const after = await denied(action);
  return { error: typeof answer.body === 'string' ? errorCode(answer.body) : answer.body.error as string | undefined, added: after.length - before, record: after.at(-1) };
}

test.serial('a console request refused for its form is audited once, named after its route: a JSON body, a path, a form without its box, a page\'s query', async (t) => {
  const member = await root.api('POST', '/staff', { username: 'agent.kept', roles: ['agent'] });
  const id = member.body.id as string;

  const body = await refused('console.staff.disable', () => root.api('POST', `/staff/${id}/disable`, {}));
  t.like(body, { error: 'invalid_input', added: 1, record: { actor_kind: 'staff', details: { reason: 'invalid_input', field: 'reason', method: 'POST', route: '/api/v1/admin/staff/:staffId/disable' } } });

  const path = await refused('console.staff.roles.withdraw', () => root.api('POST', `/staff/${id}/roles/boss/withdraw`, { reason: '调整岗位' }));
  t.like(path, { error: 'invalid_input', added: 1, record: { details: { field: 'role' } } });

  const page = await root.browser.get('/admin/staff');
  t.is(page.response.status, 200);
  const unticked = await refused('console.staff.disable', () => root.browser.post(`/admin/staff/${id}/disable`, { csrf: root.csrf, reason: '调离窗口岗位' }));
  t.like(unticked, { error: 'confirmation_required', added: 1, record: { details: { reason: 'confirmation_required', route: '/admin/staff/:staffId/disable' } } });
  t.is((await server.deps.staff.accounts.row(id))?.status, 'active', 'nothing was done');

  const tooLong = await refused('console.citizens', () => agent.client.browser.get(`/admin/citizens?q=${'1'.repeat(40)}`));
  t.like(tooLong, { error: 'invalid_input', added: 1, record: { actor_id: agent.id, details: { method: 'GET', route: '/admin/citizens' } } });

  const auditor = await staffSignIn(server, await createStaff(server.deps, 'auditor.refused', ['auditor']));
  const filter = await refused('console.audit', () => auditor.api('GET', '/audit?action=NOT-AN-ACTION'));
  t.like(filter, { error: 'invalid_input', added: 1, record: { details: { field: 'action', route: '/api/v1/admin/audit' } } });
  // The viewer names these records in words, the route's action in the row's title.
  const viewer = (await auditor.browser.get('/admin/audit?action=console.')).body;
  t.regex(viewer, /<td data-action-name title="console\.staff\.disable">控制台请求格式不符（未办理）<\/td>/);

  // A refusal the staff service makes itself is recorded once, under its own action, not again under the route's.
  const routeBefore = (await denied('console.staff.disable')).length;
  t.like(await refused('staff.disable', () => root.api('POST', `/staff/${randomUUID()}/disable`, { reason: '没有此人' })), { error: 'not_found', added: 1 });
  t.is((await denied('console.staff.disable')).length, routeBefore);
});

test.serial('creating a member under a name that is no username, or with a role that does not exist, is refused and audited, in the console and at the command line', async (t) => {
  const fromConsole = await refused('staff.create', () => root.api('POST', '/staff', { username: 'Not A Name', roles: ['agent'] }));
  t.like(fromConsole, { error: 'invalid_input', added: 1, record: { actor_kind: 'staff', details: { reason: 'invalid_input', field: 'username' } } });
  const cli = await refused('staff.create', () => server.deps.staff.accounts.create({ username: 'cli.boss', roles: ['boss' as never] }, { kind: 'system' }, {})
    .then(() => ({ body: {} }), (error: { code: string }) => ({ body: { error: error.code } })));
  t.like(cli, { error: 'invalid_input', added: 1, record: { actor_kind: 'system', details: { reason: 'invalid_input', username: 'cli.boss', via: 'cli' } } });
  t.is(await server.deps.staff.accounts.byUsername('cli.boss'), undefined);
});

test.serial('asking to re-enable, or to make an admin of, a member who does not exist is refused and audited', async (t) => {
  const nobody = randomUUID();
  t.like(await refused('approval.request.staff.enable', () => root.api('POST', `/staff/${nobody}/enable-requests`, { reason: '恢复启用' })),
    { error: 'not_found', added: 1, record: { target_kind: 'staff', target_id: nobody, details: { reason: 'not_found' } } });
  t.like(await refused('approval.request.staff.grant_admin', () => root.api('POST', `/staff/${nobody}/admin-requests`, { reason: '接任系统管理' })),
    { error: 'not_found', added: 1, record: { target_kind: 'staff', target_id: nobody, details: { reason: 'not_found' } } });
});

test.serial('a request for a second person with a one-character reason is refused and audited: re-enabling a member, lifting a ban', async (t) => {
  const member = await createStaff(server.deps, 'agent.shut', ['agent']);
  t.is((await root.api('POST', `/staff/${member.id}/disable`, { reason: '调离窗口岗位' })).status, 200);
  t.like(await refused('approval.request.staff.enable', () => root.api('POST', `/staff/${member.id}/enable-requests`, { reason: 'x' })),
    { error: 'invalid_input', added: 1, record: { target_id: member.id, details: { reason: 'invalid_input', field: 'reason' } } });

  const citizen = await seedAccount(server.deps, { idNumber: '330102197511114568', name: '钱芳', phone: '13900250011' });
  t.is((await agent.client.api('GET', '/citizens?q=13900250011')).body.results?.[0]?.id, citizen);
  t.is((await agent.client.api('POST', `/citizens/${citizen}/ban`, { reason: 'abuse' })).status, 200);
  t.like(await refused('approval.request.account.unban', () => agent.client.api('POST', `/citizens/${citizen}/unban-requests`, { reason: 'x' })),
    { error: 'invalid_input', added: 1, record: { target_kind: 'account', target_id: citizen, details: { field: 'reason' } } });
  t.deepEqual((await root.api('GET', '/approvals?status=pending')).body.approvals.filter((a: { target: { id: string } }) => a.target.id === member.id), [], 'no request was filed');
});

test.serial('deciding a request that does not exist: a decider is told so, anyone else is refused the act; both audited', async (t) => {
  const missing = randomUUID();
  t.like(await refused('approval.approve', () => supervisor.client.api('POST', `/approvals/${missing}/approve`, {})),
    { error: 'not_found', added: 1, record: { actor_id: supervisor.id, target_kind: 'approval', target_id: missing, details: { reason: 'not_found' } } });
  t.like(await refused('approval.reject', () => agent.client.api('POST', `/approvals/${missing}/reject`, {})),
    { error: 'forbidden', added: 1, record: { actor_id: agent.id, details: { reason: 'missing_role' } } });
});

test.serial('a member disabled between the password and the code is refused at the code, and the refusal is on their record', async (t) => {
  const member = await createStaff(server.deps, 'agent.between', ['agent']);
  const browser = new HttpBrowser(server.url);
  t.regex((await browser.post('/admin/login', { username: member.username, password: member.password })).url, /\/admin\/login\/totp$/);
  t.is((await root.api('POST', `/staff/${member.id}/disable`, { reason: '调离窗口岗位' })).status, 200);
  const code = await totpCode(member.totpSecret, 1);
  t.like(await refused('staff.login.totp', () => browser.post('/admin/login/totp', { code })),
    { error: 'login_state_invalid', added: 1, record: { actor_kind: 'staff', actor_id: member.id, target_id: member.id, details: { reason: 'login_state_invalid', status: 'disabled' } } });
});

test.serial('a search for what is neither an ID number nor a phone is refused and audited', async (t) => {
  t.like(await refused('citizen.search', () => agent.client.api('GET', '/citizens?q=abc')),
    { error: 'invalid_input', added: 1, record: { actor_id: agent.id, details: { reason: 'invalid_input', field: 'q' } } });
});
