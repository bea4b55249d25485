import test, { type ExecutionContext } from 'ava';
import type { Page } from 'playwright-core';
import { readOutbox } from '../../src/ports/sms/index.js';
import { makePerson, outboxFile } from '../helpers/account-centre.js';
import { seedAccount, ZHANG_SAN } from '../helpers/accounts.js';
import { axeViolations } from '../helpers/axe.js';
import { openBrowser } from '../helpers/browser.js';
import { registrationFactor, registrationIdentity } from '../helpers/citizen-pages.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createStaff } from '../helpers/staff.js';
import { consoleSignIn, resetAtCounter } from '../helpers/staff-browser.js';

/**
 * A citizen without a mobile phone (国办函〔2016〕108号 §5.1.2) registers in the browser on a
 * phone-sized screen with two other factors: the page says it is possible, says what such
 * an account cannot do before it is created, and passes axe at each step. Such a citizen
 * forgets their password like anyone: the counter resets it, and online recovery answers
 * them as it answers everyone while its page sends people without a bound phone to a
 * counter with their ID card.
 */

let server: TestServer;
test.before(async () => { server = await startServer(); });
test.after.always(async () => { await server?.close(); });

test('two document factors and no phone: the page explains, then registers', async (t) => {
  const browser = await openBrowser({ viewport: { width: 390, height: 844 }, isMobile: true });
  t.teardown(() => browser.close());
  const page = await browser.context.newPage();
  await registrationIdentity(page, server.url, ZHANG_SAN);
  await page.locator('[data-phone-optional]').waitFor();
  t.deepEqual(await axeViolations(page), []);

  await registrationFactor(page, 'social_security_card', '110105194912310021');
  await registrationFactor(page, 'housing_fund', '1100000012345');
  const notice = page.locator('[data-without-phone]');
  t.regex(await notice.textContent() ?? '', /不能用短信验证码登录/);
  t.deepEqual(await axeViolations(page), []);

  await page.getByLabel('密码', { exact: true }).fill('Lantern-Harbour-73');
  await page.getByLabel('再次输入密码').fill('Lantern-Harbour-73');
  await page.locator('input[name="accept_agreement"]').check();
  await page.getByRole('button', { name: '完成注册' }).click();
  await page.locator('[data-registered]').waitFor();
  t.is((await server.deps.accounts.byIdNumber(ZHANG_SAN.idNumber))?.phone_enc, null);
});

/** A person registered without a mobile phone, as the test above leaves one. */
async function withoutPhone(name: string) {
  const { phone: _none, ...person } = makePerson(name);
  await seedAccount(server.deps, person);
  return person;
}

async function phonePage(t: ExecutionContext): Promise<Page> {
  const browser = await openBrowser({ viewport: { width: 390, height: 844 }, isMobile: true });
  t.teardown(() => browser.close());
  return browser.context.newPage();
}

test('no phone to send a code to: the counter resets the password, and the initial one must be changed at the first sign-in', async (t) => {
  const person = await withoutPhone('吴十二');
  const agent = await createStaff(server.deps, 'agent.nophone', ['agent']);
  const consoleBrowser = await openBrowser();
  t.teardown(() => consoleBrowser.close());
  const staffPage = await consoleBrowser.context.newPage();
  await consoleSignIn(staffPage, server.url, agent.username, agent.password, agent.totpSecret);
  const initial = await resetAtCounter(staffPage, server.url, person);
  t.regex(initial, /^[2-9a-hjkmnp-z]{12}$/);

  const page = await phonePage(t);
  await page.goto(`${server.url}/account`);
  await page.getByLabel('身份证号或手机号').fill(person.idNumber);
  await page.getByLabel('密码', { exact: true }).fill(initial);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.getByLabel('新密码', { exact: true }).fill('Quiet-Orchard-1948');
  await page.getByLabel('再次输入新密码').fill('Quiet-Orchard-1948');
  await page.getByRole('button', { name: '保存并继续' }).click();
  await page.waitForURL(`${server.url}/account`);
  t.false((await server.deps.accounts.byIdNumber(person.idNumber))!.password_must_change);
});

test('online recovery answers an account without a phone as it answers anyone, and its page sends such people to a counter', async (t) => {
  const person = await withoutPhone('郑十三');
  const stranger = makePerson('冯十四');
  const page = await phonePage(t);
  const sentBefore = (await readOutbox(outboxFile(server))).length;
  const answers: string[] = [];
  for (const who of [person, stranger]) {
    await page.goto(`${server.url}/recovery`);
    t.regex(await page.locator('main').innerText(), /账号未绑定手机.*请本人携带身份证到政务服务大厅窗口重置密码/);
    await page.getByLabel('姓名').fill(who.name);
    await page.getByLabel('身份证号码').fill(who.idNumber);
    await page.getByRole('button', { name: '获取验证码' }).click();
    await page.locator('[data-code-sent]').waitFor();
    answers.push(await page.locator('main').innerText());
  }
  t.is(answers[0], answers[1], 'nothing tells an account without a phone from no account');
  t.regex(answers[0]!, /账号未绑定手机的收不到验证码，请本人携带身份证到政务服务大厅窗口重置密码/);
  t.is((await readOutbox(outboxFile(server))).length, sentBefore, 'no message went anywhere');
});
