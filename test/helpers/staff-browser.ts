import type { Page } from 'playwright-core';
import { totpCode } from './staff.js';

/** Signs in to the console in a real browser page: password, then the authenticator code. */
export async function consoleSignIn(page: Page, base: string, username: string, password: string, secret: string): Promise<void> {
  await page.goto(`${base}/admin/login`);
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '下一步' }).click();
  await page.waitForURL('**/admin/login/totp');
  await page.getByLabel('动态口令').fill(await totpCode(secret));
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL(/\/admin$/);
}
