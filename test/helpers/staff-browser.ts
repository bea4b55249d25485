import type { Page } from 'playwright-core';
import { totpCode } from './staff.js';

/** Password, then the authenticator code, on the console's sign-in pages; ends wherever the console sends the member. */
export async function consoleSignInSteps(page: Page, base: string, username: string, password: string, secret: string): Promise<void> {
  await page.goto(`${base}/admin/login`);
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '下一步' }).click();
  await page.waitForURL('**/admin/login/totp');
  await page.getByLabel('动态口令').fill(await totpCode(secret));
  await page.getByRole('button', { name: '登录' }).click();
}

/** Signs in to the console in a real browser page: password, then the authenticator code. */
export async function consoleSignIn(page: Page, base: string, username: string, password: string, secret: string): Promise<void> {
  await consoleSignInSteps(page, base, username, password, secret);
  await page.waitForURL(/\/admin$/);
}

/**
 * Fills the page that replaces a member's credentials: the current password, a new one
 * twice, and a code from the new secret the page shows (returned).
 */
export async function fillCredentials(page: Page, currentPassword: string, newPassword: string): Promise<string> {
  const secret = (await page.locator('[data-new-secret]').textContent())!.trim();
  await page.getByLabel('当前密码').fill(currentPassword);
  await page.getByLabel('新密码', { exact: true }).fill(newPassword);
  await page.getByLabel('再次输入新密码').fill(newPassword);
  // The previous step's code: the next sign-in within thirty seconds is then no replay of it.
  await page.getByLabel('新身份验证器显示的动态口令').fill(await totpCode(secret, -1));
  await page.getByRole('button', { name: '保存' }).click();
  return secret;
}
