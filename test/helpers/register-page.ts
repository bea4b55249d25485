import type { Page } from 'playwright-core';

/** In Chromium: registration's first step for a person, then a code asked for their phone number. */
export async function registerUpToPhoneCode(page: Page, base: string, person: { name: string; idNumber: string; phone: string }): Promise<void> {
  await page.goto(`${base}/register`);
  await page.getByLabel('姓名').fill(person.name);
  await page.getByLabel('身份证号码').fill(person.idNumber);
  await page.getByRole('button', { name: '下一步' }).click();
  await page.getByLabel('手机号码').fill(person.phone);
  await page.getByRole('button', { name: '发送验证码' }).click();
}
