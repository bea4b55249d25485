import test from 'ava';
import * as oidc from 'openid-client';
import { PASSWORD, ZHANG_SAN } from '../../helpers/accounts.js';
import { HttpBrowser, pkce } from '../../helpers/http-browser.js';
import { SECRETS, discoverThree, rpLogin, threeClientProvider } from '../../helpers/relying-party.js';
import type { TestServer } from '../../helpers/server.js';

/**
 * The Basic OP plan's modules about the authorization request itself, as the conformance
 * suite sends them: parameters the provider must accept (display, login_hint, ui_locales,
 * claims_locales, acr_values, id_token_hint, scopes in any order, essential claims), a
 * missing response_type and an unregistered redirect_uri it must refuse without sending
 * the browser anywhere, and a code that works once only (oidcc-codereuse).
 */

const LOGIN = { identifier: ZHANG_SAN.idNumber, password: PASSWORD };
const PORTAL_REDIRECT = 'http://localhost:8080/callback';

let server: TestServer;
let accountId: string;
let configs: Awaited<ReturnType<typeof discoverThree>>;
test.before(async () => {
  ({ server, accountId, configs } = await threeClientProvider());
});
test.after.always(async () => { await server?.close(); });

test('parameters the provider must accept: display, login_hint, ui_locales, claims_locales, acr_values, scopes in another order', async (t) => {
  const requests: Array<Record<string, string>> = [
    { display: 'page' },
    { display: 'popup' },
    { login_hint: ZHANG_SAN.phone },
    { ui_locales: 'en zh-CN' },
    { claims_locales: 'zh-CN' },
    { acr_values: 'urn:civic-idp:loa:2' },
    { scope: 'phone profile openid' },
  ];
  for (const params of requests) {
    const { tokens } = await rpLogin(configs.portal, new HttpBrowser(server.url), LOGIN, params);
    t.is(tokens.claims()!.sub, accountId, JSON.stringify(params));
  }
});

test('id_token_hint with prompt=none names the person signed in: tokens without a login page', async (t) => {
  const browser = new HttpBrowser(server.url);
  const first = await rpLogin(configs.portal, browser, LOGIN);
  const again = await rpLogin(configs.portal, browser, undefined, { prompt: 'none', id_token_hint: first.tokens.id_token! });
  t.false(again.loginShown);
  t.is(again.tokens.claims()!.sub, accountId);
});

test('an essential claim in the claims parameter is released by userinfo', async (t) => {
  const claims = JSON.stringify({ userinfo: { name: { essential: true } } });
  const { tokens } = await rpLogin(configs.portal, new HttpBrowser(server.url), LOGIN, { scope: 'openid', claims });
  const info = await oidc.fetchUserInfo(configs.portal, tokens.access_token, accountId);
  t.is(info.name, ZHANG_SAN.name);
});

test('a request without response_type, or with an unregistered redirect_uri, is refused and the browser sent nowhere', async (t) => {
  const browser = new HttpBrowser(server.url);
  const { challenge } = pkce();
  const base = { client_id: 'portal', scope: 'openid', state: 'refused', code_challenge: challenge, code_challenge_method: 'S256' };
  const missing = await browser.get(`/auth?${new URLSearchParams({ ...base, redirect_uri: PORTAL_REDIRECT })}`);
  const missingAt = new URL(missing.url);
  // The client and its redirect_uri are valid, so the error goes back to it (as the module accepts).
  t.true(missing.url.startsWith(PORTAL_REDIRECT), missing.url);
  t.is(missingAt.searchParams.get('error'), 'invalid_request');
  t.false(missingAt.searchParams.has('code'));

  const unregistered = await browser.get(`/auth?${new URLSearchParams({ ...base, response_type: 'code', redirect_uri: 'https://attacker.example/callback' })}`);
  t.is(unregistered.response.status, 400);
  t.true(unregistered.url.startsWith(server.url), 'no redirect to an address the client did not register');
});

test('a code works once: the second exchange is invalid_grant and revokes what the first one issued (oidcc-codereuse)', async (t) => {
  const browser = new HttpBrowser(server.url);
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(configs.portal, {
    redirect_uri: PORTAL_REDIRECT, scope: 'openid', state: 'once', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  let landed = await browser.get(url.href);
  const uid = /\/interaction\/([A-Za-z0-9_-]+)$/.exec(landed.url)![1]!;
  landed = await browser.post(`/interaction/${uid}/login/password`, { csrf: /name="csrf" value="([^"]+)"/.exec(landed.body)![1]!, ...LOGIN });
  const code = new URL(landed.url).searchParams.get('code')!;
  const exchange = () => fetch(new URL('/token', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`portal:${SECRETS.portal}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: PORTAL_REDIRECT, code_verifier: verifier }),
  }).then(async (r) => ({ status: r.status, body: await r.json() as Record<string, string> }));
  const first = await exchange();
  t.is(first.status, 200);
  const second = await exchange();
  t.is(second.status, 400);
  t.is(second.body.error, 'invalid_grant');
  const info = await fetch(new URL('/me', server.url), { headers: { authorization: `Bearer ${first.body.access_token}` } });
  t.is(info.status, 401, 'the access token of the first exchange is revoked');
});
