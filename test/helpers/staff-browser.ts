import type { Page } from 'playwright-core';
import { totpCode } from './staff.js';

/** The console's first sign-in step, username and password; ends on whatever page the console answers with. */
export async function consolePasswordStep(page: Page, base: string, username: string, password: string): Promise<void> {
  await page.goto(`${base}/admin/login`);
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '下一步' }).click();
}

/**
 * Password, then the authenticator code, on the console's sign-in pages; ends wherever the
 * console sends the member. `ahead` as for totpCode: 1 for a second sign-in of the same
 * member within thirty seconds.
 */
export async function consoleSignInSteps(page: Page, base: string, username: string, password: string, secret: string, ahead = 0): Promise<void> {
  await consolePasswordStep(page, base, username, password);
  await page.waitForURL('**/admin/login/totp');
  await page.getByLabel('动态口令').fill(await totpCode(secret, ahead));
  await page.getByRole('button', { name: '登录' }).click();
}

/** Signs in to the console in a real browser page: password, then the authenticator code. */
export async function consoleSignIn(page: Page, base: string, username: string, password: string, secret: string, ahead = 0): Promise<void> {
  await consoleSignInSteps(page, base, username, password, secret, ahead);
  await page.waitForURL(/\/admin$/);
}

/**
 * Fills the page that replaces a member's credentials: the current password, a new one
 * twice (unless only the authenticator is due, as after a reset), and a code from the new
 * secret the page shows (returned).
 */
export async function fillCredentials(page: Page, currentPassword: string, newPassword?: string): Promise<string> {
  const secret = (await page.locator('[data-new-secret]').textContent())!.trim();
  await page.getByLabel('当前密码').fill(currentPassword);
  if (newPassword !== undefined) {
    await page.getByLabel('新密码', { exact: true }).fill(newPassword);
    await page.getByLabel('再次输入新密码').fill(newPassword);
  }
  // The previous step's code: the next sign-in within thirty seconds is then no replay of it.
  await page.getByLabel('新身份验证器显示的动态口令').fill(await totpCode(secret, -1));
  await page.getByRole('button', { name: '保存' }).click();
  return secret;
}

/**
 * An agent resets a citizen's password at the counter in the console: finds the account by
 * ID number, types the name and ID number read from the card, ticks the confirmation and
 * submits. Ends on the hand-over sheet; returns the initial password it shows.
 */
export async function resetAtCounter(page: Page, base: string, person: { idNumber: string; name: string }): Promise<string> {
  await page.goto(`${base}/admin/citizens`);
  await page.getByLabel(/身份证号码或手机号码/).fill(person.idNumber);
  await page.getByRole('button', { name: '查询' }).click();
  await page.locator('[data-account] a').first().click();
  await page.waitForURL(/\/admin\/citizens\/[0-9a-f-]{36}$/);
  await page.locator('#reset_name').fill(person.name);
  await page.locator('#reset_id').fill(person.idNumber);
  await page.locator('form[action$="/reset"] input[name="confirm"]').check();
  await page.getByRole('button', { name: '重置密码' }).click();
  return (await page.locator('[data-initial-password]').textContent())!.trim();
}
