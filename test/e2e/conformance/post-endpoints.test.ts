import test from 'ava';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { PASSWORD, ZHANG_SAN, seedAccount } from '../../helpers/accounts.js';
import { openBrowser } from '../../helpers/browser.js';
import { passwordOnLoginPage } from '../../helpers/citizen-pages.js';
import { pkce } from '../../helpers/http-browser.js';
import { LOCAL_RELYING_PARTIES, LogoutReceiver, SECRETS, threeClients, writeClientsFile } from '../../helpers/relying-party.js';
import { freePort, startServer, type TestServer } from '../../helpers/server.js';
import { startTlsProxy, type TlsProxy } from '../../helpers/tls-proxy.js';

/**
 * OpenID Connect Core 3.1.2.1 and RP-Initiated Logout 1.0 section 2: the authorization and
 * end-session endpoints accept POST. Proven as a relying party does it, a cross-site form
 * post in Chromium, to an issuer served over TLS (a local proxy with a self-signed
 * certificate, TRUST_PROXY as in production): the SameSite=None; Secure session cookie goes
 * with the post, so prompt=none finds the single sign-on session and a logout posted with
 * a hint from that session ends it without asking. Methods an endpoint does not serve get
 * 405 with Allow.
 */

let receiver: LogoutReceiver;
let proxy: TlsProxy;
let server: TestServer;
test.before(async () => {
  receiver = await LogoutReceiver.start();
  const appPort = await freePort();
  proxy = await startTlsProxy(appPort);
  server = await startServer({
    ...LOCAL_RELYING_PARTIES, CLIENTS_FILE: writeClientsFile(threeClients(receiver)), ISSUER: proxy.url, TRUST_PROXY: 'true',
  }, { port: appPort });
  await seedAccount(server.deps, ZHANG_SAN);
});
test.after.always(async () => {
  await server?.close();
  await proxy?.close();
  await receiver?.close();
});

const callback = () => receiver.uri('/callback');

/** A relying-party page on another site that posts `fields` to `action` as soon as it loads. */
function autoPostingForm(action: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields).map(([name, value]) => `<input type="hidden" name="${name}" value="${value.replace(/"/g, '&quot;')}">`).join('');
  return `<!doctype html><form method="post" action="${action}">${inputs}</form><script>document.forms[0].submit()</script>`;
}

function authorizationFields(state: string, challenge: string, extra: Record<string, string> = {}) {
  return { client_id: 'portal', response_type: 'code', scope: 'openid', redirect_uri: callback(), state, code_challenge: challenge, code_challenge_method: 'S256', ...extra };
}

/** The portal's code exchange, straight to the server as the proxy would pass it on. */
async function exchange(code: string, verifier: string) {
  const response = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https',
      authorization: `Basic ${Buffer.from(`portal:${SECRETS.portal}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: callback(), code_verifier: verifier }),
  });
  return { status: response.status, body: await response.json() as Record<string, string> };
}

test.serial('a cross-site form post to /auth carries the session: prompt=none signs in, and a posted logout with a hint from that session ends it without asking', async (t) => {
  const browser = await openBrowser({ ignoreHTTPSErrors: true });
  t.teardown(() => browser.close());
  const page = await browser.context.newPage();
  const first = pkce();
  await page.goto(`${proxy.url}/auth?${new URLSearchParams(authorizationFields('first', first.challenge))}`);
  await passwordOnLoginPage(page, ZHANG_SAN.idNumber, PASSWORD);
  await page.waitForURL((url) => url.href.startsWith(callback()) || url.pathname.includes('/interaction/'));
  if (!page.url().startsWith(callback())) await page.getByRole('button', { name: '同意' }).click();
  await page.waitForURL((url) => url.href.startsWith(callback()));

  const session = (await browser.context.cookies(proxy.url)).find((cookie) => cookie.name === '_session');
  t.like(session, { sameSite: 'None', secure: true, httpOnly: true });

  const posted = pkce();
  receiver.serve('/post-auth', autoPostingForm(`${proxy.url}/auth`, authorizationFields('posted', posted.challenge, { prompt: 'none' })));
  await page.goto(receiver.uri('/post-auth'));
  await page.waitForURL((url) => url.href.startsWith(callback()) && url.searchParams.get('state') === 'posted');
  const answer = new URL(page.url()).searchParams;
  t.is(answer.get('error'), null, answer.toString());
  const tokens = await exchange(answer.get('code')!, posted.verifier);
  t.is(tokens.status, 200, JSON.stringify(tokens.body));
  const idToken = decodeJwt(tokens.body.id_token!);
  t.is(idToken.iss, proxy.url);

  receiver.serve('/post-logout', autoPostingForm(`${proxy.url}/session/end`, { id_token_hint: tokens.body.id_token!, post_logout_redirect_uri: receiver.uri('/'), state: 'bye' }));
  await page.goto(receiver.uri('/post-logout'));
  await page.waitForURL((url) => url.href.startsWith(receiver.uri('/')) && url.searchParams.get('state') === 'bye');

  const after = pkce();
  receiver.serve('/post-auth-again', autoPostingForm(`${proxy.url}/auth`, authorizationFields('after', after.challenge, { prompt: 'none' })));
  await page.goto(receiver.uri('/post-auth-again'));
  await page.waitForURL((url) => url.href.startsWith(callback()) && url.searchParams.get('state') === 'after');
  t.is(new URL(page.url()).searchParams.get('error'), 'login_required', 'the posted logout ended the session');
});

test.serial('a first login started by a cross-site form post to /auth: the login page, then the code, which the portal redeems with openid-client', async (t) => {
  // The portal reaches the issuer's endpoints as the TLS proxy passes them on: to the server, said to be https.
  const throughProxy: typeof fetch = async (url, init) => {
    const asked = new URL(String(url));
    const target = `${server.url}${asked.pathname}${asked.search}`;
    return fetch(target, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers).entries()), 'x-forwarded-proto': 'https' } });
  };
  const config = await oidc.discovery(new URL(proxy.url), 'portal', { redirect_uris: [callback()] }, oidc.ClientSecretBasic(SECRETS.portal), { [oidc.customFetch]: throughProxy });
  const browser = await openBrowser({ ignoreHTTPSErrors: true });
  t.teardown(() => browser.close());
  const page = await browser.context.newPage();
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const fields = authorizationFields('cold', await oidc.calculatePKCECodeChallenge(verifier), { nonce });
  receiver.serve('/post-cold', autoPostingForm(`${proxy.url}/auth`, fields));
  await page.goto(receiver.uri('/post-cold'));
  await passwordOnLoginPage(page, ZHANG_SAN.idNumber, PASSWORD);
  await page.waitForURL((url) => url.href.startsWith(callback()) || url.pathname.includes('/interaction/'));
  if (!page.url().startsWith(callback())) await page.getByRole('button', { name: '同意' }).click();
  await page.waitForURL((url) => url.href.startsWith(callback()) && url.searchParams.get('state') === 'cold');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: 'cold', expectedNonce: nonce, idTokenExpected: true });
  t.is(tokens.claims()?.iss, proxy.url);
  t.truthy(tokens.claims()?.sid, 'a session the portal can be told about');
});

test('methods an endpoint does not serve get 405 with Allow, never the page-not-found page', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['PUT', '/auth', 'GET, HEAD, POST'],
    ['DELETE', '/session/end', 'GET, HEAD, POST'],
    ['GET', '/token', 'POST, OPTIONS'],
    ['PUT', '/me', 'GET, HEAD, POST, OPTIONS'],
    ['POST', '/jwks', 'GET, HEAD, OPTIONS'],
    ['POST', '/auth/some-uid', 'GET, HEAD'],
  ];
  for (const [method, path, allow] of cases) {
    const response = await fetch(`${server.url}${path}`, { method, headers: { accept: 'application/json', 'x-forwarded-proto': 'https' } });
    t.is(response.status, 405, `${method} ${path}`);
    t.is(response.headers.get('allow'), allow, `${method} ${path}`);
    t.is((await response.json() as { error: string }).error, 'method_not_allowed');
  }
  // Our own routers' 405 gets the same page, not a bare "Method Not Allowed".
  const page = await fetch(`${server.url}/interaction/some-uid/login/password`, { headers: { 'x-forwarded-proto': 'https' } });
  t.is(page.status, 405);
  t.is(page.headers.get('allow'), 'POST');
  t.true((await page.text()).includes('data-error-code="method_not_allowed"'));
  // And so does every router of ours, JSON API and pages alike.
  const ours: Array<[string, string, RegExp]> = [
    ['PUT', '/api/v1/account', /GET/],
    ['DELETE', '/agreement', /^(HEAD, GET|GET, HEAD)$/],
    ['PUT', '/api/v1/delegations', /POST/],
    ['PATCH', '/register', /GET/],
  ];
  for (const [method, path, allow] of ours) {
    const response = await fetch(`${server.url}${path}`, { method, headers: { accept: 'application/json', 'x-forwarded-proto': 'https' } });
    t.is(response.status, 405, `${method} ${path}`);
    t.regex(response.headers.get('allow') ?? '', allow, `${method} ${path}`);
    t.is((await response.json() as { error: string }).error, 'method_not_allowed', `${method} ${path}`);
  }
});
