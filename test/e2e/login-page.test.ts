import { createHash, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { Page, Response } from 'playwright-core';
import { axeViolations } from '../helpers/axe.js';
import { PHONE, openBrowser, type BrowserOptions } from '../helpers/browser.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * The login interaction in a real browser (Debian's Chromium through playwright-core):
 * the public app client starts an authorization request with PKCE S256 and lands on
 * /interaction/<uid>. Credentials of nobody must never complete it: the page answers
 * login_failed and stays on the interaction.
 */

const CLIENTS_FILE = resolve('test/fixtures/clients.json');
const REDIRECT_URI = 'cn.gov.example.app:/oauth2/callback';
const APP_OPEN_URL = 'https://app.gov.example/open';
const DESKTOP: BrowserOptions = { viewport: { width: 1366, height: 768 } };
const SCREENSHOT = '/tmp/login.png';
const INTERACTION_PATH = /^\/interaction\/([A-Za-z0-9_-]+)$/;
/** The form with the password field, wherever its action points. */
const PASSWORD_FORM = 'form:has(input[name="password"])';
/** How a refused login with made-up credentials is reported; anything else is a failure. */
const REFUSED_LOGIN = new Map([
  ['login_failed', { status: 401, zh: '账号或密码不正确。' }],
]);

let server: TestServer;
test.before(async () => { server = await startServer({ CLIENTS_FILE, APP_OPEN_URL }); });
test.after.always(async () => { await server?.close(); });

function authorizeUrl(extra: Record<string, string> = {}): string {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL('/auth', server.url);
  const params = {
    client_id: 'app',
    response_type: 'code',
    scope: 'openid',
    redirect_uri: REDIRECT_URI,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(16).toString('base64url'),
    nonce: randomBytes(16).toString('base64url'),
    ...extra,
  };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.href;
}

interface Landing {
  page: Page;
  response: Response;
  uid: string;
  /** Anything that went to the client's redirect_uri, and CSP complaints on the console. */
  redirects: string[];
  cspViolations: string[];
}

/** A fresh browser, closed when the test ends, that has followed an authorization request to the login page. */
async function landOnLogin(t: ExecutionContext, extra: Record<string, string> = {}, options: BrowserOptions = {}): Promise<Landing> {
  const browser = await openBrowser(options);
  t.teardown(() => browser.close());
  const page = browser.context.pages()[0] ?? await browser.context.newPage();
  const redirects: string[] = [];
  const cspViolations: string[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith('cn.gov.example.app:') || /[?&]code=/.test(request.url())) redirects.push(request.url());
  });
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  const response = await page.goto(authorizeUrl(extra));
  if (!response) throw new Error('the authorization request produced no response');
  const match = INTERACTION_PATH.exec(new URL(page.url()).pathname);
  if (!match) throw new Error(`expected to land on /interaction/<uid>, landed on ${page.url()} (${response.status()})`);
  return { page, response, uid: match[1]!, redirects, cspViolations };
}

function cspDirectives(header: string | undefined): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), values);
  }
  return directives;
}

test('the app client lands on the zh-CN login form, laid out for a 390x844 phone', async (t) => {
  const { page, response, redirects, cspViolations } = await landOnLogin(t, {}, PHONE);
  t.is(response.status(), 200);
  t.is(await page.locator('html').getAttribute('lang'), 'zh-CN');
  t.is(await response.headerValue('content-language'), 'zh-CN');
  t.is((await page.locator('h1').textContent())?.trim(), '登录');
  t.is((await page.locator('p.hint').first().textContent())?.trim(), '您正在登录：省政务服务 App');

  // Every input has a label that names it.
  const identifier = page.getByLabel('身份证号或手机号', { exact: true });
  const password = page.getByLabel('密码', { exact: true });
  t.is(await identifier.count(), 1);
  t.is(await identifier.getAttribute('name'), 'identifier');
  t.is(await password.count(), 1);
  t.is(await password.getAttribute('name'), 'password');
  t.is(await password.getAttribute('type'), 'password');
  t.is(await page.locator(`${PASSWORD_FORM} input[name="csrf"]`).count(), 1);
  t.is((await page.locator('a.lang').textContent())?.trim(), 'English');

  // Mobile first: the stylesheet applies under the CSP and nothing overflows sideways.
  // (Browser-side code as strings: the project compiles without the DOM library.)
  t.is(await page.evaluate<string>("getComputedStyle(document.querySelector('header.site')).backgroundColor"), 'rgb(180, 35, 42)');
  t.true(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth'), 'no horizontal scrolling at 390px');
  const box = await page.locator(`${PASSWORD_FORM} button[type="submit"]`).boundingBox();
  t.truthy(box);
  t.true(box!.x >= 0 && box!.x + box!.width <= 390, 'the submit button fits the screen');
  t.true(box!.height >= 40, 'the submit button is a comfortable touch target');

  t.deepEqual(cspViolations, []);
  t.deepEqual(redirects, []);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
});

test('the interaction page is sent with a strict CSP, no-store and nosniff; its cookies are HttpOnly and SameSite=Lax', async (t) => {
  const { page, response, uid } = await landOnLogin(t);
  const headers = await response.allHeaders();

  const csp = cspDirectives(headers['content-security-policy']);
  t.truthy(csp.get('script-src'), 'script-src is set');
  t.false(csp.get('script-src')!.includes("'unsafe-inline'"));
  t.false(csp.get('script-src')!.includes("'unsafe-eval'"));
  t.deepEqual(csp.get('frame-ancestors'), ["'none'"]);
  t.deepEqual(csp.get('default-src'), ["'none'"]);
  t.regex(headers['cache-control'] ?? '', /\bno-store\b/);
  t.is(headers['x-content-type-options'], 'nosniff');

  const cookies = await page.context().cookies();
  const interactionCookies = cookies.filter((cookie) => cookie.name.startsWith('_interaction'));
  const names = interactionCookies.map((cookie) => cookie.name);
  t.true(names.includes('_interaction'), names.join(', '));
  t.true(names.includes('_interaction_resume'), names.join(', '));
  for (const cookie of interactionCookies) {
    t.true(cookie.httpOnly, `${cookie.name} is HttpOnly`);
    t.is(cookie.sameSite, 'Lax', `${cookie.name} is SameSite=Lax`);
  }
  t.is(interactionCookies.find((cookie) => cookie.name === '_interaction')?.path, `/interaction/${uid}`);
});

test('the language link switches the login page to English and remembers it', async (t) => {
  const { page, uid } = await landOnLogin(t);
  const [switched] = await Promise.all([
    page.waitForResponse((response) => new URL(response.url()).pathname === `/interaction/${uid}` && response.request().isNavigationRequest()),
    page.locator('a.lang').click(),
  ]);
  await page.waitForLoadState();
  t.is(switched.status(), 200);
  t.is(new URL(page.url()).pathname, `/interaction/${uid}`);
  t.is(await page.locator('html').getAttribute('lang'), 'en');
  t.is((await page.locator('h1').textContent())?.trim(), 'Sign in');
  t.is(await page.getByLabel('Citizen ID number or mobile number', { exact: true }).count(), 1);
  t.is(await page.getByLabel('Password', { exact: true }).count(), 1);
  t.is((await page.locator('p.hint').first().textContent())?.trim(), 'You are signing in to: 省政务服务 App');
  t.is((await page.locator('a.lang').textContent())?.trim(), '中文');

  const lang = (await page.context().cookies()).find((cookie) => cookie.name === 'lang');
  t.is(lang?.value, 'en');
  t.true(lang?.httpOnly);
  // The choice sticks without the query parameter.
  await page.goto(`${server.url}/interaction/${uid}`);
  t.is(await page.locator('html').getAttribute('lang'), 'en');
});

test('ui_locales=en from the relying party shows the login page in English', async (t) => {
  const { page, response } = await landOnLogin(t, { ui_locales: 'en' });
  t.is(response.status(), 200);
  t.is(await page.locator('html').getAttribute('lang'), 'en');
  t.is(await response.headerValue('content-language'), 'en');
  t.is(await page.getByLabel('Citizen ID number or mobile number', { exact: true }).count(), 1);
  t.is(await page.getByLabel('Password', { exact: true }).count(), 1);
  t.regex(await page.locator('main').innerText(), /省政务服务 App/);
});

test('submitting the login form does not complete the login: an error on the page, still on the interaction', async (t) => {
  const { page, uid, redirects } = await landOnLogin(t);
  await page.getByRole('link', { name: '密码登录' }).click();
  await page.getByLabel('身份证号或手机号', { exact: true }).fill('110101199003070000');
  await page.getByLabel('密码', { exact: true }).fill('correct horse battery staple');
  const [posted] = await Promise.all([
    page.waitForResponse((response) => response.request().method() === 'POST'),
    page.locator(`${PASSWORD_FORM} button[type="submit"]`).click(),
  ]);
  await page.waitForLoadState();

  t.true(new URL(posted.url()).pathname.startsWith(`/interaction/${uid}/login`), posted.url());
  t.is(new URL(page.url()).origin, server.url);
  t.true(new URL(page.url()).pathname.startsWith(`/interaction/${uid}/`), page.url());
  const error = page.locator('[data-error-code]');
  t.is(await error.count(), 1);
  const code = await error.getAttribute('data-error-code') ?? '';
  t.log(`refused with ${code}`);
  const expected = REFUSED_LOGIN.get(code);
  t.truthy(expected, `unexpected error code ${code}`);
  t.is(posted.status(), expected?.status ?? -1);
  t.is((await error.textContent())?.trim(), expected?.zh);
  // The form is shown again: the identifier kept, the password never echoed.
  t.is(await page.getByLabel('身份证号或手机号', { exact: true }).inputValue(), '110101199003070000');
  t.is(await page.getByLabel('密码', { exact: true }).inputValue(), '');
  t.notRegex(await page.content(), /correct horse battery staple/);

  // No session, no code, no redirect to the app; the interaction is still there, at the login step.
  const cookies = await page.context().cookies();
  t.false(cookies.some((cookie) => cookie.name.startsWith('_session')), cookies.map((cookie) => cookie.name).join(', '));
  t.deepEqual(redirects, []);
  const again = await page.goto(`${server.url}/interaction/${uid}`);
  t.is(again?.status(), 200);
  t.is(await page.locator(PASSWORD_FORM).count(), 1);
  t.is(await page.locator('[data-error-code]').count(), 0);
});

test('posting the login form without a valid csrf field is refused and changes nothing', async (t) => {
  const { page, uid } = await landOnLogin(t);
  const action = await page.locator(PASSWORD_FORM).getAttribute('action') ?? '';
  t.true(action.startsWith(`/interaction/${uid}/login`), action);
  const endpoint = new URL(action, server.url).href;
  const credentials = { identifier: '110101199003070000', password: 'secret-password' };
  const cookiesBefore = (await page.context().cookies()).map(({ name, value, path }) => ({ name, value, path }));

  // page.request shares the browser's cookies, so only the csrf field differs from a real submission.
  const missing = await page.request.post(endpoint, { form: credentials, maxRedirects: 0 });
  t.true([400, 403].includes(missing.status()), `missing csrf answered ${missing.status()}`);
  t.regex(await missing.text(), /data-error-code="(bad_request|invalid_input|csrf)"/);

  const forged = await page.request.post(endpoint, { form: { ...credentials, csrf: 'A'.repeat(43) }, maxRedirects: 0 });
  t.is(forged.status(), 403);
  t.regex(await forged.text(), /data-error-code="csrf"/);

  // A token from another interaction in the same browser is no good here either.
  const other = await page.context().newPage();
  await other.goto(authorizeUrl());
  const otherUid = INTERACTION_PATH.exec(new URL(other.url()).pathname)?.[1];
  t.truthy(otherUid);
  t.not(otherUid, uid);
  const otherCsrf = await other.locator(`${PASSWORD_FORM} input[name="csrf"]`).inputValue();
  const crossed = await page.request.post(endpoint, { form: { ...credentials, csrf: otherCsrf }, maxRedirects: 0 });
  t.is(crossed.status(), 403);
  t.regex(await crossed.text(), /data-error-code="csrf"/);
  await other.close();

  // Nothing changed: same cookies for this interaction, and the login page is still there.
  const cookiesAfter = (await page.context().cookies()).map(({ name, value, path }) => ({ name, value, path }));
  const forThisInteraction = (list: typeof cookiesBefore) => list.filter((cookie) => cookie.path.endsWith(`/${uid}`));
  t.deepEqual(forThisInteraction(cookiesAfter), forThisInteraction(cookiesBefore));
  t.false(cookiesAfter.some((cookie) => cookie.name.startsWith('_session')));
  const again = await page.goto(`${server.url}/interaction/${uid}`);
  t.is(again?.status(), 200);
  t.is(await page.locator(PASSWORD_FORM).count(), 1);

  // Control: the same request with the page's own token gets past the csrf check.
  const csrf = await page.locator(`${PASSWORD_FORM} input[name="csrf"]`).inputValue();
  const genuine = await page.request.post(endpoint, { form: { ...credentials, csrf }, maxRedirects: 0 });
  const code = /data-error-code="([a-z_]+)"/.exec(await genuine.text())?.[1] ?? '';
  t.truthy(REFUSED_LOGIN.get(code), `a genuine post of made-up credentials answered ${genuine.status()} ${code}`);
  t.is(genuine.status(), REFUSED_LOGIN.get(code)?.status ?? -1);
});

/** The login tab the person sees as the current one (the page may carry another, hidden, for other screens). */
async function currentTab(page: Page): Promise<string | null> {
  const current = page.locator('nav.tabs a[aria-current="page"]:visible');
  if (await current.count() !== 1) throw new Error(`expected one visible current tab, found ${await current.count()}`);
  return current.getAttribute('data-tab');
}

async function noAxeViolations(t: ExecutionContext, page: Page, state: string): Promise<void> {
  const violations = await axeViolations(page);
  t.deepEqual(violations, [], `${state}: ${JSON.stringify(violations, null, 1)}`);
}

test('a desktop opens the login page on the QR code, JavaScript or not, and the password is one tab away', async (t) => {
  for (const javaScriptEnabled of [false, true]) {
    const { page } = await landOnLogin(t, {}, { ...DESKTOP, javaScriptEnabled });
    t.is(await currentTab(page), 'qr', `JavaScript ${javaScriptEnabled ? 'on' : 'off'}`);
    t.true(await page.locator('img.qr').isVisible());
    t.true(await page.getByRole('button', { name: '我已在手机上确认' }).isVisible());
    t.false(await page.locator('#identifier').isVisible(), 'the password form waits behind its tab');
    t.false(await page.locator('[data-app-handoff]').isVisible(), 'no app hand-off on a desktop');
    if (!javaScriptEnabled) continue;
    await noAxeViolations(t, page, 'desktop, QR first');

    await page.getByRole('link', { name: '密码登录' }).click();
    t.is(await currentTab(page), 'password');
    t.true(await page.locator('#identifier').isVisible());
    t.false(await page.locator('img.qr').isVisible());
    await noAxeViolations(t, page, 'desktop, password tab');
  }
});

test('a phone opens the login page on the password, without a QR tab, and hands the login to the app', async (t) => {
  const { page, uid } = await landOnLogin(t, {}, PHONE);
  t.is(await currentTab(page), 'password');
  t.true(await page.locator('#identifier').isVisible());
  t.false(await page.locator('img.qr').isVisible(), 'no QR code to scan on the screen that would scan it');
  t.is(await page.locator('nav.tabs a[data-tab="qr"]:visible').count(), 0, 'no QR tab');
  t.true(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth'));
  const handoff = page.getByRole('link', { name: '在政务 App 中打开' });
  t.true(await handoff.isVisible());
  await noAxeViolations(t, page, 'phone, password first');

  await handoff.click();
  t.is(new URL(page.url()).pathname, `/interaction/${uid}/qr`);
  const open = page.locator('a[data-app-open]');
  t.true(await open.isVisible());
  const link = new URL(await open.getAttribute('href') ?? '');
  t.is(`${link.origin}${link.pathname}`, APP_OPEN_URL);
  t.is(link.searchParams.get('qr')?.endsWith(await page.locator('input[name="qr"]').inputValue()), true, 'the app gets this page\'s one-time code');
  t.regex(await page.locator('main').innerText(), /在政务 App 中确认登录，然后回到本页/);
  t.true(await page.getByRole('button', { name: '我已在手机上确认' }).isVisible(), 'back from the app, the page completes the login');
  await noAxeViolations(t, page, 'phone, app hand-off');

  // The SMS tab keeps the hand-off too.
  await page.getByRole('link', { name: '短信验证码登录' }).click();
  t.is(await currentTab(page), 'sms');
  t.true(await page.getByRole('link', { name: '在政务 App 中打开' }).isVisible());
});
