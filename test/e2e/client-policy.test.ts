import test from 'ava';
import { PASSWORD, ZHANG_SAN, seedAccount } from '../helpers/accounts.js';
import { openBrowser } from '../helpers/browser.js';
import { pkce } from '../helpers/http-browser.js';
import { PORTAL } from '../helpers/oidc.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createStaff } from '../helpers/staff.js';
import { consoleSignIn } from '../helpers/staff-browser.js';

/**
 * In a real browser: an admin raises the portal's minimum assurance level to 3 in the
 * console, and the next login of a level-2 citizen at the portal ends on the refusal
 * page, with no code sent to the portal.
 */
let server: TestServer;
test.before(async () => { server = await startServer(); });
test.after.always(async () => { await server?.close(); });

test('an admin sets minimum level 3 on the portal; the next level-2 login ends on the clear refusal page', async (t) => {
  const admin = await createStaff(server.deps, 'root.clients', ['admin']);
  await seedAccount(server.deps, ZHANG_SAN);
  const browser = await openBrowser();
  try {
    const page = await browser.context.newPage();
    await consoleSignIn(page, server.url, admin.username, admin.password, admin.totpSecret);
    await page.getByRole('link', { name: '接入应用' }).click();
    await page.getByRole('link', { name: 'portal', exact: true }).click();
    await page.getByLabel('最低身份认证等级').selectOption('3');
    await page.getByRole('button', { name: '保存访问策略' }).click();
    await page.waitForURL(/done=client_policy_changed/);
    t.regex(await page.locator('[data-policy-summary]').innerText(), /等级 ≥ 3/);

    const codes: string[] = [];
    const citizen = await browser.context.newPage();
    citizen.on('request', (request) => { if (request.url().startsWith(PORTAL.redirect_uri)) codes.push(request.url()); });
    const { challenge } = pkce();
    const url = new URL('/auth', server.url);
    for (const [key, value] of Object.entries({ client_id: PORTAL.client_id, redirect_uri: PORTAL.redirect_uri, response_type: 'code', scope: 'openid', state: 'e2e', code_challenge: challenge, code_challenge_method: 'S256' })) {
      url.searchParams.set(key, value);
    }
    await citizen.goto(url.href);
    await citizen.getByRole('link', { name: '密码登录' }).click();
    await citizen.getByLabel('身份证号或手机号', { exact: true }).fill(ZHANG_SAN.idNumber);
    await citizen.getByLabel('密码', { exact: true }).fill(PASSWORD);
    await citizen.getByRole('button', { name: '登录', exact: true }).click();
    await citizen.getByRole('heading', { name: '无法使用此服务' }).waitFor();
    t.regex(await citizen.locator('body').innerText(), /需到服务大厅现场核验/);
    t.deepEqual(codes, [], 'the portal received nothing');
  } finally {
    await browser.close();
  }
});
