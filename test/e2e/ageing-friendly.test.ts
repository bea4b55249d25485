import test, { type ExecutionContext } from 'ava';
import type { Page } from 'playwright-core';
import { makePerson } from '../helpers/account-centre.js';
import { PASSWORD, seedAccount, ZHANG_SAN } from '../helpers/accounts.js';
import { openBrowser } from '../helpers/browser.js';
import { openLogin, passwordOnLoginPage, registrationFactor, registrationIdentity, signInToAccount } from '../helpers/citizen-pages.js';
import { seedEnterprise } from '../helpers/delegation.js';
import { pkce } from '../helpers/http-browser.js';
import { APP, PORTAL } from '../helpers/oidc.js';
import { choicesApartFromLabels, controlsOffTheFont, smallStandAloneLinks, VIEWPORTS } from '../helpers/page-checks.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Citizen pages on a 390x844 phone, as an elderly reader meets them: forms that keep their
 * shape when the picture code appears, boxes beside their labels, targets a finger can hit,
 * the reader's own text size honoured, 关怀模式 one tap away, and a language link that
 * works after a form error. Browser-side code is passed as strings: the project compiles
 * without the DOM library.
 */

let server: TestServer;
// The picture code from the first send, so that the SMS form is measured at its fullest.
test.before(async () => { server = await startServer({ CAPTCHA_AFTER_SENDS_PER_IP: '0' }); });
test.after.always(async () => { await server?.close(); });

async function phonePage(t: ExecutionContext): Promise<Page> {
  const browser = await openBrowser({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true });
  t.teardown(() => browser.close());
  return browser.context.pages()[0] ?? await browser.context.newPage();
}

async function toLogin(page: Page, tab = 'password'): Promise<string> {
  const url = new URL('/auth', server.url);
  const { challenge } = pkce();
  for (const [key, value] of Object.entries({ ...APP, response_type: 'code', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state: 'st' })) {
    url.searchParams.set(key, value);
  }
  await page.goto(url.href);
  const uid = /\/interaction\/([A-Za-z0-9_-]+)/.exec(page.url())?.[1] ?? '';
  await page.goto(`${server.url}/interaction/${uid}?tab=${tab}`);
  return uid;
}

const width = (page: Page, selector: string) => page.locator(selector).first().evaluate((el) => el.getBoundingClientRect().width);
const box = async (page: Page, selector: string) => (await page.locator(selector).first().boundingBox())!;

test('the SMS login form keeps full-width fields and a full-width button with the picture code shown', async (t) => {
  const page = await phonePage(t);
  await toLogin(page, 'sms');
  t.is(await page.locator('img.captcha').count(), 1, 'the picture code is on the form');
  const form = await width(page, 'form:has(input[name="phone"])');
  for (const selector of ['label[for="sms-phone"]', '#sms-phone', '#captcha', 'form:has(input[name="phone"]) button']) {
    t.true(await width(page, selector) >= form * 0.9, `${selector} spans the form`);
  }
  const button = await box(page, 'form:has(input[name="phone"]) button');
  t.true(button.height >= 44 && button.width > button.height, 'the send button is a wide, tall target');
  t.true(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth'));
});

test('real check boxes and radio buttons sit beside their labels, large enough to tap, on a phone and a desktop', async (t) => {
  const representative = makePerson('施廿七');
  const accountId = await seedAccount(server.deps, representative);
  await seedEnterprise(server, { accountId, idNumber: representative.idNumber });
  const browser = await openBrowser({ viewport: VIEWPORTS.phone });
  t.teardown(() => browser.close());
  const page = await browser.context.newPage();
  const measure = async (what: string, selector: string, count: number) => {
    t.true(await page.locator(selector).count() >= count, `${what}: the controls are there`);
    for (const [device, viewport] of Object.entries(VIEWPORTS)) {
      await page.setViewportSize(viewport);
      t.deepEqual(await choicesApartFromLabels(page, selector), [], `${what} (${device})`);
    }
    await page.setViewportSize(VIEWPORTS.phone);
  };

  // 选择办事身份 at login: as oneself, or as the enterprise one represents.
  await openLogin(page, server.url, PORTAL);
  await passwordOnLoginPage(page, representative.idNumber, PASSWORD);
  await page.locator('[data-enterprise-option]').waitFor();
  await measure('identity choice', 'input[name="choice"]', 2);

  // The service items of a grant and of a request, and whether a grant may be passed on.
  await page.context().clearCookies();
  await signInToAccount(page, server.url, representative.idNumber, PASSWORD);
  await page.goto(`${server.url}/account/delegations`);
  await measure('delegation items', 'input[name="item"], input[name="may_redelegate"]', 7);

  // The service agreement at the last step of registration (two documents, no phone).
  await page.context().clearCookies();
  await registrationIdentity(page, server.url, ZHANG_SAN);
  await registrationFactor(page, 'social_security_card', '110105194912310021');
  await registrationFactor(page, 'housing_fund', '1100000012345');
  await measure('registration agreement', 'input[name="accept_agreement"]', 1);
});

test('text follows the reader\'s browser size, and 关怀模式 enlarges it and is remembered', async (t) => {
  const page = await phonePage(t);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Page.enable');
  await cdp.send('Page.setFontSizes', { fontSizes: { standard: 28 } });
  await toLogin(page);
  const labelSize = () => page.evaluate<number>("parseFloat(getComputedStyle(document.querySelector('label[for=\"identifier\"]')).fontSize)");
  t.true(await labelSize() >= 28, 'a 28 px browser default reaches the labels');

  await cdp.send('Page.setFontSizes', { fontSizes: { standard: 16 } });
  await page.reload();
  t.is(await labelSize(), 16);
  await page.locator('a.care-switch').click();
  t.is(await page.locator('html').getAttribute('class'), 'care');
  t.is(await labelSize(), 20);
  await page.goto(`${server.url}/recovery`);
  t.is(await page.locator('html').getAttribute('class'), 'care', 'the choice holds on the next page');
  const links = await page.locator('header.site a').evaluateAll((els) => els.map((el) => el.getBoundingClientRect().height));
  t.true(links.every((h) => h >= 44), `header links are ${links.join(', ')} px high`);
  await page.locator('a.care-switch').click();
  t.is(await page.locator('html').getAttribute('class'), null);
});

test('form controls take the page\'s font and a link alone in its paragraph is a full target, in 关怀模式 too', async (t) => {
  const person = makePerson('孙十');
  await seedAccount(server.deps, person);
  const page = await phonePage(t);
  await page.goto(`${server.url}/recovery`);
  const sizes = () => page.evaluate<number[]>("['#name', 'button[type=\"submit\"]', 'label[for=\"name\"]'].map((s) => parseFloat(getComputedStyle(document.querySelector(s)).fontSize))");
  t.deepEqual(await controlsOffTheFont(page), []);
  t.deepEqual(await sizes(), [16, 16, 16]);
  await page.locator('a.care-switch').click();
  t.deepEqual(await controlsOffTheFont(page), []);
  t.deepEqual(await sizes(), [20, 20, 20], 'fields and buttons grow with their labels');

  // Signed out everywhere (关怀模式 still on, then off): the page's one way on is a link alone in its paragraph.
  for (const mode of ['关怀模式', 'the ordinary mode']) {
    await signInToAccount(page, server.url, person.idNumber, PASSWORD);
    await page.goto(`${server.url}/account/sessions`);
    await page.getByRole('button', { name: '退出所有设备' }).click();
    const again = page.getByRole('link', { name: '重新登录' });
    t.true((await again.boundingBox())!.height >= 44, mode);
    t.deepEqual(await smallStandAloneLinks(page), [], mode);
    await page.goto(`${server.url}/recovery?care=0`);
  }
});

test('after a refused form, the language link opens the same page in English instead of a bare error', async (t) => {
  const page = await phonePage(t);
  const uid = await toLogin(page);
  await page.fill('#identifier', '13800000000');
  await page.fill('#password', 'not-the-password-1');
  await page.locator('form:has(input[name="password"]) button[type="submit"]').click();
  t.is(await page.locator('[data-error-code]').getAttribute('data-error-code'), 'login_failed');
  const href = await page.locator('a.lang').getAttribute('href');
  t.regex(href ?? '', new RegExp(`^/interaction/${uid}\\?`));
  const response = await page.locator('a.lang').click().then(() => page.waitForLoadState()).then(() => page.evaluate<number>('document.title.length'));
  t.true(response > 0);
  t.is(await page.locator('html').getAttribute('lang'), 'en');
  t.is((await page.locator('h1').textContent())?.trim(), 'Sign in');
});

test('after a refused registration step, the language link opens the same step in English instead of a bare error', async (t) => {
  const page = await phonePage(t);
  await page.goto(`${server.url}/register`);
  await page.getByLabel('姓名').fill('王小明');
  // Eighteen characters as the field asks, with a wrong check character: refused by the server.
  await page.getByLabel('身份证号码').fill('110105194912310021');
  await page.getByRole('button', { name: '下一步' }).click();
  t.is(await page.locator('[data-error-code]').getAttribute('data-error-code'), 'invalid_id_number');
  t.regex(page.url(), /\/register\/[A-Za-z0-9_-]+\/identity$/, 'the error is the answer to the form post');
  const href = await page.locator('a.lang').getAttribute('href');
  t.regex(href ?? '', /^\/register\/[A-Za-z0-9_-]+\?(.+&)?lang=en/);
  const [response] = await Promise.all([page.waitForResponse((r) => r.url().includes('lang=en')), page.locator('a.lang').click()]);
  t.is(response.status(), 200);
  t.is(await page.locator('html').getAttribute('lang'), 'en');
  t.is((await page.locator('h1').textContent())?.trim(), 'Real-name registration');
  t.true(await page.locator('#id_number').isVisible(), 'the same step, ready to be filled again');
});

test('个人 and 法人 are the first choice on the login page; with enterprise-account login off, 法人 says how a company signs in', async (t) => {
  const page = await phonePage(t);
  await toLogin(page);
  t.is(await page.locator('nav.entity a[aria-current="page"]').getAttribute('data-entity'), 'natural');
  t.false(await page.locator('#legal-help').isVisible());
  await page.locator('nav.entity a[data-entity="legal"]').click();
  t.true(await page.locator('#legal-help').isVisible());
  t.regex(await page.locator('#legal-help').textContent() ?? '', /个人账号登录，登录后选择要代表的企业/);
});

test('a phone is not offered the QR tab it cannot use; a desktop is', async (t) => {
  const phone = await phonePage(t);
  await toLogin(phone);
  t.false(await phone.locator('nav.tabs a[data-tab="qr"]').isVisible());
  const desktop = await openBrowser();
  t.teardown(() => desktop.close());
  const wide = desktop.context.pages()[0] ?? await desktop.context.newPage();
  await toLogin(wide);
  t.true(await wide.locator('nav.tabs a[data-tab="qr"]').isVisible());
});

test('after a code is sent its button counts down; a password can be shown to check it', async (t) => {
  const plain = await startServer();
  t.teardown(() => plain.close());
  const page = await phonePage(t);
  const url = new URL('/auth', plain.url);
  const { challenge } = pkce();
  for (const [key, value] of Object.entries({ ...APP, response_type: 'code', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state: 'st' })) url.searchParams.set(key, value);
  await page.goto(url.href);
  const password = page.locator('#password');
  await password.fill('Secret-typed-1');
  await page.locator('button.reveal').click();
  t.is(await password.getAttribute('type'), 'text');
  t.is(await page.locator('button.reveal').getAttribute('aria-pressed'), 'true');
  await page.locator('button.reveal').click();
  t.is(await password.getAttribute('type'), 'password');

  await page.getByRole('link', { name: '短信验证码登录' }).click();
  await page.fill('#sms-phone', '13800138000');
  await page.locator('form.send-code button[type="submit"]').click();
  const send = page.locator('form.send-code button[type="submit"]');
  t.true(await send.isDisabled());
  t.regex(await send.textContent() ?? '', /^\d{1,2} 秒后可重新获取$/);
});
