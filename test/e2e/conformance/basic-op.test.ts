import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { UnsecuredJWT } from 'jose';
import * as oidc from 'openid-client';
import { PASSWORD, ZHANG_SAN } from '../../helpers/accounts.js';
import { HttpBrowser, pkce } from '../../helpers/http-browser.js';
import { SECRETS, discoverThree, threeClientProvider, rpLogin } from '../../helpers/relying-party.js';
import type { TestServer } from '../../helpers/server.js';

/**
 * The behaviours of the OpenID Connect Basic OP conformance plan, with openid-client as the
 * relying party. Covered elsewhere and not repeated here: code reuse (second use
 * invalid_grant, first tokens revoked) and refresh-token reuse in
 * test/integration/citizens/login.test.ts; a registered redirect URI with a changed query
 * in test/integration/authorization-guards.test.ts; discovery against the wrong issuer in
 * test/e2e/relying-party.test.ts.
 */

const LOGIN = { identifier: ZHANG_SAN.idNumber, password: PASSWORD };

let server: TestServer;
let accountId: string;
let configs: Awaited<ReturnType<typeof discoverThree>>;
test.before(async () => {
  ({ server, accountId, configs } = await threeClientProvider());
});
test.after.always(async () => { await server?.close(); });

const userinfoUrl = () => new URL(configs.portal.serverMetadata().userinfo_endpoint!);

test('happy flow with client_secret_basic: ID token verified by the relying party, userinfo by GET', async (t) => {
  const { tokens } = await rpLogin(configs.portal, new HttpBrowser(server.url), LOGIN);
  t.is(tokens.token_type.toLowerCase(), 'bearer');
  const claims = tokens.claims()!;
  t.is(claims.iss, server.url);
  t.is(claims.aud, 'portal');
  t.is(claims.sub, accountId);
  t.truthy(claims.nonce);
  const info = await oidc.fetchUserInfo(configs.portal, tokens.access_token, claims.sub);
  t.is(info.sub, accountId);
});

test('happy flow with client_secret_post; a wrong secret by post is invalid_client', async (t) => {
  const { tokens } = await rpLogin(configs.portal2, new HttpBrowser(server.url), LOGIN);
  t.is(tokens.claims()!.aud, 'portal2');
  const wrong = await oidc.discovery(new URL(server.url), 'portal2', { redirect_uris: ['http://localhost:8081/callback'] }, oidc.ClientSecretPost('x'.repeat(48)), { execute: [oidc.allowInsecureRequests] });
  const error = await rpLogin(wrong, new HttpBrowser(server.url), LOGIN).catch((e: unknown) => e);
  t.is((error as oidc.ResponseBodyError).error, 'invalid_client');
});

test('userinfo by POST with the bearer header answers the same as by GET; a forged token is refused', async (t) => {
  const { tokens } = await rpLogin(configs.portal, new HttpBrowser(server.url), LOGIN);
  const byGet = await oidc.fetchUserInfo(configs.portal, tokens.access_token, accountId);
  const byPost = await oidc.fetchProtectedResource(configs.portal, tokens.access_token, userinfoUrl(), 'POST');
  t.is(byPost.status, 200);
  t.deepEqual(await byPost.json(), byGet);
  const forged = await oidc.fetchProtectedResource(configs.portal, `${tokens.access_token}x`, userinfoUrl(), 'POST').catch((e: unknown) => e);
  t.true(forged instanceof oidc.WWWAuthenticateChallengeError);
  t.is((forged as oidc.WWWAuthenticateChallengeError).status, 401);
  t.is((forged as oidc.WWWAuthenticateChallengeError).cause[0]?.parameters.error, 'invalid_token');
});

test('scopes profile and phone release name and phone (masked, as the portal\'s policy has it); openid alone releases neither', async (t) => {
  const { tokens } = await rpLogin(configs.portal, new HttpBrowser(server.url), LOGIN, { scope: 'openid profile phone' });
  const info = await oidc.fetchUserInfo(configs.portal, tokens.access_token, accountId);
  t.is(info.name, undefined);
  t.is(info.name_masked, '*三');
  t.is(info.phone_number_masked, '138****8000');
  t.is(info.phone_number, undefined);
  t.is(info.phone_number_verified, true);

  const bare = await rpLogin(configs.portal2, new HttpBrowser(server.url), LOGIN, { scope: 'openid' });
  const less = await oidc.fetchUserInfo(configs.portal2, bare.tokens.access_token, accountId);
  t.is(less.name, undefined);
  t.is(less.name_masked, undefined);
  t.is(less.phone_number, undefined);
});

test('nonce is optional in the code flow: without one the ID token has none', async (t) => {
  const { tokens } = await rpLogin(configs.portal, new HttpBrowser(server.url), LOGIN, {}, { nonce: false });
  t.is(tokens.claims()!.nonce, undefined);
  t.is(tokens.claims()!.sub, accountId);
});

test('prompt=login asks again and gives a newer auth_time', async (t) => {
  const browser = new HttpBrowser(server.url);
  const first = await rpLogin(configs.portal, browser, LOGIN);
  await sleep(1100); // auth_time counts whole seconds
  const again = await rpLogin(configs.portal, browser, LOGIN, { prompt: 'login' });
  t.true(again.loginShown);
  t.true(again.tokens.claims()!.auth_time! > first.tokens.claims()!.auth_time!);
});

test('prompt=none: tokens when logged in, login_required to the redirect URI when not', async (t) => {
  const browser = new HttpBrowser(server.url);
  await rpLogin(configs.portal, browser, LOGIN);
  const silent = await rpLogin(configs.portal, browser, undefined, { prompt: 'none' });
  t.false(silent.loginShown);
  t.is(silent.tokens.claims()!.sub, accountId);

  const error = await rpLogin(configs.portal, new HttpBrowser(server.url), undefined, { prompt: 'none' }).catch((e: unknown) => e);
  t.true(error instanceof oidc.AuthorizationResponseError);
  t.is((error as oidc.AuthorizationResponseError).error, 'login_required');
});

test('max_age=1 after a second asks for a new login; the ID token carries auth_time', async (t) => {
  const browser = new HttpBrowser(server.url);
  const first = await rpLogin(configs.portal, browser, LOGIN);
  await sleep(2100);
  const again = await rpLogin(configs.portal, browser, LOGIN, { max_age: '1' });
  t.true(again.loginShown);
  t.is(typeof again.tokens.claims()!.auth_time, 'number');
  t.true(again.tokens.claims()!.auth_time! > first.tokens.claims()!.auth_time!);
});

test('a re-login in the same browser gives the client a new sid; another client of the session keeps its own', async (t) => {
  const browser = new HttpBrowser(server.url);
  const first = await rpLogin(configs.portal, browser, LOGIN);
  const other = await rpLogin(configs.portal2, browser, undefined, { prompt: 'none' });
  const again = await rpLogin(configs.portal, browser, LOGIN, { prompt: 'login' });
  t.true(again.loginShown);
  const sid = (result: typeof first) => result.tokens.claims()!.sid as string;
  t.truthy(sid(first));
  t.not(sid(again), sid(first), 'a new login, a new sid');
  const otherLater = await rpLogin(configs.portal2, browser, undefined, { prompt: 'none' });
  t.is(sid(otherLater), sid(other), 'the other client is still known by the sid it was given');
});

test('unknown authorization parameters are ignored', async (t) => {
  const { tokens } = await rpLogin(configs.portal, new HttpBrowser(server.url), LOGIN, { extra: 'foobar', 'x-unknown': 'true' });
  t.is(tokens.claims()!.sub, accountId);
});

test('on an http issuer (development) POST to the authorization endpoint is 405 with Allow: GET: no redirect, no code', async (t) => {
  // POST needs the SameSite=None; Secure session cookie, so only an https issuer serves it (post-endpoints.test.ts).
  const browser = new HttpBrowser(server.url);
  await rpLogin(configs.portal, browser, LOGIN);
  const { challenge } = pkce();
  const response = await browser.request('/auth', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: 'portal', response_type: 'code', scope: 'openid', redirect_uri: 'http://localhost:8080/callback',
      state: 'posted-state', code_challenge: challenge, code_challenge_method: 'S256',
    }),
  });
  t.is(response.status, 405);
  t.is(response.headers.get('allow'), 'GET, HEAD');
  t.is(response.headers.get('location'), null);
  t.regex(response.headers.get('content-type') ?? '', /html/);
  const page = await response.text();
  t.false(page.includes('posted-state'));
  t.true(page.includes('data-error-code="method_not_allowed"'));
});

test('a refresh token is bound to its client: another client, even authenticated, gets invalid_grant', async (t) => {
  const { tokens } = await rpLogin(configs.app, new HttpBrowser(server.url), LOGIN);
  t.truthy(tokens.refresh_token);
  const stolen = await oidc.refreshTokenGrant(configs.portal, tokens.refresh_token!).catch((e: unknown) => e);
  t.is((stolen as oidc.ResponseBodyError).error, 'invalid_grant');
  const own = await oidc.refreshTokenGrant(configs.app, tokens.refresh_token!);
  t.truthy(own.access_token, 'the owner can still use it: the failed attempt changed nothing');
});

test('request objects are not supported: discovery says so, and a request parameter is refused with request_not_supported', async (t) => {
  const metadata = configs.portal.serverMetadata();
  t.not(metadata.request_parameter_supported, true);
  t.not(metadata.request_uri_parameter_supported, true);

  const request = new UnsecuredJWT({ client_id: 'portal', response_type: 'code', scope: 'openid', redirect_uri: 'http://localhost:8080/callback' })
    .setIssuer('portal').setAudience(server.url).encode();
  const { challenge } = pkce();
  const url = new URL('/auth', server.url);
  url.search = new URLSearchParams({
    client_id: 'portal', response_type: 'code', scope: 'openid', redirect_uri: 'http://localhost:8080/callback', state: 'ro',
    code_challenge: challenge, code_challenge_method: 'S256', request,
  }).toString();
  const answer = await new HttpBrowser(server.url).get(url.href);
  const params = new URL(answer.url).searchParams;
  t.is(params.get('error'), 'request_not_supported');
  t.is(params.get('state'), 'ro');
  t.is(params.get('code'), null);

  // A request_uri other than one pushed to /request (PAR) names a request object too.
  url.searchParams.delete('request');
  url.searchParams.set('request_uri', 'https://rp.example/requests/1.jwt');
  url.searchParams.set('state', 'ru');
  const byReference = new URL((await new HttpBrowser(server.url).get(url.href)).url).searchParams;
  t.is(byReference.get('error'), 'request_uri_not_supported');
  t.is(byReference.get('state'), 'ru');
  t.is(byReference.get('code'), null);
});

// The authorization-request modules of the plan.
/*
 * The Basic OP plan's modules about the authorization request itself, as the conformance
 * suite sends them: parameters the provider must accept (display, login_hint, ui_locales,
 * claims_locales, acr_values, id_token_hint, scopes in any order, essential claims), a
 * missing response_type and an unregistered redirect_uri it must refuse without sending
 * the browser anywhere, and a code that works once only (oidcc-codereuse).
 */

const PORTAL_REDIRECT = 'http://localhost:8080/callback';

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

test('an essential claim in the claims parameter is released by userinfo, to a client whose policy releases it', async (t) => {
  const claims = JSON.stringify({ userinfo: { name: { essential: true } } });
  const { tokens } = await rpLogin(configs.portal2, new HttpBrowser(server.url), LOGIN, { scope: 'openid', claims });
  const info = await oidc.fetchUserInfo(configs.portal2, tokens.access_token, accountId);
  t.is(info.name, ZHANG_SAN.name);
  // The portal's policy withholds the full name: asked for by name, it is not given.
  const portal = await rpLogin(configs.portal, new HttpBrowser(server.url), LOGIN, { scope: 'openid', claims });
  t.is((await oidc.fetchUserInfo(configs.portal, portal.tokens.access_token, accountId)).name, undefined);
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
