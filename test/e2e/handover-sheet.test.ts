import test from 'ava';
import { makePerson } from '../helpers/account-centre.js';
import { seedAccount } from '../helpers/accounts.js';
import { openBrowser } from '../helpers/browser.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createStaff } from '../helpers/staff.js';
import { consoleSignIn, resetAtCounter } from '../helpers/staff-browser.js';

/**
 * The counter's hand-over sheet (账号交付单) as it comes out of the printer: rendered by
 * Chromium for print, on the width an A4 sheet leaves between the browser's default
 * margins (210 mm less 2 × 10 mm = 190 mm, 718 CSS px at 96 px per inch). Everything a
 * citizen takes home is on it, and nothing runs off the paper, even the long sign-in
 * address a portal may have.
 */
const A4_PRINTABLE_PX = Math.floor((190 / 25.4) * 96);
const HALL = '鼓楼区政务服务中心 A 区 12 号窗口';
const HOME = 'https://zwfw.example.gov.cn/uia/accountcentre/signin?channel=servicecounter&returnto=https%3A%2F%2Fzwfw.example.gov.cn%2Fpersonalcentre%2Fhome';

let server: TestServer;
test.before(async () => { server = await startServer({ SERVICE_HALL: HALL, SITE_HOME_URL: HOME }); });
test.after.always(async () => { await server?.close(); });

test('printed on A4, the sheet names the platform, time, hall and agent, has both signature lines, the sign-in and agreement addresses with their QR codes, and fits the paper', async (t) => {
  const agent = await createStaff(server.deps, 'agent.print', ['agent'], { displayName: '王芳' });
  const person = makePerson('周十一');
  await seedAccount(server.deps, person);
  const browser = await openBrowser({ viewport: { width: 1366, height: 768 } });
  t.teardown(() => browser.close());
  const page = await browser.context.newPage();
  await consoleSignIn(page, server.url, agent.username, agent.password, agent.totpSecret);
  const before = Date.now();
  await resetAtCounter(page, server.url, person);

  await page.setViewportSize({ width: A4_PRINTABLE_PX, height: 1123 });
  await page.emulateMedia({ media: 'print' });
  const sheet = page.locator('[data-handover]');
  const text = await sheet.innerText();
  t.regex(text, /统一身份认证平台/, 'the platform');
  const issued = (await page.locator('[data-issued-at]').innerText()).trim();
  t.regex(issued, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
  t.true(Math.abs(Date.parse(`${issued.replace(' ', 'T')}:00+08:00`) - before) < 120_000, `issued at ${issued}, China time`);
  t.is((await page.locator('[data-hall]').innerText()).trim(), HALL);
  t.is((await page.locator('[data-agent]').innerText()).trim(), '王芳（工号 agent.print）');
  t.regex(text, /本人签字：\s*_{10,}/, 'a line for the citizen');
  t.regex(text, /经办人签字：\s*_{10,}/, 'a line for the agent');
  t.is((await page.locator('[data-login-url]').innerText()).trim(), HOME);
  t.is((await page.locator('[data-agreement-url]').innerText()).trim(), `${server.url}/agreement`);
  for (const name of ['登录地址二维码', '服务协议二维码']) {
    const qr = page.getByRole('img', { name });
    t.true(await qr.isVisible(), name);
    t.true(await qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth >= 100), `${name} is a real image`);
  }
  t.false(await page.locator('header.site').isVisible(), 'none of the console around it is printed');

  const overflowing = await page.evaluate<string[]>(`[...document.querySelectorAll('[data-handover] *')]
    .filter((el) => el.getClientRects().length > 0 && el.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map((el) => el.tagName + ' ' + el.textContent.slice(0, 40))`);
  t.deepEqual(overflowing, [], 'nothing runs off the paper');
  t.true(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth'));
});
