import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import test from 'ava';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { PASSWORD, seedAccount } from '../helpers/accounts.js';
import { GENEROUS_SMS, latestCode, makePerson } from '../helpers/account-centre.js';
import { openBrowser, type TestBrowser } from '../helpers/browser.js';
import { ENTERPRISES, PERSONS } from '../helpers/enterprises.js';
import { pkce } from '../helpers/http-browser.js';
import { APP, exchangeCode } from '../helpers/oidc.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * The enterprise journey of the "done when", in a real browser for everything the
 * citizens do and with openid-client as the portal:
 *
 * 张三, the legal representative of 福州示例科技有限公司 in the business registry,
 * registers it in the account centre with the code sent to his phone; grants 李娜 (B)
 * level 1 with re-delegation for two of the portal's service items for 30 days; B grants
 * 陈伟 (C) level 2 for one item; C grants 林建华 (D) level 3; D's level 4 (to a fifth person) is
 * refused on the page. C signs in to the portal, chooses the enterprise, and the portal's ID token
 * and userinfo show it; the app (outside the grant) is not offered it; 张三 cancels B's
 * grant and C's refresh token is dead at once.
 */
const CLIENTS_FILE = resolve('test/fixtures/clients.json');
const fixture = JSON.parse(readFileSync(CLIENTS_FILE, 'utf8')) as Array<{ client_id: string; client_secret?: string; redirect_uris: string[] }>;
const PORTAL_SECRET = fixture.find((entry) => entry.client_id === 'portal')!.client_secret!;
const PORTAL_CALLBACK = 'http://localhost:8080/callback';
const APP_CALLBACK = 'https://app.gov.example/oauth2/callback';
const insecure = { execute: [oidc.allowInsecureRequests] };
const { zhangSan: A, liNa: B, chenWei: C, linJianhua: D } = PERSONS;
const E = makePerson('赵五');
const TECH = ENTERPRISES.fuzhouTech;

let server: TestServer;
let browser: TestBrowser;
let cAccountId: string;
test.before(async () => {
  server = await startServer({ CLIENTS_FILE, ...GENEROUS_SMS });
  for (const person of [A, B, D, E]) await seedAccount(server.deps, person);
  cAccountId = await seedAccount(server.deps, C);
  browser = await openBrowser();
});
test.after.always(async () => {
  await browser?.close();
  await server?.close();
});

/** yyyy-mm-dd, n days from now, as a date field takes it. */
const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

/** The login page, filled in as a person would (the SSO cookies of anyone before are gone). */
async function signIn(page: Page, identifier: string) {
  await page.getByRole('link', { name: '密码登录' }).click();
  await page.getByLabel('身份证号或手机号').fill(identifier);
  await page.getByLabel('密码').fill(PASSWORD);
  await page.getByRole('button', { name: '登录', exact: true }).click();
}

/** A fresh sign-in to the account centre, landing on `path`. */
async function accountCentre(identifier: string, path: string): Promise<Page> {
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/account`);
  await signIn(page, identifier);
  await page.waitForURL(`${server.url}/account**`);
  await page.goto(`${server.url}${path}`);
  return page;
}

/** The grant form of /account/delegations: grantee by phone or by ID number and name, portal items, until, re-delegation. */
async function grantOnPage(page: Page, grantee: { phone: string } | { idNumber: string; name: string }, items: string[], until: string, redelegate: boolean, outcome: 'granted' | 'refused' = 'granted') {
  if ('phone' in grantee) {
    await page.getByLabel('或：被授权人手机号码').fill(grantee.phone);
  } else {
    await page.getByLabel('被授权人姓名').fill(grantee.name);
    await page.getByLabel('被授权人身份证号码').fill(grantee.idNumber);
  }
  for (const item of items) await page.locator(`[id="grant-portal-${item}"]`).check();
  await page.locator('#valid_until').fill(until);
  if (redelegate) await page.locator('#may_redelegate').check();
  await page.getByRole('button', { name: '授权', exact: true }).click();
  // Granted: back on the overview with a notice; refused: the form again, with the error.
  if (outcome === 'granted') await page.waitForURL(/done=granted/);
  else await page.locator('[data-error-code]').waitFor();
}

/** Starts an authorization in the browser and returns the redirect the client receives, caught before it leaves. */
async function authorizeInBrowser(page: Page, url: string, callback: string, steps: (page: Page) => Promise<void>): Promise<URL> {
  let landed: URL | undefined;
  await page.route(`${callback}**`, async (route) => {
    landed = new URL(route.request().url());
    await route.fulfill({ status: 200, contentType: 'text/plain', body: 'callback' });
  });
  await page.goto(url);
  await steps(page);
  await page.waitForURL(`${callback}**`);
  await page.unroute(`${callback}**`);
  if (!landed) throw new Error('the client got no redirect');
  return landed;
}

test.serial('register, delegate three levels, act for the enterprise at the portal, cancel: in the browser', async (t) => {
  // 1. The representative registers the enterprise through the account-centre pages.
  const a = await accountCentre(A.phone, '/account/enterprises');
  await a.getByLabel('统一社会信用代码').fill(TECH.uscc);
  await a.getByLabel('企业名称').fill(TECH.name);
  await a.getByRole('button', { name: '提交', exact: true }).click();
  await a.waitForURL(/\/account\/enterprises\/applications\/[0-9a-f-]+/);
  await a.getByLabel('法定代表人手机收到的验证码').fill(await latestCode(server, A.phone, 'enterprise'));
  await a.getByRole('button', { name: '确认注册' }).click();
  await a.waitForURL(/\/account\/enterprises\/[0-9a-f-]+\?done=registered$/);
  const enterpriseId = /\/account\/enterprises\/([0-9a-f-]+)/.exec(a.url())![1]!;
  t.true((await a.content()).includes(TECH.uscc));
  const row = await server.deps.database.db.selectFrom('enterprises').select(['uscc', 'name']).where('id', '=', enterpriseId).executeTakeFirstOrThrow();
  t.deepEqual(row, { uscc: TECH.uscc, name: TECH.name });

  // 2. Level 1 to B, by ID number and name: two portal items, 30 days, may re-delegate.
  await a.goto(`${server.url}/account/delegations`);
  await grantOnPage(a, B, ['tax.declare', 'social.insurance'], day(30), true);
  t.regex(a.url(), /done=granted/);
  const toB = await a.locator('[data-level="1"][data-status="active"]').getAttribute('data-grant');
  t.truthy(toB);
  await a.close();

  // 3. B grants level 2 to C for one item; 4. C grants level 3 to D.
  const b = await accountCentre(B.phone, '/account/delegations');
  t.true((await b.content()).includes(TECH.name), 'B acts for the enterprise as a delegate');
  await grantOnPage(b, { phone: C.phone }, ['tax.declare'], day(20), true);
  t.regex(b.url(), /done=granted/);
  await b.close();
  const c = await accountCentre(C.phone, '/account/delegations');
  await grantOnPage(c, { phone: D.phone }, ['tax.declare'], day(10), true);
  t.regex(c.url(), /done=granted/);
  t.is(await c.locator('[data-level="3"][data-status="active"]').count(), 1);
  await c.close();

  // 5. D's level 4 is refused, with a message on the page, and nothing is granted.
  const d = await accountCentre(D.phone, '/account/delegations');
  await grantOnPage(d, { phone: E.phone }, ['tax.declare'], day(5), false, 'refused');
  const refusal = d.locator('[data-error-code]');
  t.is(await refusal.getAttribute('data-error-code'), 'delegation_level_exceeded');
  t.regex(await refusal.innerText(), /授权最多三级/);
  await d.close();
  const levels = await server.deps.database.db.selectFrom('delegation_grants').select('level').where('enterprise_id', '=', enterpriseId).orderBy('level').execute();
  t.deepEqual(levels.map((g) => g.level), [1, 2, 3]);

  // 6. C signs in to the portal (openid-client) in the browser and chooses the enterprise.
  await browser.context.clearCookies();
  const config = await oidc.discovery(new URL(server.url), 'portal', undefined, oidc.ClientSecretBasic(PORTAL_SECRET), insecure);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: PORTAL_CALLBACK, scope: 'openid profile offline_access', prompt: 'consent', state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const portalPage = await browser.context.newPage();
  const callback = await authorizeInBrowser(portalPage, authorizationUrl.href, PORTAL_CALLBACK, async (page) => {
    await signIn(page, C.idNumber);
    await page.waitForURL(/\/interaction\/[^/]+\/identity$/);
    const offered = page.locator('[data-enterprise-option]');
    t.is(await offered.count(), 1);
    t.regex(await offered.innerText(), /福州示例科技有限公司/);
    t.regex(await offered.innerText(), /第2级授权/);
    t.false((await page.content()).includes(TECH.uscc), 'the credit code is shown masked');
    await page.getByLabel(/福州示例科技有限公司/).check();
    await page.getByRole('button', { name: '继续' }).click();
    await page.getByRole('button', { name: '同意' }).click();
  });
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
  const claims = tokens.claims()!;
  t.is(claims.sub, cAccountId, 'sub is still the person');
  t.is(claims.entity_type, 'legal');
  t.deepEqual(claims.org, { uscc: TECH.uscc, name: TECH.name, type: 'company' });
  t.like(claims.authority as object, { role: 'delegate', level: 2, service_items: ['tax.declare'] });
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  t.is(userinfo.entity_type, 'legal');
  t.deepEqual(userinfo.org, claims.org);
  t.deepEqual(userinfo.authority, claims.authority);

  // 7. The app is outside C's grant: in the same browser (C's session), no identity choice.
  const { verifier: appVerifier, challenge } = pkce();
  const appUrl = new URL('/auth', server.url);
  appUrl.search = new URLSearchParams({
    client_id: APP.client_id, redirect_uri: APP_CALLBACK, response_type: 'code', scope: 'openid', state: 'app-state', code_challenge: challenge, code_challenge_method: 'S256',
  }).toString();
  const appCallback = await authorizeInBrowser(portalPage, appUrl.href, APP_CALLBACK, async (page) => {
    await page.waitForURL((url) => url.href.startsWith(APP_CALLBACK) || /\/interaction\/[^/]+$/.test(url.pathname));
    if (!page.url().startsWith(APP_CALLBACK)) {
      t.is(await page.locator('[data-enterprise-option]').count(), 0, 'the app is never offered the enterprise');
      await page.getByRole('button', { name: '同意' }).click();
    }
  });
  const appTokens = await exchangeCode(server.url, { client_id: APP.client_id, redirect_uri: APP_CALLBACK }, appCallback.searchParams.get('code')!, appVerifier);
  t.is(appTokens.status, 200, JSON.stringify(appTokens.body));
  const appClaims = JSON.parse(Buffer.from(appTokens.body.id_token!.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  t.is(appClaims.sub, claims.sub);
  t.is(appClaims.org, undefined);
  t.not(appClaims.entity_type, 'legal');
  await portalPage.close();

  // Before the cancellation the portal's refresh token works.
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  const refreshToken = refreshed.refresh_token ?? tokens.refresh_token!;

  // 8. The representative cancels B's grant in the browser; C's refresh token stops at once.
  const again = await accountCentre(A.phone, `/account/delegations/${toB}`);
  await again.getByRole('button', { name: '取消授权' }).click();
  await again.waitForURL(/done=cancelled/);
  await again.goto(`${server.url}/account/delegations/${toB}`);
  t.is(await again.locator('dl[data-grant]').getAttribute('data-status'), 'revoked');
  await again.close();

  const refused = await t.throwsAsync(oidc.refreshTokenGrant(config, refreshToken));
  t.is((refused as oidc.ResponseBodyError).error, 'invalid_grant');
  t.false((await oidc.tokenIntrospection(config, refreshToken)).active);
  await t.throwsAsync(oidc.fetchUserInfo(config, refreshed.access_token, claims.sub));
});
