import test, { type ExecutionContext } from 'ava';
import type { Page } from 'playwright-core';
import { readOutbox } from '../../src/ports/sms/index.js';
import { GENEROUS_SMS, latestCode, makePerson, otherCode, outboxFile } from '../helpers/account-centre.js';
import { PASSWORD, seedAccount, ZHANG_SAN } from '../helpers/accounts.js';
import { axeViolations } from '../helpers/axe.js';
import { openBrowser } from '../helpers/browser.js';
import { LI_NA, seedEnterprise } from '../helpers/delegation.js';
import { ENTERPRISES, PERSONS } from '../helpers/enterprises.js';
import { registerUpToPhoneCode } from '../helpers/register-page.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * The self-service forms in Chromium on a 390×844 phone, zh-CN: a refused form keeps what
 * was typed and shows its message right under the field it is about, the field pointing
 * at it; axe-core (WCAG 2.2 A and AA) finds nothing on any state reached.
 */

const NEW_PASSWORD = 'Lantern-Harbour-73';
/** 李娜's bank card in the registry fixtures, reserved with her phone. */
const LI_NA_BANK_CARD = '6217001830001234569';

let server: TestServer;
test.before(async () => {
  server = await startServer({ ...GENEROUS_SMS, REALNAME_FAILURES_PER_IP_PER_HOUR: '1000', REALNAME_FAILURES_PER_ID_PER_DAY: '1000', REALNAME_CAPTCHA_AFTER_FAILURES: '1000' });
});
test.after.always(async () => { await server?.close(); });

async function phonePage(t: ExecutionContext): Promise<Page> {
  const browser = await openBrowser({ viewport: { width: 390, height: 844 }, isMobile: true });
  t.teardown(() => browser.close());
  return browser.context.newPage();
}

async function noViolations(t: ExecutionContext, page: Page, state: string): Promise<void> {
  const violations = await axeViolations(page);
  t.deepEqual(violations, [], `${state}: ${JSON.stringify(violations, null, 1)}`);
}

/** The field is marked and points at its message, and the message stands right under it. */
async function besideItsField(t: ExecutionContext, page: Page, input: string, field: string): Promise<void> {
  const control = page.locator(input);
  t.is(await control.getAttribute('aria-invalid'), 'true', input);
  t.is(await control.getAttribute('aria-describedby'), `${field}-error`, input);
  const message = page.locator(`#${field}-error`);
  await message.waitFor();
  const [below, above] = [(await message.boundingBox())!, (await control.boundingBox())!];
  const gap = below.y - (above.y + above.height);
  t.true(gap >= 0 && gap < 24, `${field}: the message is right under its field (${gap} px)`);
}

async function signIn(page: Page, identifier: string, password = PASSWORD): Promise<void> {
  await page.goto(`${server.url}/account`);
  await page.getByLabel('身份证号或手机号').fill(identifier);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.waitForURL(`${server.url}/account**`);
}

test('registration: a wrong code and a wrong factor are told beside their fields, the number kept', async (t) => {
  const page = await phonePage(t);
  await registerUpToPhoneCode(page, server.url, ZHANG_SAN);
  await page.getByLabel(/短信验证码/).fill(otherCode(await latestCode(server, ZHANG_SAN.phone, 'register')));
  await page.getByRole('button', { name: '验证', exact: true }).click();
  await besideItsField(t, page, '#code', 'code');
  t.is(await page.locator('#code').inputValue(), '', 'a code is never filled in again');
  await noViolations(t, page, 'registration, wrong code');

  await page.getByLabel('信息类型').selectOption('housing_fund');
  await page.getByLabel('号码', { exact: true }).fill('1100000099999');
  await page.getByRole('button', { name: '核验', exact: true }).click();
  await besideItsField(t, page, '#number', 'number');
  t.is(await page.locator('#number').inputValue(), '1100000099999');
  t.is(await page.getByLabel('信息类型').inputValue(), 'housing_fund');
  await noViolations(t, page, 'registration, wrong factor');
});

test('recovery and changing the phone: a refused ID number is told beside its field, name and number kept', async (t) => {
  const person = makePerson('冯一');
  await seedAccount(server.deps, person);
  const page = await phonePage(t);
  const badId = `${person.idNumber.slice(0, 17)}${person.idNumber.endsWith('0') ? '1' : '0'}`;

  await page.goto(`${server.url}/recovery`);
  await page.getByLabel('姓名').fill(person.name);
  await page.getByLabel('身份证号码').fill(badId);
  await page.getByRole('button', { name: '获取验证码' }).click();
  await besideItsField(t, page, '#id_number', 'id_number');
  t.is(await page.locator('#name').inputValue(), person.name);
  t.is(await page.locator('#id_number').inputValue(), badId);
  await noViolations(t, page, 'recovery, refused identity');

  await signIn(page, person.phone);
  await page.goto(`${server.url}/account/phone`);
  await page.getByRole('button', { name: /原手机号已丢失/ }).click();
  await page.getByLabel('姓名').fill(person.name);
  await page.getByLabel('身份证号码').fill(badId);
  await page.getByRole('button', { name: '下一步' }).click();
  await besideItsField(t, page, '#id_number', 'id_number');
  t.is(await page.locator('#name').inputValue(), person.name);
  await noViolations(t, page, 'phone change, refused identity');
});

test('delegation: a refused grant keeps every choice made and tells the grantee problem beside the grantee fields', async (t) => {
  const rep = makePerson('褚法人');
  const repId = await seedAccount(server.deps, rep);
  await seedEnterprise(server, { accountId: repId, idNumber: rep.idNumber });
  const page = await phonePage(t);
  await signIn(page, rep.phone);
  await page.goto(`${server.url}/account/delegations`);
  await page.getByLabel('或：被授权人手机号码').fill(rep.phone);
  await page.locator('#grant-portal-social\\.insurance').check();
  await page.locator('#valid_until').fill('2099-03-31');
  await page.locator('#valid_until_time').fill('14:30');
  await page.locator('#may_redelegate').check();
  await page.getByRole('button', { name: '授权', exact: true }).click();
  await page.locator('[data-error-code="delegation_self"]').waitFor();
  await besideItsField(t, page, '#grantee_phone', 'grantee');
  t.is(await page.locator('#grantee_phone').inputValue(), rep.phone);
  t.true(await page.locator('#grant-portal-social\\.insurance').isChecked());
  t.false(await page.locator('#grant-portal-tax\\.declare').isChecked());
  t.is(await page.locator('#valid_until').inputValue(), '2099-03-31');
  t.is(await page.locator('#valid_until_time').inputValue(), '14:30');
  t.true(await page.locator('#may_redelegate').isChecked());
  t.false(await page.locator('#request-portal-social\\.insurance').isChecked(), 'the request form was not the one refused');
  await noViolations(t, page, 'delegations, refused grant');
});

/** The 获取验证码 button of the page's code form is counting down: disabled, saying how many seconds are left, fewer than 60 after a moment. */
async function countingDown(t: ExecutionContext, page: Page, form: string): Promise<void> {
  const send = page.locator(`${form} button[data-send-code]`);
  t.is(await send.count(), 1, `${form}: one 获取验证码 button, inside the form that takes the code`);
  await page.locator(`${form} button[data-send-code]:disabled`).waitFor();
  t.regex(await send.textContent() ?? '', /^\d+ 秒后可重新获取$/);
  // It ticks: a number below 60 within the page's own wait (no page script is evaluated: the CSP forbids it).
  await page.locator(`${form} button[data-send-code]`, { hasText: /^[1-5]?\d 秒后可重新获取$/ }).waitFor();
}

/** An end page: axe finds nothing, and its one next step is a full-width link styled as the primary action, a finger's height. */
async function endsWithPrimaryStep(t: ExecutionContext, page: Page, state: string): Promise<void> {
  await noViolations(t, page, state);
  const next = page.locator('a.button[data-next]');
  t.is(await next.count(), 1, `${state}: one next step`);
  const looks = await page.evaluate<{ background: string; colour: string }>(`(() => {
    const style = getComputedStyle(document.querySelector('a.button[data-next]'));
    return { background: style.backgroundColor, colour: style.color };
  })()`);
  t.deepEqual(looks, { background: 'rgb(180, 35, 42)', colour: 'rgb(255, 255, 255)' }, `${state}: the primary action's colours`);
  const size = (await next.boundingBox())!;
  t.true(size.height >= 44 && size.width > 300, `${state}: a full-width target (${size.width}×${size.height})`);
}

async function codesSent(phone: string, purpose: string): Promise<number> {
  return (await readOutbox(outboxFile(server))).filter((m) => m.to === phone && m.purpose === purpose).length;
}

test('registration: 获取验证码 counts down inside the form; the number stays, and Enter in the code checks it without sending another', async (t) => {
  const page = await phonePage(t);
  await registerUpToPhoneCode(page, server.url, LI_NA);
  await countingDown(t, page, 'form:has(#code)');
  t.is(await page.locator('#phone').inputValue(), LI_NA.phone);
  await noViolations(t, page, 'registration, code sent');
  t.is(await codesSent(LI_NA.phone, 'register'), 1);
  await page.locator('#code').fill(await latestCode(server, LI_NA.phone, 'register'));
  await page.locator('#code').press('Enter');
  await page.locator('[data-phone-verified]').waitFor();
  t.is(await codesSent(LI_NA.phone, 'register'), 1, 'Enter checked the code and sent no other');

  // Opened directly (no sign-in waiting), registration still ends with a way on: to sign in.
  await page.getByLabel('信息类型').selectOption('bank_card');
  await page.getByLabel('号码', { exact: true }).fill(LI_NA_BANK_CARD);
  await page.getByLabel(/银行预留手机号/).fill(LI_NA.phone);
  await page.getByRole('button', { name: '核验', exact: true }).click();
  await page.getByLabel('密码', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('再次输入密码').fill(NEW_PASSWORD);
  await page.locator('input[name="accept_agreement"]').check();
  await page.getByRole('button', { name: '完成注册' }).click();
  await page.locator('[data-registered]').waitFor();
  await endsWithPrimaryStep(t, page, 'registration, done');
  await page.getByRole('link', { name: '立即登录' }).click();
  await page.getByLabel('身份证号或手机号').fill(LI_NA.idNumber);
  await page.getByLabel('密码').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.waitForURL(`${server.url}/account`);
});

test('recovery, a new phone and an enterprise application: each code form counts down to the next 获取验证码 and keeps what was typed; each flow ends with a primary next step', async (t) => {
  const person = makePerson('沈四');
  await seedAccount(server.deps, person);
  const page = await phonePage(t);

  await page.goto(`${server.url}/recovery`);
  await page.getByLabel('姓名').fill(person.name);
  await page.getByLabel('身份证号码').fill(person.idNumber);
  await page.getByRole('button', { name: '获取验证码' }).click();
  await page.locator('[data-code-sent]').waitFor();
  await countingDown(t, page, 'form:has(#code)');
  await noViolations(t, page, 'recovery, code sent');
  await page.locator('#code').fill(await latestCode(server, person.phone, 'reset'));
  await page.locator('#code').press('Enter');
  await page.getByLabel('新密码', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('再次输入新密码').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: '重置密码' }).click();
  await page.locator('[data-recovered]').waitFor();
  await endsWithPrimaryStep(t, page, 'recovery, done');

  await signIn(page, person.phone, NEW_PASSWORD);
  await page.goto(`${server.url}/account/phone`);
  await page.getByRole('button', { name: '原手机号仍可接收短信' }).click();
  await page.getByRole('button', { name: /发送验证码/ }).click();
  await countingDown(t, page, 'form:has(#code)');
  await noViolations(t, page, 'phone change, old code sent');
  await page.locator('#code').fill(await latestCode(server, person.phone, 'rebind-old'));
  await page.locator('#code').press('Enter');
  const newPhone = makePerson().phone;
  await page.getByLabel('新手机号').fill(newPhone);
  await page.getByRole('button', { name: '获取验证码' }).click();
  await countingDown(t, page, 'form:has(#new-code)');
  t.is(await page.locator('#phone').inputValue(), newPhone);
  await noViolations(t, page, 'phone change, new code sent');
  await page.locator('#new-code').fill(await latestCode(server, newPhone, 'rebind-new'));
  await page.locator('#new-code').press('Enter');
  await page.locator('[data-phone-changed]').waitFor();
  await endsWithPrimaryStep(t, page, 'phone change, done');

  await seedAccount(server.deps, PERSONS.zhangSan);
  await page.context().clearCookies();
  await signIn(page, PERSONS.zhangSan.phone);
  await page.goto(`${server.url}/account/enterprises`);
  await page.getByLabel('统一社会信用代码').fill(ENTERPRISES.fuzhouTech.uscc);
  await page.getByLabel('企业名称').fill(ENTERPRISES.fuzhouTech.name);
  await page.getByRole('button', { name: '提交' }).click();
  await countingDown(t, page, 'form:has(#code)');
  await noViolations(t, page, 'enterprise application, code sent');
});
