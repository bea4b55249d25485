import test from 'ava';
import { ZHANG_SAN } from '../helpers/accounts.js';
import { axeViolations } from '../helpers/axe.js';
import { openBrowser } from '../helpers/browser.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * A citizen without a mobile phone (国办函〔2016〕108号 §5.1.2) registers in the browser on a
 * phone-sized screen with two other factors: the page says it is possible, says what such
 * an account cannot do before it is created, and passes axe at each step.
 */

let server: TestServer;
test.before(async () => { server = await startServer(); });
test.after.always(async () => { await server?.close(); });

test('two document factors and no phone: the page explains, then registers', async (t) => {
  const browser = await openBrowser({ viewport: { width: 390, height: 844 }, isMobile: true });
  t.teardown(() => browser.close());
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/register`);
  await page.getByLabel('姓名').fill(ZHANG_SAN.name);
  await page.getByLabel('身份证号码').fill(ZHANG_SAN.idNumber);
  await page.getByRole('button', { name: '下一步' }).click();
  await page.locator('[data-phone-optional]').waitFor();
  t.deepEqual(await axeViolations(page), []);

  for (const [kind, number] of [['social_security_card', '110105194912310021'], ['housing_fund', '1100000012345']] as const) {
    await page.getByLabel('信息类型').selectOption(kind);
    await page.getByLabel('号码', { exact: true }).fill(number);
    await page.getByRole('button', { name: '核验', exact: true }).click();
    await page.locator(`[data-factor="${kind}"]`).waitFor();
  }
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
