import test from 'ava';
import { errorCode, hidden } from '../../helpers/http-browser.js';
import { sharedStoresEnv } from '../../helpers/env.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { runCli } from '../../helpers/process.js';
import { auditOf, createStaff, staffSignIn, type StaffClient } from '../../helpers/staff.js';

/**
 * Three separated powers: system administration (admin), security operation (agent,
 * supervisor) and audit (auditor) never meet in one person, nor do agent and supervisor;
 * refused at creation and at every role change, in the API, the console and the CLI.
 */

let server: TestServer;
let admin: StaffClient;
let secondAdmin: StaffClient;
const stores = sharedStoresEnv();
test.before(async () => {
  server = await startServer({}, { stores });
  admin = await staffSignIn(server, await createStaff(server.deps, 'admin.powers', ['admin']));
  secondAdmin = await staffSignIn(server, await createStaff(server.deps, 'admin.checker', ['admin']));
});
test.after.always(async () => { await server?.close(); await stores.cleanup(); });

const deniedCreations = async () => (await auditOf(server.deps, 'staff.create')).filter((r) => r.result === 'denied' && r.details.reason === 'roles_incompatible');

const cli = (args: string[]) => runCli(args, { ...stores.env, ISSUER: server.url });

test.serial('creating a member with roles of two powers, or agent with supervisor, is refused in the API and the console, and audited', async (t) => {
  for (const roles of [['agent', 'auditor'], ['supervisor', 'auditor'], ['agent', 'supervisor']]) {
    const refused = await admin.api('POST', '/staff', { username: `mixed.${roles.join('.')}`, roles });
    t.is(refused.status, 409, roles.join('+'));
    t.is(refused.body.error, 'roles_incompatible');
    t.truthy(refused.body.message_zh);
    t.regex(refused.body.message_en, /never held by one person/);
    t.is(await server.deps.staff.accounts.byUsername(`mixed.${roles.join('.')}`), undefined);
  }
  t.is((await deniedCreations()).length, 3);

  const page = await admin.browser.get('/admin/staff');
  const posted = await admin.browser.request('/admin/staff', {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams([['csrf', hidden(page.body, 'csrf')], ['username', 'mixed.page'], ['roles', 'agent'], ['roles', 'auditor']]),
  });
  t.is(posted.status, 409);
  t.is(errorCode(await posted.text()), 'roles_incompatible');
  t.is((await deniedCreations()).length, 4);
});

test.serial('a role change that would join two powers is refused: granting, and asking for the admin role', async (t) => {
  const auditor = await admin.api('POST', '/staff', { username: 'auditor.only', roles: ['auditor'] });
  const id = auditor.body.id as string;
  for (const role of ['agent', 'supervisor']) {
    const refused = await admin.api('POST', `/staff/${id}/roles`, { role, reason: '兼任窗口' });
    t.is(refused.body.error, 'roles_incompatible', role);
  }
  t.is((await admin.api('POST', `/staff/${id}/admin-requests`, { reason: '兼任管理' })).body.error, 'roles_incompatible');
  t.is((await admin.api('POST', `/staff/${id}/roles`, { role: 'admin', reason: '兼任管理' })).body.error, 'admin_needs_approval');
  t.deepEqual(await server.deps.staff.accounts.roles(id), ['auditor']);
  const denied = (await auditOf(server.deps, 'staff.role_grant')).filter((r) => r.target_id === id && r.result === 'denied').map((r) => r.details.reason);
  t.deepEqual(denied, ['roles_incompatible', 'roles_incompatible', 'admin_needs_approval']);
  t.true((await auditOf(server.deps, 'approval.request.staff.grant_admin')).some((r) => r.target_id === id && r.result === 'denied' && r.details.reason === 'roles_incompatible'));
});

test.serial('an admin grant approved after another role was granted meanwhile is refused at the decision, and audited', async (t) => {
  const member = await admin.api('POST', '/staff', { username: 'moving.member', roles: ['agent'] });
  const id = member.body.id as string;
  await admin.api('POST', `/staff/${id}/roles/agent/withdraw`, { reason: '转岗' });
  const request = await admin.api('POST', `/staff/${id}/admin-requests`, { reason: '接任系统管理' });
  t.is(request.status, 201);
  t.is((await admin.api('POST', `/staff/${id}/roles`, { role: 'auditor', reason: '改任审计' })).status, 200);
  const decided = await secondAdmin.api('POST', `/approvals/${request.body.id}/approve`, {});
  t.is(decided.status, 409);
  t.is(decided.body.error, 'roles_incompatible');
  t.deepEqual(await server.deps.staff.accounts.roles(id), ['auditor']);
  t.true((await auditOf(server.deps, 'approval.approve')).some((r) => r.target_id === id && r.result === 'denied' && r.details.reason === 'roles_incompatible'));
});

test.serial('the CLI refuses roles of two powers with the code and both messages, audited; only the very first admin keeps what the CLI printed', async (t) => {
  const mixed = await cli(['staff:create', '--username', 'cli.mixed', '--role', 'agent', '--role', 'auditor']);
  t.is(mixed.code, 1);
  t.regex(mixed.stderr, /^roles_incompatible: 系统管理/m);
  t.regex(mixed.stderr, /^roles_incompatible: System administration/m);
  t.is(await server.deps.staff.accounts.byUsername('cli.mixed'), undefined);
  t.true((await deniedCreations()).some((r) => r.actor_kind === 'system' && r.details.via === 'cli'));

  // Admins exist here already: a member made at the command line replaces what it printed at first sign-in.
  const later = await cli(['staff:create', '--username', 'cli.auditor', '--role', 'auditor']);
  t.is(later.code, 0, later.stderr);
  t.regex(later.stdout, /at the first sign-in the holder must choose a new password and enrol a new authenticator/);
  t.like(await server.deps.staff.accounts.byUsername('cli.auditor'), { password_must_change: true, totp_must_enrol: true });
});
