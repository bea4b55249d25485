import test from 'ava';
import { decodeJwt } from 'jose';
import type { Page } from 'playwright-core';
import { latestOutboxCode } from '../../src/ports/sms/index.js';
import { openBrowser } from '../helpers/browser.js';
import { pkce } from '../helpers/http-browser.js';
import { exchangeCode, PORTAL } from '../helpers/oidc.js';
import { registerUpToPhoneCode } from '../helpers/register-page.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * A citizen of the registry fixtures registers in a real browser through the pages, with
 * two factors, then signs in to the portal three ways: ID number + password, phone +
 * password, and phone + SMS code. The portal's redirect URI does not exist, so the test
 * catches the navigation to it and redeems the code itself, as the portal would.
 */
const PERSON = { name: '李娜', idNumber: '350102198503150241', phone: '13905910001', bankCard: '6217001830001234569', password: 'Min-Jiang-Bridge-1985' };

let server: TestServer;
test.before(async () => { server = await startServer({ SMS_LIMIT_PER_MINUTE: '10' }); });
test.after.always(async () => { await server?.close(); });

function outbox(): string {
  return server.deps.config.sms.kind === 'outbox' ? server.deps.config.sms.file : '';
}

async function authorizeUrl(state: string, challenge: string): Promise<string> {
  const url = new URL('/auth', server.url);
  url.search = new URLSearchParams({
    client_id: PORTAL.client_id, redirect_uri: PORTAL.redirect_uri, response_type: 'code', scope: 'openid profile phone realname',
    state, code_challenge: challenge, code_challenge_method: 'S256',
  }).toString();
  return url.href;
}

/** Runs `signIn` on the login page and returns the code the portal receives. */
async function loginToPortal(page: Page, signIn: (page: Page) => Promise<void>) {
  const { verifier, challenge } = pkce();
  const state = `s${Date.now()}`;
  let callback: URL | undefined;
  await page.route(`${PORTAL.redirect_uri}**`, async (route) => {
    callback = new URL(route.request().url());
    await route.fulfill({ status: 200, body: 'portal callback' });
  });
  await page.goto(await authorizeUrl(state, challenge));
  await signIn(page);
  await page.waitForURL(`${PORTAL.redirect_uri}**`);
  await page.unroute(`${PORTAL.redirect_uri}**`);
  if (!callback || callback.searchParams.get('state') !== state) throw new Error('no callback with our state');
  return exchangeCode(server.url, PORTAL, callback.searchParams.get('code')!, verifier);
}

test.serial('registration in the browser with two factors, then three ways to sign in to the portal', async (t) => {
  const browser = await openBrowser({ viewport: { width: 390, height: 844 }, isMobile: true });
  try {
    const page = await browser.context.newPage();
    await registerUpToPhoneCode(page, server.url, PERSON);
    await page.getByLabel(/短信验证码/).fill((await latestOutboxCode(outbox(), PERSON.phone, 'register'))!);
    await page.getByRole('button', { name: '验证', exact: true }).click();
    await t.notThrowsAsync(page.locator('[data-phone-verified]').waitFor());

    await page.getByLabel('信息类型').selectOption('bank_card');
    await page.getByLabel('号码', { exact: true }).fill(PERSON.bankCard);
    await page.getByLabel(/银行预留手机号/).fill(PERSON.phone);
    await page.getByRole('button', { name: '核验', exact: true }).click();
    t.is(await page.locator('[data-factors-needed]').getAttribute('data-factors-needed'), '0');

    await page.getByLabel('密码', { exact: true }).fill(PERSON.password);
    await page.getByLabel('再次输入密码').fill(PERSON.password);
    await page.locator('input[name="accept_agreement"]').check();
    await page.getByRole('button', { name: '完成注册' }).click();
    await t.notThrowsAsync(page.locator('[data-registered]').waitFor());

    const byIdNumber = await loginToPortal(page, async (p) => {
      await p.getByLabel('身份证号或手机号').fill(PERSON.idNumber);
      await p.getByLabel('密码').fill(PERSON.password);
      await p.getByRole('button', { name: '登录', exact: true }).click();
    });
    t.is(byIdNumber.status, 200);
    const claims = decodeJwt(byIdNumber.body.id_token!);
    t.deepEqual(claims.amr, ['pwd']);

    // A fresh browser context per sign-in: the SSO session of the first would skip the page.
    await browser.context.clearCookies();
    const byPhone = await loginToPortal(page, async (p) => {
      await p.getByLabel('身份证号或手机号').fill(PERSON.phone);
      await p.getByLabel('密码').fill(PERSON.password);
      await p.getByRole('button', { name: '登录', exact: true }).click();
    });
    t.is(byPhone.status, 200);
    t.is(decodeJwt(byPhone.body.id_token!).sub, claims.sub);

    await browser.context.clearCookies();
    const bySms = await loginToPortal(page, async (p) => {
      await p.getByRole('link', { name: '短信验证码登录' }).click();
      await p.getByLabel('手机号码').fill(PERSON.phone);
      await p.getByRole('button', { name: '获取验证码' }).click();
      await p.getByLabel('短信验证码').fill((await latestOutboxCode(outbox(), PERSON.phone, 'login'))!);
      await p.getByRole('button', { name: '登录', exact: true }).click();
    });
    t.is(bySms.status, 200);
    const smsClaims = decodeJwt(bySms.body.id_token!);
    t.is(smsClaims.sub, claims.sub);
    t.deepEqual(smsClaims.amr, ['sms']);
  } finally {
    await browser.close();
  }
});
