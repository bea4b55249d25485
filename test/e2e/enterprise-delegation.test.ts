import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import test from 'ava';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { ZHANG_SAN } from '../helpers/accounts.js';
import { CHEN_WEI, LIN_JIANHUA, LI_NA, PASSWORD, citizen, days, delegationApi, portal, seedEnterprise } from '../helpers/delegation.js';
import { HttpBrowser, hidden } from '../helpers/http-browser.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * The enterprise journey seen from a relying party (openid-client): three levels of
 * delegation over the JSON API, the delegate choosing the enterprise at login, the
 * enterprise in the ID token, userinfo and the JWT access token for an API, and the
 * representative's cancellation ending the delegate's refresh token at once.
 */
const CLIENTS_FILE = resolve('test/fixtures/clients.json');
const fixture = JSON.parse(readFileSync(CLIENTS_FILE, 'utf8')) as Array<{ client_id: string; client_secret?: string; redirect_uris: string[] }>;
const PORTAL = fixture.find((entry) => entry.client_id === 'portal')!;
const REDIRECT = 'http://localhost:8080/callback';
const API = 'https://api.gov.example/';
const insecure = { execute: [oidc.allowInsecureRequests] };

let server: TestServer;
test.before(async () => { server = await startServer({ CLIENTS_FILE }); });
test.after.always(async () => { await server?.close(); });

test('a delegate acts for the enterprise at the portal, and loses it the moment the representative cancels above them', async (t) => {
  const a = await citizen(server, ZHANG_SAN);
  const b = await citizen(server, LI_NA);
  const c = await citizen(server, CHEN_WEI);
  const d = await citizen(server, LIN_JIANHUA);
  const enterprise = await seedEnterprise(server, a, { name: '福州示例科技有限公司' });
  const toB = await delegationApi(server, a.token, 'POST', '', { enterprise_id: enterprise.id, grantee: { id_number: b.idNumber, name: b.name }, scope: portal('tax.declare', 'social.insurance'), valid_until: days(30), may_redelegate: true });
  const toC = await delegationApi(server, b.token, 'POST', '', { enterprise_id: enterprise.id, grantee: { phone: c.phone }, scope: portal('tax.declare'), valid_until: days(29), may_redelegate: true });
  const toD = await delegationApi(server, c.token, 'POST', '', { enterprise_id: enterprise.id, grantee: { phone: d.phone }, scope: portal('tax.declare'), valid_until: days(28), may_redelegate: true });
  t.deepEqual([toB.status, toC.status, toD.status], [201, 201, 201]);
  const fourth = await delegationApi(server, d.token, 'POST', '', { enterprise_id: enterprise.id, grantee: { phone: a.phone }, scope: portal('tax.declare'), valid_until: days(5) });
  t.is(fourth.body.error, 'delegation_level_exceeded');

  // The portal, as a relying party, sends C to sign in.
  const config = await oidc.discovery(new URL(server.url), 'portal', undefined, oidc.ClientSecretBasic(PORTAL.client_secret!), insecure);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid profile offline_access services.read', prompt: 'consent', resource: API,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state,
  });
  const browser = new HttpBrowser(server.url);
  const login = await browser.get(url.href);
  const uid = /\/interaction\/([A-Za-z0-9_-]+)/.exec(login.url)![1]!;
  const choice = await browser.post(`/interaction/${uid}/login/password`, { csrf: hidden(login.body, 'csrf'), identifier: c.idNumber, password: PASSWORD });
  t.true(choice.body.includes('福州示例科技有限公司'));
  t.true(choice.body.includes('有效期至'));
  const option = /data-enterprise-option="([^"]+)"/.exec(choice.body)![1]!;
  const chosen = await browser.post(new URL(choice.url).pathname, { csrf: hidden(choice.body, 'csrf'), choice: option });
  const consent = await browser.post(new URL(chosen.url).pathname.replace(/\/?$/, '/confirm'), { csrf: hidden(chosen.body, 'csrf') });
  t.true(consent.url.startsWith(REDIRECT), consent.url);

  const tokens = await oidc.authorizationCodeGrant(config, new URL(consent.url), { pkceCodeVerifier: verifier, expectedState: state }, { resource: API });
  const claims = tokens.claims()!;
  t.is(claims.sub, c.accountId);
  t.is(claims.entity_type, 'legal');
  t.deepEqual(claims.org, { uscc: enterprise.uscc, name: '福州示例科技有限公司', type: 'company' });
  t.like(claims.authority as object, { role: 'delegate', level: 2, service_items: ['tax.declare'] });

  const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
  const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: server.url, audience: API, typ: 'at+jwt' });
  t.is(payload.sub, c.accountId);
  t.is(payload.entity_type, 'legal');
  t.like(payload.authority as object, { role: 'delegate', level: 2, service_items: ['tax.declare'] });

  // A's cancellation of B's grant takes C's (and D's) with it; C's refresh token is dead at once.
  t.is((await delegationApi(server, a.token, 'POST', `/${toB.body.id}/cancel`, {})).status, 200);
  const refused = await t.throwsAsync(oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource: API }));
  t.is((refused as oidc.ResponseBodyError).error, 'invalid_grant');
  t.false((await oidc.tokenIntrospection(config, tokens.refresh_token!)).active);
});
