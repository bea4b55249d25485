import test from 'ava';
import type { Page } from 'playwright-core';
import { GENEROUS_SMS, makePerson } from '../helpers/account-centre.js';
import { PASSWORD, seedAccount } from '../helpers/accounts.js';
import { openBrowser } from '../helpers/browser.js';
import { openLogin, passwordOnLoginPage, signInToAccount } from '../helpers/citizen-pages.js';
import { checkPage, scrollsSideways, setDefaultFontSize, untranslated, VIEWPORTS } from '../helpers/page-checks.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Every citizen page a person meets without a journey behind it, on a 390×844 phone and a
 * 1366×768 desktop, in zh-CN, passes checkPage (axe-core, no untranslated code, targets,
 * fonts, no sideways scroll), and no page scrolls sideways with a 28 px default text size
 * or at 200 % zoom, in 关怀模式 too. The states only a journey reaches are in
 * page-tour-journeys.test.ts.
 */

let server: TestServer;
const person = makePerson('钱九');
test.before(async () => {
  server = await startServer({ ...GENEROUS_SMS, CAPTCHA_AFTER_SENDS_PER_IP: '0' });
  await seedAccount(server.deps, person);
});
test.after.always(async () => { await server?.close(); });

type Visit = (page: Page) => Promise<void>;

const toLogin = async (page: Page) => { await openLogin(page, server.url); };

const ANONYMOUS: Record<string, Visit> = {
  'login, password': toLogin,
  'login, wrong password': async (page) => {
    await toLogin(page);
    await passwordOnLoginPage(page, person.idNumber, 'Not-The-Password-1');
    await page.locator('[data-error-code]').waitFor();
  },
  'login, SMS with picture code': async (page) => { await page.goto(`${server.url}/interaction/${await openLogin(page, server.url)}?tab=sms`); },
  'login, 关怀模式': async (page) => { await page.goto(`${server.url}/interaction/${await openLogin(page, server.url)}?care=1`); },
  'registration, identity': async (page) => { await page.goto(`${server.url}/register`); },
  'recovery': async (page) => { await page.goto(`${server.url}/recovery`); },
  'service agreement': async (page) => { await page.goto(`${server.url}/agreement`); },
  'error page': async (page) => { await page.goto(`${server.url}/no-such-page`); },
};

/** The pages a person opens first, before any account: each must reflow for large text. */
const ENTRY: Record<string, Visit> = {
  login: toLogin,
  'login, SMS': async (page) => { await page.goto(`${server.url}/interaction/${await openLogin(page, server.url)}?tab=sms`); },
  registration: ANONYMOUS['registration, identity']!,
  recovery: ANONYMOUS.recovery!,
};

const SIGNED_IN: Record<string, string> = {
  'account centre': '/account',
  'sessions': '/account/sessions',
  'security events': '/account/events',
  'password': '/account/password',
  'profile': '/account/profile',
  'two-step verification': '/account/totp',
  'phone': '/account/phone',
  'deregistration': '/account/deregister',
  'enterprises': '/account/enterprises',
  'delegations': '/account/delegations',
  'sign out': '/session/end',
};

for (const [device, viewport] of Object.entries(VIEWPORTS)) {
  test(`${device}: every page a citizen meets passes axe, has no untranslated codes, and does not scroll sideways with large text or zoom`, async (t) => {
    const browser = await openBrowser({ viewport });
    t.teardown(() => browser.close());
    const page = await browser.context.newPage();
    for (const [label, visit] of Object.entries(ANONYMOUS)) {
      await browser.context.clearCookies();
      await visit(page);
      await checkPage(t, page, label);
    }
    await browser.context.clearCookies();
    await signInToAccount(page, server.url, person.idNumber, PASSWORD);
    for (const [label, path] of Object.entries(SIGNED_IN)) {
      await page.goto(`${server.url}${path}`);
      await checkPage(t, page, label);
    }
    if (device === 'phone') {
      // A reader whose browser's default text is 28 px: every page reflows, none scrolls sideways.
      await setDefaultFontSize(page, 28);
      for (const path of Object.values(SIGNED_IN)) {
        await page.goto(`${server.url}${path}`);
        t.false(await scrollsSideways(page), `${path} scrolls sideways with 28 px text`);
      }
    }
    if (device === 'desktop') {
      // 200 % zoom of this desktop is a 683 px CSS viewport.
      await page.setViewportSize({ width: 683, height: 384 });
      for (const path of Object.values(SIGNED_IN)) {
        await page.goto(`${server.url}${path}`);
        t.false(await scrollsSideways(page), `${path} scrolls sideways at 200 %`);
      }
    }
  });
}

for (const mode of ['ordinary', '关怀模式'] as const) {
  test(`phone, ${mode}: the login, registration and recovery pages reflow with a 28 px default text and at 200 % zoom`, async (t) => {
    const browser = await openBrowser({ viewport: VIEWPORTS.phone });
    t.teardown(() => browser.close());
    const page = await browser.context.newPage();
    // The choice is remembered in a cookie, as a reader makes it once.
    await page.goto(`${server.url}/recovery?care=${mode === '关怀模式' ? 1 : 0}`);
    await setDefaultFontSize(page, 28);
    for (const [label, visit] of Object.entries(ENTRY)) {
      await visit(page);
      t.false(await scrollsSideways(page), `${label} scrolls sideways with 28 px text`);
    }
    await setDefaultFontSize(page, 16);
    // 200 % zoom of a 390 px phone is a 195 px CSS viewport.
    await page.setViewportSize({ width: 195, height: 422 });
    for (const [label, visit] of Object.entries(ENTRY)) {
      await visit(page);
      t.false(await scrollsSideways(page), `${label} scrolls sideways at 200 %`);
    }
  });
}

test('the untranslated-text check finds short codes and codes in <code>, and passes product words and data', async (t) => {
  const browser = await openBrowser({ viewport: VIEWPORTS.phone });
  t.teardown(() => browser.close());
  const page = await browser.context.newPage();
  await page.setContent(`<html lang="zh-CN"><body>
    <p>登录方式：qr</p><p>短信 sms · 密码 pwd</p><p><code>amr: ["otp"]</code></p><p>状态（revoked）</p>
    <p>portal: social.insurance · account-centre · client_id</p><img alt="app logo" src="data:,">
    <p>扫描 QR 码，或在政务 App 中打开；TOTP 动态口令；WeChat</p>
    <p>卡号 6217****4569，证件 11010519491231002X，有效期至 2027-03-31，错误编号 <code>3f2a9c1e-0b4d-4e8a-9f00-1c2d3e4f5a6b</code></p>
    <p>密钥 <code data-totp-secret>JBSW Y3DP</code></p><ol data-recovery-codes><li><code>ABCD-EFGH</code></li></ol>
    <a hreflang="en" href="?lang=en">English</a><p lang="en">Sign in</p>
  </body></html>`);
  t.deepEqual((await untranslated(page)).sort(), ['account-centre', 'amr', 'app', 'client_id', 'logo', 'otp', 'portal', 'pwd', 'qr', 'revoked', 'sms', 'social.insurance'].sort());
});
