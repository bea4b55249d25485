import test from 'ava';
import { decodeJwt } from 'jose';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { makePerson } from '../../helpers/account-centre.js';
import { HttpBrowser } from '../../helpers/http-browser.js';
import { throughConsent } from '../../helpers/oidc.js';
import { authorize, redirectParams, registerClient, tokensFor, withPassword, type TestClient } from '../../helpers/policy.js';
import { startServer, type TestServer } from '../../helpers/server.js';

let server: TestServer;
let accountId: string;
const person = makePerson('周八');
const SECRET = 'tax-department-secret-for-tests-0123456789';
let portal: TestClient;
let app: TestClient;
let tax: TestClient;
let plain: TestClient;

test.before(async () => {
  server = await startServer();
  accountId = await seedAccount(server.deps, person);
  portal = await registerClient(server, 'province-portal', {}, { subject_sector: 'gov.example' });
  // Web and native redirect URIs on different hosts: no sector_identifier_uri needed.
  await registerClient(server, 'province-app', {}, {
    subject_sector: 'gov.example', application_type: 'native',
    redirect_uris: ['cn.gov.example.app2:/oauth2/callback', 'https://app.gov.example/oauth2/callback'],
  });
  app = { client_id: 'province-app', redirect_uri: 'cn.gov.example.app2:/oauth2/callback' };
  tax = await registerClient(server, 'tax-department', {}, { subject_sector: 'tax.gov.example', token_endpoint_auth_method: 'client_secret_basic', client_secret: SECRET });
  plain = await registerClient(server, 'public-sub');
});
test.after.always(async () => { await server?.close(); });

async function idTokenSub(browser: HttpBrowser, client: TestClient): Promise<{ sub: string; accessToken: string }> {
  const attempt = await authorize(server, browser, client, { prompt: 'none' });
  const tokens = await tokensFor(server, attempt, client);
  if (tokens.status !== 200) throw new Error(JSON.stringify(tokens.body));
  return { sub: String(decodeJwt(tokens.body.id_token!).sub), accessToken: tokens.body.access_token! };
}

async function confidentialTokens(browser: HttpBrowser) {
  const attempt = await authorize(server, browser, tax, { prompt: 'none' });
  const response = await fetch(new URL('/token', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${tax.client_id}:${SECRET}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: redirectParams(attempt, tax)?.get('code') ?? '', redirect_uri: tax.redirect_uri, code_verifier: attempt.verifier }),
  });
  return await response.json() as Record<string, string>;
}

async function signIn(): Promise<HttpBrowser> {
  const attempt = await authorize(server, new HttpBrowser(server.url), plain);
  const done = await withPassword(attempt, person.idNumber, PASSWORD);
  if (!redirectParams(done, plain)?.get('code')) throw new Error(done.url);
  return attempt.browser;
}

test.serial('one sector shares a sub, another sector gets a different one, and neither is the account id', async (t) => {
  const browser = await signIn();
  const fromPortal = await idTokenSub(browser, portal);
  // The native app has a consent page on every login.
  const atApp = await authorize(server, browser, app);
  const appTokens = await tokensFor(server, { url: (await throughConsent(browser, atApp)).url, verifier: atApp.verifier }, app);
  const taxTokens = await confidentialTokens(browser);
  const fromTax = String(decodeJwt(taxTokens.id_token!).sub);
  const fromPlain = await idTokenSub(browser, plain);

  t.is(String(decodeJwt(appTokens.body.id_token!).sub), fromPortal.sub);
  t.not(fromTax, fromPortal.sub);
  t.not(fromPortal.sub, accountId);
  t.not(fromTax, accountId);
  t.is(fromPlain.sub, accountId);

  // userinfo and introspection show each client its own sector's sub.
  const userinfo = await (await fetch(new URL('/me', server.url), { headers: { authorization: `Bearer ${fromPortal.accessToken}` } })).json() as Record<string, unknown>;
  t.is(userinfo.sub, fromPortal.sub);
  const taxUserinfo = await (await fetch(new URL('/me', server.url), { headers: { authorization: `Bearer ${taxTokens.access_token}` } })).json() as Record<string, unknown>;
  t.is(taxUserinfo.sub, fromTax);
  const introspection = await (await fetch(new URL('/token/introspection', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${tax.client_id}:${SECRET}`).toString('base64')}` },
    body: new URLSearchParams({ token: taxTokens.access_token! }),
  })).json() as Record<string, unknown>;
  t.is(introspection.active, true);
  t.is(introspection.sub, fromTax);

  // The pairwise sub works as an id_token_hint.
  const hinted = await authorize(server, browser, portal, { prompt: 'none', id_token_hint: (await tokensFor(server, await authorize(server, browser, portal, { prompt: 'none' }), portal)).body.id_token! });
  t.truthy(redirectParams(hinted, portal)?.get('code'));
});

test.serial('the sub is stable across logins (a new browser, a new session)', async (t) => {
  const first = await idTokenSub(await signIn(), portal);
  const second = await idTokenSub(await signIn(), portal);
  t.is(first.sub, second.sub);
});

test.serial('a malformed subject_sector is refused when the client is registered', async (t) => {
  await t.throwsAsync(registerClient(server, 'bad-sector', {}, { subject_sector: 'Not A Sector!' }), { message: /subject_sector/ });
  t.is(await server.deps.clients.providerMetadata('bad-sector'), undefined);
});

test.serial('discovery announces pairwise subjects', async (t) => {
  const discovery = await (await fetch(new URL('/.well-known/openid-configuration', server.url))).json() as Record<string, unknown>;
  t.deepEqual(discovery.subject_types_supported, ['public', 'pairwise']);
});
