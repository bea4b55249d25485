import test, { type ExecutionContext } from 'ava';
import type { Page } from 'playwright-core';
import { GENEROUS_SMS, makePerson } from '../helpers/account-centre.js';
import { PASSWORD, seedAccount } from '../helpers/accounts.js';
import { openBrowser } from '../helpers/browser.js';
import { checkPage } from '../helpers/page-checks.js';
import { pkce } from '../helpers/http-browser.js';
import { APP } from '../helpers/oidc.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Every citizen page state a person meets, on a 390×844 phone and a 1366×768 desktop, in
 * zh-CN: axe-core (WCAG 2.2 A and AA) finds nothing, links alone in a paragraph are full
 * targets, form controls take the page's font, no internal code or English word stands in
 * the Chinese text, and no page scrolls sideways with a 28 px default text size
 * on the phone or at 200 % zoom on the desktop.
 */

let server: TestServer;
const person = makePerson('钱九');
test.before(async () => {
  server = await startServer({ ...GENEROUS_SMS, CAPTCHA_AFTER_SENDS_PER_IP: '0' });
  await seedAccount(server.deps, person);
});
test.after.always(async () => { await server?.close(); });

type Visit = (page: Page) => Promise<void>;

async function toLogin(page: Page): Promise<string> {
  const url = new URL('/auth', server.url);
  const { challenge } = pkce();
  for (const [key, value] of Object.entries({ ...APP, response_type: 'code', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state: 'tour' })) url.searchParams.set(key, value);
  await page.goto(url.href);
  return /\/interaction\/([A-Za-z0-9_-]+)/.exec(page.url())?.[1] ?? '';
}

async function signIn(page: Page): Promise<void> {
  await page.goto(`${server.url}/account`);
  await page.getByRole('link', { name: '密码登录' }).click();
  await page.getByLabel('身份证号或手机号').fill(person.idNumber);
  await page.getByLabel('密码').fill(PASSWORD);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.waitForURL(`${server.url}/account**`);
}

const ANONYMOUS: Record<string, Visit> = {
  'login, password': async (page) => { await toLogin(page); },
  'login, wrong password': async (page) => {
    await toLogin(page);
    await page.getByRole('link', { name: '密码登录' }).click();
    await page.getByLabel('身份证号或手机号').fill(person.idNumber);
    await page.getByLabel('密码').fill('Not-The-Password-1');
    await page.getByRole('button', { name: '登录', exact: true }).click();
    await page.locator('[data-error-code]').waitFor();
  },
  'login, SMS with picture code': async (page) => { await page.goto(`${server.url}/interaction/${await toLogin(page)}?tab=sms`); },
  'login, 关怀模式': async (page) => { await page.goto(`${server.url}/interaction/${await toLogin(page)}?care=1`); },
  'registration, identity': async (page) => { await page.goto(`${server.url}/register`); },
  'recovery': async (page) => { await page.goto(`${server.url}/recovery`); },
  'service agreement': async (page) => { await page.goto(`${server.url}/agreement`); },
  'error page': async (page) => { await page.goto(`${server.url}/no-such-page`); },
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

const VIEWPORTS = { phone: { width: 390, height: 844 }, desktop: { width: 1366, height: 768 } } as const;

/** Latin words of three letters or more in zh-CN text (outside the language link and <code>, such as a request id): untranslated codes. */
async function untranslated(page: Page): Promise<string[]> {
  const text = await page.evaluate<string>(`(() => {
    const clone = document.body.cloneNode(true);
    clone.querySelectorAll('script, style, code, [lang="en"], [hreflang], .site-footer').forEach((el) => el.remove());
    return clone.innerText;
  })()`);
  return [...new Set(text.match(/\b[A-Za-z_]{3,}\b/g) ?? [])].filter((word) => !ALLOWED_LATIN.has(word));
}
// Names and abbreviations Chinese government pages write in Latin letters.
const ALLOWED_LATIN = new Set(['App', 'TOTP', 'English', 'ICP', 'QR', 'WeChat', 'JSON']);

async function check(t: ExecutionContext, page: Page, label: string): Promise<void> {
  await checkPage(t, page, label);
  t.deepEqual(await untranslated(page), [], `${label}: Latin text in a zh-CN page`);
}

for (const [device, viewport] of Object.entries(VIEWPORTS)) {
  test(`${device}: every page a citizen meets passes axe, has no untranslated codes, and does not scroll sideways with large text or zoom`, async (t) => {
    const browser = await openBrowser({ viewport });
    t.teardown(() => browser.close());
    const page = await browser.context.newPage();
    for (const [label, visit] of Object.entries(ANONYMOUS)) {
      await browser.context.clearCookies();
      await visit(page);
      await check(t, page, label);
    }
    await browser.context.clearCookies();
    await signIn(page);
    for (const [label, path] of Object.entries(SIGNED_IN)) {
      await page.goto(`${server.url}${path}`);
      await check(t, page, label);
    }
    if (device === 'phone') {
      // A reader whose browser's default text is 28 px: every page reflows, none scrolls sideways.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Page.enable');
      await cdp.send('Page.setFontSizes', { fontSizes: { standard: 28 } });
      for (const path of Object.values(SIGNED_IN)) {
        await page.goto(`${server.url}${path}`);
        t.true(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth'), `${path} scrolls sideways with 28 px text`);
      }
    }
    if (device === 'desktop') {
      // 200 % zoom of a 390 px phone is a 195 px CSS viewport; of this desktop, 683 px.
      await page.setViewportSize({ width: 683, height: 384 });
      for (const path of Object.values(SIGNED_IN)) {
        await page.goto(`${server.url}${path}`);
        t.true(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth'), `${path} scrolls sideways at 200 %`);
      }
    }
  });
}
