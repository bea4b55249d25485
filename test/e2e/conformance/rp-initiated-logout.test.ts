import { generateKeyPair, SignJWT, UnsecuredJWT, decodeJwt } from 'jose';
import test from 'ava';
import * as oidc from 'openid-client';
import { PASSWORD, ZHANG_SAN, seedAccount } from '../../helpers/accounts.js';
import { openBrowser } from '../../helpers/browser.js';
import { HttpBrowser, hidden } from '../../helpers/http-browser.js';
import { LOCAL_RELYING_PARTIES, LogoutReceiver, discoverThree, rpLogin, threeClients, writeClientsFile } from '../../helpers/relying-party.js';
import { startServer, type TestServer } from '../../helpers/server.js';

/**
 * OpenID Connect RP-Initiated Logout 1.0 as the conformance plan exercises it. With a valid
 * id_token_hint from the browser's own session the confirmation page submits itself (by
 * its script) and the registered post_logout_redirect_uri gets the browser back with its
 * state; without a hint, or with a hint from another session, the person is asked. A hint that is not ours, unsigned, altered, or a
 * post_logout_redirect_uri that is not registered ends in an error page: no redirect, the
 * session left as it was. Without a hint nobody is redirected anywhere but to our page.
 */

const LOGIN = { identifier: ZHANG_SAN.idNumber, password: PASSWORD };
const RP = 'http://localhost:8080/';

let receiver: LogoutReceiver;
let server: TestServer;
let configs: Awaited<ReturnType<typeof discoverThree>>;
test.before(async () => {
  receiver = await LogoutReceiver.start();
  server = await startServer({ ...LOCAL_RELYING_PARTIES, CLIENTS_FILE: writeClientsFile(threeClients(receiver)) });
  await seedAccount(server.deps, ZHANG_SAN);
  configs = await discoverThree(server.url);
});
test.after.always(async () => {
  await server?.close();
  await receiver?.close();
});

function logoutUrl(params: Record<string, string>): string {
  const url = new URL('/session/end', server.url);
  url.search = new URLSearchParams(params).toString();
  return url.href;
}

async function signedIn() {
  const browser = new HttpBrowser(server.url);
  const { tokens } = await rpLogin(configs.portal, browser, LOGIN);
  return { browser, idToken: tokens.id_token!, sid: tokens.claims()!.sid as string };
}

async function stillSignedIn(browser: HttpBrowser): Promise<boolean> {
  const result = await rpLogin(configs.portal2, browser, undefined, { prompt: 'none' }).catch((e: unknown) => e);
  if (result instanceof oidc.AuthorizationResponseError && result.error === 'login_required') return false;
  if (result instanceof Error) throw result;
  return true;
}

/** An error page from the logout endpoint: 400, no redirect, nothing ended. */
async function refusedWithoutRedirect(t: import('ava').ExecutionContext, browser: HttpBrowser, url: string, sid: string) {
  const answer = await browser.get(url);
  t.is(answer.response.status, 400);
  t.is(answer.url.startsWith(server.url), true, `stays on the provider, got ${answer.url}`);
  t.false(answer.body.includes('op.logoutForm'), 'no logout form is offered for a bad request');
  t.true(await stillSignedIn(browser), 'the session is untouched');
  t.true(receiver.deliveries.every((d) => decodeJwt(d.logoutToken).sid !== sid), 'no relying party was told this session ended');
}

test('good hint: the page submits itself, then back to the registered URI with the state; the session is over', async (t) => {
  const { browser, idToken } = await signedIn();
  const page = await browser.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: RP, state: 'st-1' }));
  t.is(page.response.status, 200);
  t.regex(page.body, /op\.logoutForm/);
  t.regex(page.body, /data-auto-logout/);
  t.regex(page.body, /<script src="\/static\/logout\.js" defer><\/script>/);
  t.is(page.response.headers.get('cache-control'), 'no-store');
  const done = await browser.post('/session/end/confirm', { xsrf: hidden(page.body, 'xsrf'), logout: 'yes' });
  t.is(done.url, `${RP}?state=st-1`);
  t.false(await stillSignedIn(browser));
});

test('a valid hint from another session of the same person: the person is asked', async (t) => {
  const mine = await signedIn();
  const other = await signedIn();
  const page = await mine.browser.get(logoutUrl({ id_token_hint: other.idToken, post_logout_redirect_uri: RP, state: 'st-6' }));
  t.is(page.response.status, 200);
  t.regex(page.body, /op\.logoutForm/);
  t.notRegex(page.body, /data-auto-logout|logout\.js/);
});

test('good hint, "stay signed in": only the asking client is signed out, the SSO session stays', async (t) => {
  const { browser, idToken } = await signedIn();
  const page = await browser.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: RP, state: 'st-2' }));
  const done = await browser.post('/session/end/confirm', { xsrf: hidden(page.body, 'xsrf') });
  t.is(done.url, `${RP}?state=st-2`);
  t.true(await stillSignedIn(browser));
});

test('a post_logout_redirect_uri that is not registered (or has a changed query) is refused without a redirect', async (t) => {
  const { browser, idToken, sid } = await signedIn();
  await refusedWithoutRedirect(t, browser, logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/', state: 's' }), sid);
  await refusedWithoutRedirect(t, browser, logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: `${RP}?x=1`, state: 's' }), sid);
});

test('a foreign, unsigned or altered id_token_hint is refused without a redirect', async (t) => {
  const { browser, idToken, sid } = await signedIn();
  const claims = decodeJwt(idToken);
  const { privateKey } = await generateKeyPair('ES256');
  const foreign = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'ES256', kid: 'not-ours' }).sign(privateKey);
  const unsigned = new UnsecuredJWT({ ...claims }).encode();
  const [header, payload] = idToken.split('.');
  const altered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${idToken.split('.')[2]}`;
  t.not(altered.split('.')[1], payload);
  for (const hint of [foreign, unsigned, altered, 'not-a-jwt']) {
    await refusedWithoutRedirect(t, browser, logoutUrl({ id_token_hint: hint, post_logout_redirect_uri: RP, state: 's' }), sid);
  }
});

test('no hint: the confirmation page, and a post_logout_redirect_uri is ignored; our own page at the end', async (t) => {
  const { browser } = await signedIn();
  const page = await browser.get(logoutUrl({ post_logout_redirect_uri: RP, state: 'st-3' }));
  t.is(page.response.status, 200);
  t.regex(page.body, /op\.logoutForm/);
  t.notRegex(page.body, /data-auto-logout|logout\.js/, 'no hint: the person is asked');
  const done = await browser.post('/session/end/confirm', { xsrf: hidden(page.body, 'xsrf'), logout: 'yes' });
  t.true(done.url.startsWith(`${server.url}/session/end/success`), done.url);
  t.false(done.body.includes('st-3'));
  t.false(await stillSignedIn(browser));
});

test('only state: the confirmation page, then our own page; the state goes nowhere', async (t) => {
  const { browser } = await signedIn();
  const page = await browser.get(logoutUrl({ state: 'st-4' }));
  t.regex(page.body, /op\.logoutForm/);
  const done = await browser.post('/session/end/confirm', { xsrf: hidden(page.body, 'xsrf'), logout: 'yes' });
  t.true(done.url.startsWith(`${server.url}/session/end/success`), done.url);
  t.false(done.url.includes('st-4'));
  t.false(await stillSignedIn(browser));
});

test('a forged confirmation (wrong xsrf) ends nothing', async (t) => {
  const { browser } = await signedIn();
  await browser.get(logoutUrl({ state: 'st-5' }));
  const forged = await browser.post('/session/end/confirm', { xsrf: 'forged', logout: 'yes' });
  t.is(forged.response.status, 400);
  t.true(await stillSignedIn(browser));
});

test('in a real browser: a good hint signs out without a click; without one, "退出" is clicked on the confirmation page', async (t) => {
  const chromium = await openBrowser();
  t.teardown(() => chromium.close());
  // The portal's pages are answered by the test's relying-party server, which records the visits.
  const portalHome = receiver.uri('/');
  const page = chromium.context.pages()[0] ?? await chromium.context.newPage();
  const cspViolations: string[] = [];
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
  });

  async function login() {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    await page.goto(oidc.buildAuthorizationUrl(configs.portal, {
      redirect_uri: receiver.uri('/callback'), scope: 'openid', state, nonce, prompt: 'login',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href);
    // On a desktop the login page opens on the QR code: the password tab first.
    await page.getByRole('link', { name: '密码登录' }).click();
    await page.getByLabel('身份证号或手机号', { exact: true }).fill(ZHANG_SAN.idNumber);
    await page.getByLabel('密码', { exact: true }).fill(PASSWORD);
    await Promise.all([
      page.waitForURL(`${receiver.uri('/callback')}**`),
      page.locator('form:has(input[name="password"]) button[type="submit"]').click(),
    ]);
    return oidc.authorizationCodeGrant(configs.portal, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  }
  const sessionCookie = async () => (await chromium.context.cookies(server.url)).some((cookie) => cookie.name === '_session');

  const first = await login();
  t.true(await sessionCookie());
  await Promise.all([
    page.waitForURL(`${portalHome}?state=browser-state`),
    page.goto(logoutUrl({ id_token_hint: first.id_token!, post_logout_redirect_uri: portalHome, state: 'browser-state' })),
  ]);
  t.true(receiver.visits.includes(`${portalHome}?state=browser-state`), receiver.visits.join(' '));
  t.false(await sessionCookie(), 'the session cookie is gone');
  await receiver.waitFor('/portal', 1);
  t.true(receiver.to('/portal').some((d) => decodeJwt(d.logoutToken).sid === first.claims()!.sid), 'the portal was told through the back channel');

  await login();
  await page.goto(logoutUrl({ state: 'no-hint' }));
  t.is((await page.locator('h1').textContent())?.trim(), '退出登录');
  t.true(await sessionCookie(), 'without a hint nothing happens until the person confirms');
  await Promise.all([
    page.waitForURL(`${server.url}/session/end/success**`),
    page.getByRole('button', { name: '退出', exact: true }).click(),
  ]);
  t.false(await sessionCookie());
  t.deepEqual(cspViolations, []);
});

test('signing out everywhere at the portal ends the app\'s offline login from the same session too, and is audited', async (t) => {
  const { browser, idToken } = await signedIn();
  const app = await rpLogin(configs.app, browser, undefined, { scope: 'openid offline_access', prompt: 'consent' });
  t.truthy(app.tokens.refresh_token);
  const refreshed = await oidc.refreshTokenGrant(configs.app, app.tokens.refresh_token!);
  const page = await browser.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: RP, state: 'st-9' }));
  const done = await browser.post('/session/end/confirm', { xsrf: hidden(page.body, 'xsrf'), logout: 'yes' });
  t.is(done.url, `${RP}?state=st-9`);
  const refused = await oidc.refreshTokenGrant(configs.app, refreshed.refresh_token!).catch((e: unknown) => e);
  t.is((refused as oidc.ResponseBodyError).error, 'invalid_grant', 'the offline grant died with the session');
  const accountId = decodeJwt(idToken).sub!;
  const records = await server.deps.database.db.selectFrom('audit_log').selectAll().where('action', '=', 'session.logout').where('target_id', '=', accountId).execute();
  t.true(records.some((r) => r.details.scope === 'all' && r.details.client_id === 'portal' && Number(r.details.grants) >= 2), JSON.stringify(records.map((r) => r.details)));
});

test('"stay signed in" ends only the asking client\'s grant: the app\'s offline login stays', async (t) => {
  const { browser, idToken } = await signedIn();
  const app = await rpLogin(configs.app, browser, undefined, { scope: 'openid offline_access', prompt: 'consent' });
  const page = await browser.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: RP, state: 'st-10' }));
  await browser.post('/session/end/confirm', { xsrf: hidden(page.body, 'xsrf') });
  const refreshed = await oidc.refreshTokenGrant(configs.app, app.tokens.refresh_token!);
  t.truthy(refreshed.access_token);
});
