import test from 'ava';
import type { Locator, Page } from 'playwright-core';
import type { StaffCredentials } from '../../src/staff/staff-accounts.js';
import { axeViolations } from '../helpers/axe.js';
import { openBrowser, type TestBrowser } from '../helpers/browser.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createHandedOver, createStaff } from '../helpers/staff.js';
import { consolePasswordStep, consoleSignIn, consoleSignInSteps, fillCredentials } from '../helpers/staff-browser.js';

/**
 * What admins do to staff members, through the console's pages in Chromium: the separation
 * of powers refused on the forms, beside the field that asked for it; disabling (after its
 * confirmation), which ends the member's open console at once, and re-enabling, which a
 * second admin decides; withdrawing a role; resetting an authenticator, which the member
 * replaces at the next sign-in; unlocking; and the staff table's status and last sign-in.
 * Then what the deciders and the auditor read of it: a request's history, and the audit
 * viewer naming staff by username and acts by name.
 */

let server: TestServer;
let admin: StaffCredentials;
let adminBrowser: TestBrowser;
let checkerBrowser: TestBrowser;
/** The first admin's console, signed in for the whole file. */
let adminPage: Page;
let checker: StaffCredentials;
/** A second admin's console: the checker of what the first asks for. */
let checkerPage: Page;

test.before(async () => {
  server = await startServer();
  admin = await createStaff(server.deps, 'admin.maker', ['admin']);
  adminBrowser = await openBrowser();
  adminPage = await adminBrowser.context.newPage();
  await consoleSignIn(adminPage, server.url, admin.username, admin.password, admin.totpSecret);
  checker = await createStaff(server.deps, 'admin.checker', ['admin']);
  checkerBrowser = await openBrowser();
  checkerPage = await checkerBrowser.context.newPage();
  await consoleSignIn(checkerPage, server.url, checker.username, checker.password, checker.totpSecret);
});
test.after.always(async () => {
  await adminBrowser?.close();
  await checkerBrowser?.close();
  await server?.close();
});

const rowOf = (page: Page, username: string): Locator => page.locator(`tr[data-staff="${username}"]`);

/** A member's row on the staff page, its acts opened. */
async function openActs(page: Page, username: string): Promise<Locator> {
  await page.goto(`${server.url}/admin/staff`);
  const row = rowOf(page, username);
  await row.locator('summary').click();
  return row;
}

test.serial('roles of two powers are refused on the staff form, beside the roles, as typed, and nothing is created; corrected, the member is created', async (t) => {
  await adminPage.goto(`${server.url}/admin/staff`);
  await adminPage.getByLabel('用户名', { exact: true }).fill('mixed.powers');
  await adminPage.getByLabel('显示名称').fill('兼任试验');
  await adminPage.getByLabel('窗口/客服人员').check();
  await adminPage.getByLabel('审计员').check();
  await adminPage.getByRole('button', { name: '新增工作人员' }).click();

  const beside = adminPage.locator('fieldset [data-field-error="roles"]');
  await beside.waitFor();
  t.regex(await beside.innerText(), /不能由同一人兼任/, 'the rule, beside the roles that broke it');
  t.is(await adminPage.locator('fieldset').getAttribute('aria-describedby'), 'roles-error');
  t.is(await adminPage.locator('[role="alert"]').getAttribute('data-error-code'), 'roles_incompatible');
  t.is(await adminPage.getByLabel('用户名', { exact: true }).inputValue(), 'mixed.powers', 'nothing to type twice');
  t.is(await adminPage.getByLabel('显示名称').inputValue(), '兼任试验');
  t.true(await adminPage.getByLabel('窗口/客服人员').isChecked());
  t.true(await adminPage.getByLabel('审计员').isChecked());
  t.is(await server.deps.staff.accounts.byUsername('mixed.powers'), undefined, 'nothing created');
  t.is(await rowOf(adminPage, 'mixed.powers').count(), 0);
  t.deepEqual(await axeViolations(adminPage), [], 'the refused form');

  await adminPage.getByLabel('审计员').uncheck();
  await adminPage.getByRole('button', { name: '新增工作人员' }).click();
  await adminPage.locator('[data-initial-password]').waitFor();
  const created = await server.deps.staff.accounts.byUsername('mixed.powers');
  t.deepEqual(await server.deps.staff.accounts.roles(created!.id), ['agent']);
});

test.serial('an auditor role for an agent is refused in the agent\'s row, beside the role asked for, and the agent keeps only their role', async (t) => {
  const agent = await createStaff(server.deps, 'agent.powers', ['agent']);
  const acts = await openActs(adminPage, agent.username);
  await acts.getByLabel('理由').fill('兼任审计');
  await acts.getByLabel('要授予或撤销的角色').selectOption('auditor');
  await acts.getByRole('button', { name: '授予角色' }).click();

  // The page comes back with that row's acts open, as typed, and the refusal beside the role.
  const row = rowOf(adminPage, agent.username);
  const beside = row.locator('details[open] [data-field-error="role"]');
  await beside.waitFor();
  t.regex(await beside.innerText(), /不能由同一人兼任/);
  const role = row.getByLabel('要授予或撤销的角色');
  t.is(await role.getAttribute('aria-invalid'), 'true');
  t.is(await role.getAttribute('aria-describedby'), 'role-error');
  t.is(await role.inputValue(), 'auditor');
  t.is(await row.getByLabel('理由').inputValue(), '兼任审计');
  t.is(await adminPage.locator('details[open]').count(), 1, 'no other member\'s acts open');
  t.is(await row.locator('td').nth(1).innerText(), '窗口/客服人员');
  t.deepEqual(await server.deps.staff.accounts.roles(agent.id), ['agent']);
  t.deepEqual(await axeViolations(adminPage), [], 'the refused row');
});

/** A member signed in to the console in a browser of their own (another person at another desk). */
async function memberAtDesk(t: { teardown(fn: () => Promise<void>): void }, member: StaffCredentials): Promise<Page> {
  const browser = await openBrowser();
  t.teardown(() => browser.close());
  const page = await browser.context.newPage();
  await consoleSignIn(page, server.url, member.username, member.password, member.totpSecret);
  return page;
}

/** What the member's open console does on the next click: an ended session lands on the sign-in page. */
async function nextClick(page: Page): Promise<string> {
  const loaded = page.waitForEvent('load');
  await page.getByRole('link', { name: '查询账号' }).click();
  await loaded;
  return new URL(page.url()).pathname;
}

/** An act in a member's row that ends what it cannot leave to a second look: reason, the box, the button. */
async function confirmedAct(username: string, button: string, reason: string, role?: string): Promise<void> {
  const acts = await openActs(adminPage, username);
  await acts.getByLabel('理由').fill(reason);
  if (role) await acts.getByLabel('要授予或撤销的角色').selectOption(role);
  await acts.getByLabel(/停用、撤销角色或重置身份验证器/).check();
  await acts.getByRole('button', { name: button, exact: true }).click();
}

test.serial('the staff table shows each member\'s status and last sign-in', async (t) => {
  const member = await createStaff(server.deps, 'agent.seen', ['agent']);
  const handed = await createHandedOver(server.deps, 'agent.unseen', ['agent']);
  await memberAtDesk(t, member);
  await adminPage.goto(`${server.url}/admin/staff`);
  const seen = rowOf(adminPage, member.username);
  t.is(await seen.getAttribute('data-staff-status'), 'active');
  t.is(await seen.locator('td').nth(2).innerText(), '正常');
  t.regex(await seen.locator('td').nth(4).innerText(), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/, 'when they last signed in');
  const unseen = rowOf(adminPage, handed.username);
  t.is(await unseen.locator('td').nth(4).innerText(), '从未登录');
  t.is(await unseen.locator('td').nth(3).innerText(), '待本人首次登录设置');
});

test.serial('disabling asks for its confirmation, then ends the member\'s open console at once; re-enabling is one admin\'s request and another\'s decision', async (t) => {
  const member = await createStaff(server.deps, 'agent.leaving', ['agent']);
  const memberPage = await memberAtDesk(t, member);

  // Without the box ticked nothing happens, and the form says so beside the box.
  let acts = await openActs(adminPage, member.username);
  await acts.getByLabel('理由').fill('调离窗口岗位');
  await acts.getByRole('button', { name: '停用', exact: true }).click();
  const row = rowOf(adminPage, member.username);
  await row.locator('[data-field-error="confirm"]').waitFor();
  t.is(await adminPage.locator('[role="alert"]').getAttribute('data-error-code'), 'confirmation_required');
  t.is(await row.getAttribute('data-staff-status'), 'active');
  t.is(await row.getByLabel('理由').inputValue(), '调离窗口岗位');
  t.is(await nextClick(memberPage), '/admin/citizens', 'the member works on');

  await row.getByLabel(/停用、撤销角色或重置身份验证器/).check();
  await row.getByRole('button', { name: '停用', exact: true }).click();
  await adminPage.waitForURL(/done=staff_disabled$/);
  t.is(await row.getAttribute('data-staff-status'), 'disabled');
  t.is(await row.locator('td').nth(2).innerText(), '已停用');
  t.is(await nextClick(memberPage), '/admin/login', 'the open console ends with the next click');
  await consolePasswordStep(memberPage, server.url, member.username, member.password);
  t.is(await memberPage.locator('[role="alert"]').getAttribute('data-error-code'), 'login_failed', 'and no sign-in opens it again');

  // One admin asks; the same admin cannot decide it.
  acts = await openActs(adminPage, member.username);
  await acts.getByLabel('理由').fill('调回窗口岗位');
  await acts.getByRole('button', { name: '申请恢复启用' }).click();
  await adminPage.waitForURL(/done=enable_requested$/);
  t.is(await row.getAttribute('data-staff-status'), 'disabled', 'one admin alone brings nobody back');
  await adminPage.getByRole('link', { name: '审批' }).click();
  const own = adminPage.locator('[data-approval-status="pending"]').filter({ hasText: member.username });
  await own.getByRole('button', { name: '批准' }).click();
  t.is(await adminPage.locator('[role="alert"]').getAttribute('data-error-code'), 'self_approval');
  t.is((await server.deps.staff.accounts.byUsername(member.username))!.status, 'disabled');

  // The second admin decides, knowing who asked, about whom and why the member was disabled.
  await checkerPage.goto(`${server.url}/admin/approvals`);
  const item = checkerPage.locator('[data-approval-status="pending"]').filter({ hasText: member.username });
  t.is((await item.locator('[data-approval-requester]').innerText()).trim(), admin.username);
  t.regex(await item.locator('[data-approval-grounds]').innerText(), /停用工作人员账号.*admin\.maker.*调离窗口岗位/);
  await item.getByLabel('审批意见').fill('已核实，同意恢复');
  await item.getByRole('button', { name: '批准' }).click();
  await checkerPage.waitForURL(/done=approved$/);
  await checkerPage.goto(`${server.url}/admin/staff`);
  t.is(await rowOf(checkerPage, member.username).getAttribute('data-staff-status'), 'active');
  await consoleSignIn(memberPage, server.url, member.username, member.password, member.totpSecret, 1);
  t.is(await nextClick(memberPage), '/admin/citizens', 'back at work');
});

test.serial('withdrawing a role takes it at once and ends the member\'s open console', async (t) => {
  const member = await createStaff(server.deps, 'agent.moving', ['agent']);
  const memberPage = await memberAtDesk(t, member);
  await confirmedAct(member.username, '撤销角色', '调往其他部门', 'agent');
  await adminPage.waitForURL(/done=role_withdrawn$/);
  t.is(await rowOf(adminPage, member.username).locator('td').nth(1).innerText(), '无');
  t.deepEqual(await server.deps.staff.accounts.roles(member.id), []);
  t.is(await nextClick(memberPage), '/admin/login');
});

test.serial('an authenticator reset is handed over once, ends the open console, and the member must enrol one of their own at the next sign-in', async (t) => {
  const member = await createStaff(server.deps, 'agent.newphone', ['agent']);
  const memberPage = await memberAtDesk(t, member);
  await confirmedAct(member.username, '重置身份验证器', '手机丢失，本人到场申请');
  const handed = adminPage.locator(`[data-reset-authenticator="${member.username}"]`);
  const secret = new URL((await handed.locator('[data-otpauth]').innerText()).trim()).searchParams.get('secret')!;
  t.not(secret, member.totpSecret);
  t.is(await nextClick(memberPage), '/admin/login');
  await adminPage.goto(`${server.url}/admin/staff`);
  t.is(await rowOf(adminPage, member.username).getAttribute('data-staff-credentials'), 'authenticator_reset');

  // The old authenticator opens nothing; the handed-over one opens only the page that replaces it.
  await consoleSignInSteps(memberPage, server.url, member.username, member.password, member.totpSecret, 1);
  t.is(await memberPage.locator('[role="alert"]').getAttribute('data-error-code'), 'totp_invalid');
  await consoleSignInSteps(memberPage, server.url, member.username, member.password, secret);
  await memberPage.waitForURL('**/admin/credentials');
  t.is(await memberPage.locator('[data-error-code="credentials_change_required"]').count(), 1);
  t.is(await memberPage.getByLabel('新密码', { exact: true }).count(), 0, 'the password is still the member\'s own');
  await memberPage.goto(`${server.url}/admin/citizens`);
  t.regex(memberPage.url(), /\/admin\/credentials$/, 'no other page first');
  const own = await fillCredentials(memberPage, member.password);
  await memberPage.waitForURL(/\/admin\?done=credentials_changed$/);
  t.not(own, secret, 'what the admin saw is replaced');
  await adminPage.goto(`${server.url}/admin/staff`);
  t.is(await rowOf(adminPage, member.username).getAttribute('data-staff-credentials'), 'set');
});

test.serial('a member locked by wrong passwords shows as locked, and an admin unlocks them', async (t) => {
  const member = await createStaff(server.deps, 'agent.forgetful', ['agent']);
  const browser = await openBrowser();
  t.teardown(() => browser.close());
  const memberPage = await browser.context.newPage();
  for (let attempt = 1; attempt <= 5; attempt += 1) {
    await consolePasswordStep(memberPage, server.url, member.username, `wrong-${attempt}`);
    t.is(await memberPage.locator('[role="alert"]').getAttribute('data-error-code'), 'login_failed');
  }
  await consolePasswordStep(memberPage, server.url, member.username, member.password);
  t.is(await memberPage.locator('[role="alert"]').getAttribute('data-error-code'), 'account_locked', 'locked: the right password is refused too');

  await adminPage.goto(`${server.url}/admin/staff`);
  const row = rowOf(adminPage, member.username);
  t.is(await row.getAttribute('data-staff-locked'), 'true');
  t.is(await row.locator('td').nth(2).innerText(), '正常 · 已锁定');
  const acts = await openActs(adminPage, member.username);
  await acts.getByLabel('理由').fill('本人来电，已核实身份');
  await acts.getByRole('button', { name: '解除锁定' }).click();
  await adminPage.waitForURL(/done=staff_unlocked$/);
  t.is(await row.getAttribute('data-staff-locked'), 'false');
  await consoleSignIn(memberPage, server.url, member.username, member.password, member.totpSecret);
  t.is(await nextClick(memberPage), '/admin/citizens', 'the member signs in again');
});

/** One admin asks for a disabled member to be enabled again, from the member's row. */
async function requestEnable(username: string, reason: string): Promise<void> {
  const acts = await openActs(adminPage, username);
  await acts.getByLabel('理由').fill(reason);
  await acts.getByRole('button', { name: '申请恢复启用' }).click();
  await adminPage.waitForURL(/done=enable_requested$/);
}

/** The pending request about a member on the second admin's approvals page. */
async function pendingFor(username: string): Promise<Locator> {
  await checkerPage.goto(`${server.url}/admin/approvals`);
  return checkerPage.locator('[data-approval-status="pending"]').filter({ hasText: username });
}

test.serial('once a request is decided, the next one about the same member shows it to the decider', async (t) => {
  const member = await createStaff(server.deps, 'agent.twice', ['agent']);
  await confirmedAct(member.username, '停用', '离岗培训');
  await adminPage.waitForURL(/done=staff_disabled$/);
  await requestEnable(member.username, '培训未结束，先行申请');
  let item = await pendingFor(member.username);
  t.is(await item.locator('[data-approval-history]').count(), 0, 'a first request has no history');
  await item.getByRole('button', { name: '驳回' }).click();
  await checkerPage.waitForURL(/done=rejected$/);

  await requestEnable(member.username, '培训已结束，申请恢复');
  item = await pendingFor(member.username);
  const history = item.locator('[data-approval-history] li');
  t.is(await history.count(), 1);
  t.regex(await history.innerText(), /恢复启用.*已驳回.*培训未结束，先行申请/);
  t.regex(await item.innerText(), /培训已结束，申请恢复/, 'beside the request now asked');
});

// Reads the record of the acts above (this file's tests run in order, on one server).
test.serial('the audit viewer names staff by username and acts by their names, never by id or code', async (t) => {
  const auditor = await createStaff(server.deps, 'auditor.reader', ['auditor']);
  const page = await memberAtDesk(t, auditor);
  await page.getByRole('link', { name: '审计日志' }).click();
  await page.getByLabel('操作者', { exact: true }).fill(admin.username);
  await page.getByRole('button', { name: '查询' }).click();
  await page.waitForURL(/actor_id=admin\.maker/);

  // What a person reads of each record: every cell but the details, which keep the record as stored.
  const records = await page.locator('tr[data-action]').evaluateAll((rows) => rows.map((row) => {
    const cells = [...row.children].map((cell) => (cell as unknown as { innerText: string }).innerText.trim());
    return { action: row.getAttribute('data-action')!, actor: cells[3]!, name: cells[4]!, target: cells[5]!, read: cells.slice(0, -1).join(' | ') };
  }));
  const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
  t.true(records.length > 0);
  for (const record of records) {
    t.is(record.actor, admin.username, `${record.action}: the actor by username`);
    t.false(UUID.test(record.read), `${record.action}: no id to read: ${record.read}`);
    t.false(record.read.includes(record.action), `${record.action}: no action code to read: ${record.read}`);
    t.notRegex(record.name, /^[a-z_]+(\.[a-z_]+)+$/, `${record.action}: a name, not a code`);
  }
  const disabled = records.find((r) => r.action === 'staff.disable' && r.target.includes('agent.twice'));
  t.is(disabled?.name, '停用工作人员账号');
  t.regex(disabled?.target ?? '', /agent\.twice$/, 'the member by username');
  t.true(records.some((r) => r.action === 'approval.request' && r.name === '提交申请' && r.target.endsWith('agent.twice')));
});
