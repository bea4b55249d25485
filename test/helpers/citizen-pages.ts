import type { Page } from 'playwright-core';
import { pkce } from './http-browser.js';
import { APP } from './oidc.js';

/**
 * A citizen's steps through the pages in a real browser, as the browser tests share them:
 * what a person types and clicks, by the labels they read.
 */

/** Opens the login page of an authorization request (PKCE) of `client`; returns the interaction's uid. */
export async function openLogin(page: Page, base: string, client: { client_id: string; redirect_uri: string } = APP, extra: Record<string, string> = {}): Promise<string> {
  const url = new URL('/auth', base);
  const { challenge } = pkce();
  const params = { client_id: client.client_id, redirect_uri: client.redirect_uri, response_type: 'code', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state: 'st', ...extra };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  await page.goto(url.href);
  return /\/interaction\/([A-Za-z0-9_-]+)/.exec(page.url())?.[1] ?? '';
}

/**
 * Types an ID number (or phone) and password on the login page shown and signs in; on a
 * desktop, where the page opens on the QR code, by the password tab first.
 */
export async function passwordOnLoginPage(page: Page, identifier: string, password: string): Promise<void> {
  const field = page.getByLabel('身份证号或手机号');
  if (!await field.isVisible()) await page.getByRole('link', { name: '密码登录' }).click();
  await field.fill(identifier);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await page.getByRole('button', { name: '登录', exact: true }).click();
}

/** Signs in to the account centre (/account sends the person to the login page and back). */
export async function signInToAccount(page: Page, base: string, identifier: string, password: string): Promise<void> {
  await page.goto(`${base}/account`);
  await passwordOnLoginPage(page, identifier, password);
  await page.waitForURL(`${base}/account`);
}

/** Step 1 of registration: the name and ID number, then 下一步. */
export async function registrationIdentity(page: Page, base: string, person: { name: string; idNumber: string }): Promise<void> {
  await page.goto(`${base}/register`);
  await page.getByLabel('姓名').fill(person.name);
  await page.getByLabel('身份证号码').fill(person.idNumber);
  await page.getByRole('button', { name: '下一步' }).click();
  await page.locator('[data-factors-needed]').waitFor();
}

/** A further factor on the registration page: its kind, number and (for a bank card) the reserved phone, then 核验. */
export async function registrationFactor(page: Page, kind: string, number: string, reservedPhone?: string): Promise<void> {
  await page.getByLabel('信息类型').selectOption(kind);
  await page.getByLabel('号码', { exact: true }).fill(number);
  if (reservedPhone) await page.getByLabel(/银行预留手机号/).fill(reservedPhone);
  await page.getByRole('button', { name: '核验', exact: true }).click();
  await page.locator(`[data-factor="${kind}"]`).waitFor();
}

/**
 * On the delegations page (授权管理) of a representative: a grant to `grantee` (by name and
 * ID number) of one service item, ending on `until` (a date: through that whole day).
 */
export async function grantOnPage(page: Page, base: string, grantee: { name: string; idNumber: string }, item: string, until: string): Promise<void> {
  await page.goto(`${base}/account/delegations`);
  await page.getByLabel('被授权人姓名').fill(grantee.name);
  await page.getByLabel('被授权人身份证号码').fill(grantee.idNumber);
  await page.locator(`[id="grant-${item}"]`).check();
  await page.locator('#valid_until').fill(until);
  await page.getByRole('button', { name: '授权', exact: true }).click();
  await page.waitForURL(/done=granted/);
}
