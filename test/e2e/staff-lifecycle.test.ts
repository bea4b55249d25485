import test from 'ava';
import type { Locator, Page } from 'playwright-core';
import type { StaffCredentials } from '../../src/staff/staff-accounts.js';
import { axeViolations } from '../helpers/axe.js';
import { openBrowser, type TestBrowser } from '../helpers/browser.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createStaff } from '../helpers/staff.js';
import { consoleSignIn } from '../helpers/staff-browser.js';

/**
 * What admins do to staff members, through the console's pages in Chromium: the separation
 * of powers refused on the forms, beside the field that asked for it.
 */

let server: TestServer;
let admin: StaffCredentials;
let adminBrowser: TestBrowser;
/** The first admin's console, signed in for the whole file. */
let adminPage: Page;

test.before(async () => {
  server = await startServer();
  admin = await createStaff(server.deps, 'admin.maker', ['admin']);
  adminBrowser = await openBrowser();
  adminPage = await adminBrowser.context.newPage();
  await consoleSignIn(adminPage, server.url, admin.username, admin.password, admin.totpSecret);
});
test.after.always(async () => {
  await adminBrowser?.close();
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
