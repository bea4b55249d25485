import test from 'ava';
import { errorCode, hidden, HttpBrowser } from '../../helpers/http-browser.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { apiSignIn, auditOf, createStaff, ownPassword, staffSignIn, totpCode, type StaffClient } from '../../helpers/staff.js';
import type { StaffCredentials } from '../../../src/staff/staff-accounts.js';
import { otpauthQr } from '../../../src/http/admin/console-kit.js';

/**
 * A member's lifecycle: disabled at once (their open session refused on its next request),
 * re-enabled only with a second admin; roles withdrawn and granted; an authenticator reset
 * that forces re-enrolment; a lock lifted; each with a reason, each act and refusal audited,
 * and twenty of them at once ending as if one after another.
 */

let server: TestServer;
let admin: StaffCredentials;
let root: StaffClient;
let checker: StaffClient;
test.before(async () => {
  server = await startServer();
  admin = await createStaff(server.deps, 'admin.life', ['admin']);
  root = await staffSignIn(server, admin);
  checker = await staffSignIn(server, await createStaff(server.deps, 'admin.second', ['admin']));
});
test.after.always(async () => { await server?.close(); });

const listed = async (id: string) => ((await root.api('GET', '/staff')).body.staff as Array<Record<string, unknown>>).find((s) => s.id === id)!;
const records = async (action: string, id: string) => (await auditOf(server.deps, action)).filter((r) => r.target_id === id);

test.serial('disabling ends the member\'s live session at once; re-enabling needs a second admin; each refusal is audited', async (t) => {
  const fresh = await root.api('POST', '/staff', { username: 'agent.fresh', roles: ['agent'] });
  t.like(await listed(fresh.body.id), { status: 'active', last_login_at: null, credentials: 'first_sign_in', locked: false });
  const member = await createStaff(server.deps, 'agent.leaving', ['agent']);
  const signingIn = Date.now();
  const live = await staffSignIn(server, member);
  t.is((await live.api('GET', '/approvals')).status, 200);
  t.like(await listed(member.id), { status: 'active', credentials: 'set', locked: false });
  t.true(Date.parse((await listed(member.id)).last_login_at as string) >= signingIn, 'the last sign-in is shown');

  t.is((await root.api('POST', `/staff/${admin.id}/disable`, { reason: '自己停用自己' })).body.error, 'staff_self_administration');
  const disabled = await root.api('POST', `/staff/${member.id}/disable`, { reason: '调离窗口岗位' });
  t.is(disabled.status, 200, JSON.stringify(disabled.body));
  t.is(disabled.body.status, 'disabled');
  // The open session is refused on its very next request, and no new one can begin.
  t.is((await live.api('GET', '/approvals')).status, 401);
  t.is((await live.browser.request('/admin')).headers.get('location'), '/admin/login');
  const browser = new HttpBrowser(server.url);
  t.is(errorCode((await browser.post('/admin/login', { username: member.username, password: member.password })).body), 'login_failed');
  t.is((await root.api('POST', `/staff/${member.id}/disable`, { reason: '再次停用' })).body.error, 'staff_not_active');
  t.like((await records('staff.disable', member.id)).map((r) => ({ result: r.result, reason: r.details.reason })), [{ result: 'success', reason: '调离窗口岗位' }, { result: 'denied', reason: 'staff_not_active' }]);
  t.true((await records('staff.disable', admin.id)).some((r) => r.result === 'denied' && r.details.reason === 'staff_self_administration'));

  const request = await root.api('POST', `/staff/${member.id}/enable-requests`, { reason: '返回窗口岗位' });
  t.is(request.status, 201, JSON.stringify(request.body));
  t.like(request.body, { kind: 'staff.enable', status: 'pending', target: { kind: 'staff', id: member.id } });
  t.is((await root.api('POST', `/approvals/${request.body.id}/approve`, {})).body.error, 'self_approval');
  t.is((await listed(member.id)).status, 'disabled');
  const approved = await checker.api('POST', `/approvals/${request.body.id}/approve`, { note: '同意' });
  t.is(approved.body.status, 'approved');
  t.is((await listed(member.id)).status, 'active');
  t.like((await records('staff.enable', member.id)).at(-1), { result: 'success', details: { reason: '返回窗口岗位' } });
  t.is((await root.api('POST', `/staff/${member.id}/enable-requests`, { reason: '已经启用' })).body.error, 'staff_not_disabled');
  t.true((await records('approval.request.staff.enable', member.id)).some((r) => r.result === 'denied' && r.details.reason === 'staff_not_disabled'));
  t.is((await staffSignIn(server, member, 1).then((c) => c.api('GET', '/approvals'))).status, 200);
});

test.serial('withdrawing a role ends the member\'s sessions at once; what is left is exactly what is held', async (t) => {
  const member = await createStaff(server.deps, 'head.moving', ['supervisor']);
  const live = await staffSignIn(server, member);
  t.is((await live.api('GET', '/citizens?q=13800138000')).status, 200);
  t.is((await root.api('POST', `/staff/${member.id}/roles/agent/withdraw`, { reason: '没有此角色' })).body.error, 'staff_role_unchanged');
  const withdrawn = await root.api('POST', `/staff/${member.id}/roles/supervisor/withdraw`, { reason: '不再担任部门负责人' });
  t.is(withdrawn.status, 200, JSON.stringify(withdrawn.body));
  t.deepEqual(withdrawn.body.roles, []);
  t.is((await live.api('GET', '/citizens?q=13800138000')).status, 401);
  const again = await staffSignIn(server, member, 1);
  t.is((await again.api('GET', '/citizens?q=13800138000')).body.error, 'forbidden');
  t.deepEqual((await records('staff.role_withdraw', member.id)).map((r) => [r.result, r.details.reason]), [['denied', 'staff_role_unchanged'], ['success', '不再担任部门负责人']]);
});

test.serial('an authenticator reset ends the sessions, the old codes fail, and the member enrols one of their own before any act', async (t) => {
  const member = await createStaff(server.deps, 'agent.lostphone', ['agent']);
  const live = await staffSignIn(server, member);
  const reset = await root.api('POST', `/staff/${member.id}/authenticator-reset`, { reason: '手机遗失' });
  t.is(reset.status, 200, JSON.stringify(reset.body));
  t.like(reset.body.staff, { credentials: 'authenticator_reset' });
  const issued = reset.body.secret as string;
  t.is((await live.api('GET', '/approvals')).status, 401);

  const browser = new HttpBrowser(server.url);
  await browser.post('/admin/login', { username: member.username, password: member.password });
  t.is(errorCode((await browser.post('/admin/login/totp', { code: await totpCode(member.totpSecret, 1) })).body), 'totp_invalid');
  // The admin knows the issued secret but not the password: it is the holder who signs in.
  const { next, client } = await apiSignIn(server, { ...member, totpSecret: issued });
  t.is(next, 'credentials');
  t.is((await client.api('GET', '/approvals')).body.error, 'credentials_change_required');
  t.like((await client.api('GET', '/credentials')).body, { authenticator_enrolment_required: true, password_change_required: false });
  t.is((await client.api('POST', '/credentials', { current_password: member.password, new_password: ownPassword() })).body.error, 'invalid_input');
  const enrolment = await client.api('POST', '/credentials/authenticator');
  const done = await client.api('POST', '/credentials', { current_password: member.password, code: await totpCode(enrolment.body.secret, -1) });
  t.like(done.body, { authenticator_changed: true, password_changed: false });
  t.is((await client.api('GET', '/approvals')).status, 200);
  const late = new HttpBrowser(server.url);
  await late.post('/admin/login', { username: member.username, password: member.password });
  t.is(errorCode((await late.post('/admin/login/totp', { code: await totpCode(issued, 1) })).body), 'totp_invalid', 'the issued secret is gone too');
  t.like((await records('staff.authenticator_reset', member.id)).at(-1), { result: 'success', details: { reason: '手机遗失' } });
});

test.serial('a member locked by wrong passwords is unlocked by an admin with a reason, on the console page', async (t) => {
  const member = await createStaff(server.deps, 'agent.locked', ['agent']);
  const browser = new HttpBrowser(server.url);
  for (let i = 0; i < 5; i += 1) await browser.post('/admin/login', { username: member.username, password: 'wrong-password-1' });
  t.is(errorCode((await browser.post('/admin/login', { username: member.username, password: member.password })).body), 'account_locked');
  const page = await root.browser.get('/admin/staff');
  t.regex(page.body, new RegExp(`data-staff="${member.username}" data-staff-status="active" data-staff-locked="true"`));
  const unlocked = await root.browser.post(`/admin/staff/${member.id}/unlock`, { csrf: hidden(page.body, 'csrf'), reason: '本人到场核实' });
  t.regex(unlocked.url, /\/admin\/staff\?done=staff_unlocked$/);
  t.regex(unlocked.body, new RegExp(`data-staff="${member.username}" data-staff-status="active" data-staff-locked="false"`));
  const again = await root.browser.post(`/admin/staff/${member.id}/unlock`, { csrf: hidden(page.body, 'csrf'), reason: '再次解锁' });
  t.is(errorCode(again.body), 'staff_not_locked');
  t.deepEqual((await records('staff.unlock', member.id)).map((r) => [r.result, r.details.reason]), [['success', '本人到场核实'], ['denied', 'staff_not_locked']]);
  t.is((await apiSignIn(server, member)).next, 'session');
});

test.serial('the console page disables a member and shows status, roles, credentials and last sign-in in words', async (t) => {
  const member = await createStaff(server.deps, 'auditor.page', ['auditor']);
  const page = await root.browser.get('/admin/staff');
  t.regex(page.body, /<th>最近登录<\/th>/);
  t.regex(page.body, new RegExp(`data-staff="${member.username}"[^>]*data-staff-credentials="set"`));
  t.regex(page.body, /从未登录|\d{4}-\d{2}-\d{2}/);
  const missing = await root.browser.post(`/admin/staff/${member.id}/disable`, { csrf: hidden(page.body, 'csrf'), reason: '', confirm: 'yes' });
  t.is(errorCode(missing.body), 'invalid_input');
  const unconfirmed = await root.browser.post(`/admin/staff/${member.id}/disable`, { csrf: hidden(page.body, 'csrf'), reason: '离职' });
  t.is(errorCode(unconfirmed.body), 'confirmation_required', 'disabling asks for its box on the page');
  t.regex(unconfirmed.body, new RegExp(`data-staff="${member.username}" data-staff-status="active"`));
  const done = await root.browser.post(`/admin/staff/${member.id}/disable`, { csrf: hidden(page.body, 'csrf'), reason: '离职', confirm: 'yes' });
  t.regex(done.url, /done=staff_disabled$/);
  t.regex(done.body, new RegExp(`data-staff="${member.username}" data-staff-status="disabled"`));
  t.regex(done.body, /已停用/);
});

test.serial('the console page withdraws a role and resets an authenticator only with the box ticked; unticked, nothing changes', async (t) => {
  const member = await createStaff(server.deps, 'supervisor.page', ['supervisor']);
  const listed = async () => (await root.api('GET', '/staff')).body.staff.find((s: { id: string }) => s.id === member.id) as { roles: string[]; credentials: string };
  const before = await listed();
  t.deepEqual(before.roles, ['supervisor']);
  const csrf = hidden((await root.browser.get('/admin/staff')).body, 'csrf');
  const unconfirmed = await root.browser.post(`/admin/staff/${member.id}/withdraw`, { csrf, role: 'supervisor', reason: '调岗' });
  t.is(errorCode(unconfirmed.body), 'confirmation_required');
  const unreset = await root.browser.post(`/admin/staff/${member.id}/authenticator`, { csrf, reason: '手机丢失' });
  t.is(errorCode(unreset.body), 'confirmation_required');
  t.deepEqual(await listed(), before, 'nothing changed');
  const withdrawn = await root.browser.post(`/admin/staff/${member.id}/withdraw`, { csrf, role: 'supervisor', reason: '调岗', confirm: 'yes' });
  t.regex(withdrawn.url, /done=role_withdrawn$/);
  t.deepEqual((await listed()).roles, []);
  const reset = await root.browser.post(`/admin/staff/${member.id}/authenticator`, { csrf, reason: '手机丢失', confirm: 'yes' });
  t.is(reset.response.status, 200);
  t.not((await listed()).credentials, before.credentials);
  // The new authenticator as a QR code to scan, of exactly the URI shown beside it.
  const uri = /<code data-otpauth>([^<]+)<\/code>/.exec(reset.body)?.[1]?.replaceAll('&amp;', '&') ?? '';
  t.regex(uri, /^otpauth:\/\/totp\/.+secret=/);
  const src = /<img class="qr" data-otpauth-qr [^>]*src="([^"]+)"/.exec(reset.body)?.[1] ?? '';
  t.is(src, await otpauthQr(uri));
  t.is(Buffer.from(src.replace(/^data:image\/png;base64,/, ''), 'base64').subarray(1, 4).toString('latin1'), 'PNG', 'a PNG image');
});

test.serial('twenty disables at once: one takes effect, nineteen are refused, and every one is in the log', async (t) => {
  const member = await createStaff(server.deps, 'agent.raced', ['agent']);
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => root.api('POST', `/staff/${member.id}/disable`, { reason: `并发停用 ${i}` })));
  t.is(answers.filter((a) => a.status === 200).length, 1);
  t.true(answers.filter((a) => a.status !== 200).every((a) => a.body.error === 'staff_not_active'));
  const logged = await records('staff.disable', member.id);
  t.is(logged.filter((r) => r.result === 'success').length, 1);
  t.is(logged.filter((r) => r.result === 'denied').length, 19);
  t.is((await listed(member.id)).status, 'disabled');
});

test.serial('twenty role grants at once on a member without roles end in one power: one grant, nineteen audited refusals', async (t) => {
  const member = await createStaff(server.deps, 'member.raced', ['supervisor']);
  await root.api('POST', `/staff/${member.id}/roles/supervisor/withdraw`, { reason: '待定岗' });
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => root.api('POST', `/staff/${member.id}/roles`, { role: i % 2 ? 'auditor' : 'agent', reason: `并发授权 ${i}` })));
  t.is(answers.filter((a) => a.status === 200).length, 1);
  t.true(answers.filter((a) => a.status !== 200).every((a) => ['roles_incompatible', 'staff_role_unchanged'].includes(a.body.error)));
  const roles = await server.deps.staff.accounts.roles(member.id);
  t.is(roles.length, 1);
  const logged = await records('staff.role_grant', member.id);
  t.deepEqual(logged.filter((r) => r.result === 'success').map((r) => r.details.role), roles);
  t.is(logged.filter((r) => r.result === 'denied').length, 19);
});
