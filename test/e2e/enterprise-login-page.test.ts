import test, { type ExecutionContext } from 'ava';
import type { Page } from 'playwright-core';
import { GENEROUS_SMS, latestCode } from '../helpers/account-centre.js';
import { axeViolations } from '../helpers/axe.js';
import { PHONE, openPage } from '../helpers/browser.js';
import { ENTERPRISES, PERSONS, citizen, registerAsRepresentative, setEnterprisePassword } from '../helpers/enterprises.js';
import { authorizationRequest } from '../helpers/oidc.js';
import { registerClient, type TestClient } from '../helpers/policy.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * The 法人 tab of the login page with enterprise-account login on (ENTERPRISE_ACCOUNT_LOGIN=on
 * and a client whose access policy allows it), in Chromium on a 390×844 phone: the tab is
 * in reach, its form is usable with a thumb, and axe-core finds nothing on any step.
 */

const ENTERPRISE_PASSWORD = 'Enterprise-Pass-2026';

let server: TestServer;
let client: TestClient;
test.before(async () => {
  // Two codes a minute to a phone: the code step's resend, and then the server's own wait, in one test.
  server = await startServer({ ...GENEROUS_SMS, SMS_LIMIT_PER_MINUTE: '2', ENTERPRISE_ACCOUNT_LOGIN: 'on' });
  client = await registerClient(server, 'enterprise-counter', { enterprise_account_login: true });
});
test.after.always(async () => { await server?.close(); });

/** A representative who registered the enterprise and set its password. */
async function representative(person: { idNumber: string; name: string; phone: string }, enterprise: { uscc: string; name: string }): Promise<void> {
  const { api } = await citizen(server, person);
  const enterpriseId = await registerAsRepresentative(server, api, enterprise, person.phone);
  await setEnterprisePassword(server, api, enterpriseId, person.phone, ENTERPRISE_PASSWORD);
}

async function phoneOnLogin(t: ExecutionContext): Promise<Page> {
  const page = await openPage(PHONE, t.teardown.bind(t));
  await page.goto(authorizationRequest(server.url, client, { scope: 'openid' }).url);
  return page;
}

async function noAxeViolations(t: ExecutionContext, page: Page, state: string): Promise<void> {
  const violations = await axeViolations(page);
  t.deepEqual(violations, [], `${state}: ${JSON.stringify(violations, null, 1)}`);
}

const fitsPhone = (page: Page) => page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth');

test('on a phone the 法人 tab leads to enterprise-account login, whose form is usable and completes the login', async (t) => {
  await representative(PERSONS.zhangSan, ENTERPRISES.fuzhouTech);
  const page = await phoneOnLogin(t);
  const legal = page.getByRole('link', { name: '法人登录' });
  t.true(await legal.isVisible());
  const tab = (await legal.boundingBox())!;
  t.true(tab.height >= 44, 'the tab is a thumb-sized target');
  await legal.click();

  t.regex(new URL(page.url()).pathname, /^\/interaction\/[A-Za-z0-9_-]+\/enterprise$/);
  t.is((await page.locator('h1').textContent())?.trim(), '法人账号登录');
  t.is(await page.locator('nav.entity a[aria-current="page"]').getAttribute('data-entity'), 'legal');
  const form = (await page.locator('form:has(#uscc)').boundingBox())!;
  for (const field of [page.getByLabel('统一社会信用代码'), page.getByLabel('法人账号密码'), page.getByRole('button', { name: '下一步' })]) {
    const box = (await field.boundingBox())!;
    t.true(box.width >= form.width * 0.9 && box.height >= 44, 'fields and button span the form and are tall enough to tap');
  }
  t.true(await fitsPhone(page));
  await noAxeViolations(t, page, 'enterprise login');

  await page.getByLabel('统一社会信用代码').fill(ENTERPRISES.fuzhouTech.uscc);
  await page.getByLabel('法人账号密码').fill('Not-The-Password-1');
  await page.getByRole('button', { name: '下一步' }).click();
  t.is(await page.locator('[data-error-code]').getAttribute('data-error-code'), 'enterprise_login_failed');
  t.is(await page.getByLabel('统一社会信用代码').inputValue(), ENTERPRISES.fuzhouTech.uscc, 'the code typed is kept');
  t.is(await page.getByLabel('法人账号密码').inputValue(), '');
  t.true(await fitsPhone(page));
  await noAxeViolations(t, page, 'enterprise login, refused');

  await page.getByLabel('法人账号密码').fill(ENTERPRISE_PASSWORD);
  await page.getByRole('button', { name: '下一步' }).click();
  await page.getByLabel('短信验证码').waitFor();
  t.regex(await page.locator('[role="status"]').first().innerText(), /验证码已发送至法定代表人绑定的手机 138\*{4}8000/);
  t.true(await fitsPhone(page));
  await noAxeViolations(t, page, 'enterprise login, code step');

  const callback = page.waitForRequest((request) => request.url().startsWith(client.redirect_uri));
  await page.getByLabel('短信验证码').fill(await latestCode(server, PERSONS.zhangSan.phone, 'login'));
  await page.getByRole('button', { name: '登录', exact: true }).click();
  t.true(new URL((await callback).url()).searchParams.has('code'), 'the client receives a code');
});

test('the code step sends another code, counting down its minute, and the server refuses one sooner', async (t) => {
  await representative(PERSONS.liNa, ENTERPRISES.fishBallShop);
  const page = await phoneOnLogin(t);
  await page.getByRole('link', { name: '法人登录' }).click();
  await page.getByLabel('统一社会信用代码').fill(ENTERPRISES.fishBallShop.uscc);
  await page.getByLabel('法人账号密码').fill(ENTERPRISE_PASSWORD);
  await page.getByRole('button', { name: '下一步' }).click();
  await page.getByLabel('短信验证码').waitFor();

  const send = page.locator('form.send-code button[type="submit"]');
  t.true(await send.isDisabled(), 'just sent: the button waits');
  t.regex(await send.textContent() ?? '', /^\d{1,2} 秒后可重新获取$/);
  const box = (await send.boundingBox())!;
  t.true(box.height >= 44 && box.width >= (await page.locator('form.send-code').boundingBox())!.width * 0.9);
  t.true(await fitsPhone(page));
  await noAxeViolations(t, page, 'enterprise code step, counting down');

  // A browser without JavaScript has no countdown: its form asks at once.
  const resend = () => Promise.all([
    page.waitForResponse((response) => response.url().endsWith('/enterprise/code/send')),
    page.evaluate("document.querySelector('form.send-code').submit()"),
  ]).then(() => page.waitForLoadState());
  await resend();
  t.is(await page.locator('[data-error-code]').count(), 0, 'the second code of the minute is sent');
  t.regex(await page.locator('[role="status"]').first().innerText(), /验证码已发送至法定代表人绑定的手机 139\*{4}0001/);
  t.true(await send.isDisabled(), 'and counted down again');
  const latest = await latestCode(server, PERSONS.liNa.phone, 'login');

  await resend();
  t.is(await page.locator('[data-error-code]').getAttribute('data-error-code'), 'sms_rate_limited', 'a third within the minute is refused by the server');
  t.true(await page.getByLabel('短信验证码').isVisible(), 'still on the code step');
  t.false(await send.isDisabled(), 'nothing was sent: no countdown');
  await noAxeViolations(t, page, 'enterprise code step, sent too soon');

  const callback = page.waitForRequest((request) => request.url().startsWith(client.redirect_uri));
  await page.getByLabel('短信验证码').fill(latest);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  t.true(new URL((await callback).url()).searchParams.has('code'), 'the code sent last completes the login');
});
