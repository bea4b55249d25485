import test from 'ava';
import { latestOutboxCode } from '../../src/ports/sms/index.js';
import { openBrowser } from '../helpers/browser.js';
import { beginAuthorization, PORTAL } from '../helpers/oidc.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createStaff } from '../helpers/staff.js';
import { consoleSignIn, consoleSignInSteps, fillCredentials } from '../helpers/staff-browser.js';
import type { Page } from 'playwright-core';

/**
 * In a real browser: an admin signs in with password and authenticator code, creates an
 * agent, signs out; the agent signs in with the handed-over credentials, is sent to replace
 * them (a new password, a new authenticator confirmed with a code) before anything else,
 * and registers a citizen at the counter; the citizen's first login with the printed
 * password must change it. Then the admin's handed-over password no longer opens anything.
 */
const PERSON = { name: '郑志强', idNumber: '440305199910010031', phone: '13622220031' };
const OWN_PASSWORD = 'Harbour-Window-2026';

let server: TestServer;
test.before(async () => { server = await startServer(); });
test.after.always(async () => { await server?.close(); });

const signIn = (page: Page, username: string, password: string, secret: string) => consoleSignIn(page, server.url, username, password, secret);

test('admin with TOTP creates an agent, who registers a citizen at the counter; the citizen must change the printed password', async (t) => {
  const admin = await createStaff(server.deps, 'root', ['admin']);
  const browser = await openBrowser();
  try {
    const page = await browser.context.newPage();
    await signIn(page, admin.username, admin.password, admin.totpSecret);

    await page.getByRole('link', { name: '工作人员' }).click();
    await page.getByLabel('用户名').fill('agent.e2e');
    await page.getByLabel('显示名称').fill('窗口一号');
    await page.getByLabel('窗口/客服人员').check();
    await page.getByRole('button', { name: '新增工作人员' }).click();
    const password = await page.locator('[data-initial-password]').textContent();
    const uri = await page.locator('[data-otpauth]').textContent();
    t.truthy(password);
    t.regex(await page.locator('[data-otpauth-qr]').getAttribute('src') ?? '', /^data:image\/png;base64,/, 'the authenticator as a QR code to scan');
    const secret = new URL(uri!).searchParams.get('secret')!;
    await page.goto(`${server.url}/admin`);
    await page.getByRole('button', { name: '退出' }).click();
    await page.waitForURL('**/admin/login');

    // The first sign-in opens one page only: the one where the agent makes the credentials their own.
    await consoleSignInSteps(page, server.url, 'agent.e2e', password!, secret);
    await page.waitForURL('**/admin/credentials');
    t.is(await page.locator('[data-error-code="credentials_change_required"]').count(), 1);
    t.is(await page.locator('img[data-otpauth-qr]').count(), 1, 'the new authenticator comes as a QR code too');
    await page.goto(`${server.url}/admin/counter/register`);
    t.regex(page.url(), /\/admin\/credentials$/, 'no other page before the credentials are the holder\'s');
    const shown = await fillCredentials(page, 'not-the-password', OWN_PASSWORD);
    t.is(await page.locator('[role="alert"]').getAttribute('data-error-code'), 'password_incorrect');
    t.is((await page.locator('[data-new-secret]').textContent())?.trim(), shown, 'the same new secret until it is confirmed');
    const ownSecret = await fillCredentials(page, password!, OWN_PASSWORD);
    await page.waitForURL(/\/admin\?done=credentials_changed$/);
    t.not(ownSecret, secret);
    t.is(await page.locator('[data-notice="admin.done_credentials_changed"]').count(), 1);
    t.is(await page.getByRole('link', { name: '工作人员' }).count(), 0, 'an agent sees no staff administration');
    await page.getByRole('link', { name: '窗口注册' }).click();
    await page.getByLabel('姓名').fill(PERSON.name);
    await page.getByLabel('身份证号码').fill(PERSON.idNumber);
    await page.getByLabel('手机号码').fill(PERSON.phone);
    await page.getByRole('button', { name: '核验并发送验证码' }).click();
    await page.waitForURL(/\/admin\/counter\/register\/[A-Za-z0-9_-]+$/);
    const outbox = server.deps.config.sms.kind === 'outbox' ? server.deps.config.sms.file : '';
    await page.getByLabel('短信验证码').fill((await latestOutboxCode(outbox, PERSON.phone, 'counter'))!);
    await page.getByRole('button', { name: '确认并开户' }).click();
    const initial = await page.locator('[data-initial-password]').textContent();
    t.truthy(initial);
    t.regex(await page.locator('[data-handover]').innerText(), /440305\*{8}0031/);

    const row = await server.deps.accounts.byIdNumber(PERSON.idNumber);
    t.like(row, { assurance_level: 3, registration_channel: 'counter', password_must_change: true });
    const auth = await beginAuthorization(server.url, PORTAL);
    const first = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: PERSON.idNumber, password: initial! });
    t.regex(first.body, /login\/password-change/);

    // Whoever keeps the handed-over password (the admin who created the agent) signs in as nobody.
    await page.goto(`${server.url}/admin`);
    await page.getByRole('button', { name: '退出' }).click();
    await page.waitForURL('**/admin/login');
    await page.getByLabel('用户名').fill('agent.e2e');
    await page.getByLabel('密码').fill(password!);
    await page.getByRole('button', { name: '下一步' }).click();
    t.is(await page.locator('[role="alert"]').getAttribute('data-error-code'), 'login_failed');
  } finally {
    await browser.close();
  }
});
