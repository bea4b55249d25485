import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import test from 'ava';
import { decodeJwt } from 'jose';
import { PASSWORD, seedAccount } from '../helpers/accounts.js';
import { makePerson } from '../helpers/account-centre.js';
import { openBrowser } from '../helpers/browser.js';
import { pkce } from '../helpers/http-browser.js';
import { codeFrom, exchangeCode } from '../helpers/oidc.js';
import { appLogin, payloadOf, qrApi, qrImageOf } from '../helpers/qr-login.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * PC login by QR code in a real browser (Debian's Chromium): the portal sends the browser
 * to the login page, the person opens the QR tab, the app (a token from a normal app login)
 * scans and confirms, and the page's own script notices and completes the login.
 */

const CLIENTS_FILE = resolve('test/fixtures/clients.json');
const fixture = JSON.parse(readFileSync(CLIENTS_FILE, 'utf8')) as Array<{ client_id: string; client_secret?: string }>;
const PORTAL = {
  client_id: 'portal',
  redirect_uri: 'http://localhost:8080/callback',
  secret: fixture.find((entry) => entry.client_id === 'portal')?.client_secret ?? '',
};

let server: TestServer;
test.before(async () => { server = await startServer({ CLIENTS_FILE }); });
test.after.always(async () => { await server?.close(); });

test('the page completes the login once the app confirms, with amr qr and no CSP complaint', async (t) => {
  const person = makePerson();
  const accountId = await seedAccount(server.deps, person);
  const appToken = await appLogin(server.url, person.phone, PASSWORD);

  const browser = await openBrowser();
  t.teardown(() => browser.close());
  const page = browser.context.pages()[0] ?? await browser.context.newPage();
  const cspViolations: string[] = [];
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
  });

  const { verifier, challenge } = pkce();
  const state = 'qr-e2e-state';
  const authorize = new URL('/auth', server.url);
  for (const [key, value] of Object.entries({
    client_id: PORTAL.client_id, redirect_uri: PORTAL.redirect_uri, response_type: 'code', scope: 'openid profile',
    code_challenge: challenge, code_challenge_method: 'S256', state,
  })) authorize.searchParams.set(key, value);
  await page.goto(authorize.href);
  await page.getByRole('link', { name: '扫码登录' }).click();
  await page.waitForSelector('img.qr');
  t.regex(new URL(page.url()).pathname, /^\/interaction\/[A-Za-z0-9_-]+\/qr$/);

  // What the phone's camera would read: the payload of the image on the screen.
  const id = await page.locator('input[name="qr"]').inputValue();
  t.is(await page.locator('img.qr').getAttribute('src'), await qrImageOf(payloadOf(id)));
  t.is(await page.locator('img.qr').getAttribute('alt'), '扫码登录二维码');
  t.is((await page.locator('[data-qr-status]').textContent())?.trim(), '等待扫码……');

  const scan = await qrApi(server.url, appToken, 'scan', { qr: payloadOf(id) });
  t.is(scan.status, 200);
  t.is(scan.body.client.name, '省政务服务网');
  t.regex(scan.body.browser.user_agent, /Chrome/, 'the app is shown the browser that asks');
  // The page's poll shows the scan.
  await page.waitForSelector('[data-qr-state="scanned"]');
  t.is((await page.locator('[data-qr-status]').textContent())?.trim(), '已扫码，请在手机上确认。');

  // The portal is not running: the browser's request to its callback is what counts (the navigation then fails).
  const callback = page.waitForRequest((request) => request.url().startsWith(PORTAL.redirect_uri));
  t.is((await qrApi(server.url, appToken, 'decision', { qr: payloadOf(id), decision: 'confirm' })).status, 200);
  const reached = await callback;

  const tokens = await exchangeCode(server.url, PORTAL, codeFrom(reached.url(), state), verifier);
  t.is(tokens.status, 200);
  const claims = decodeJwt(tokens.body.id_token!);
  t.is(claims.sub, accountId);
  t.deepEqual(claims.amr, ['qr']);
  t.is(claims.acr, 'urn:civic-idp:loa:2');
  t.deepEqual(cspViolations, []);
});
