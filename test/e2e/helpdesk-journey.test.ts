import { runCli as runCliWith } from '../helpers/process.js';
import test from 'ava';
import { sql } from 'kysely';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import type { Page } from 'playwright-core';
import { latestOutboxCode, readOutbox } from '../../src/ports/sms/index.js';
import { PASSWORD, seedAccount } from '../helpers/accounts.js';
import { openBrowser, type TestBrowser } from '../helpers/browser.js';
import { sharedStoresEnv } from '../helpers/env.js';
import { pkce } from '../helpers/http-browser.js';
import { exchangeCode, PORTAL } from '../helpers/oidc.js';
import { LOCAL_RELYING_PARTIES, LogoutReceiver, writeClientsFile } from '../helpers/relying-party.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { ownPassword, totpCode } from '../helpers/staff.js';
import { fillCredentials } from '../helpers/staff-browser.js';

/**
 * The helpdesk's day, in real browsers: the first admin comes from the CLI and signs in
 * with an authenticator code; staff are created in the console; an agent registers a
 * citizen at the counter, resets a password, bans and asks for an unban, which only a
 * supervisor can approve; the auditor reads it all; the audit chain verifies until a
 * superuser edits a row; and an access policy change refuses a level-2 citizen.
 * The portal is a real relying party: its back-channel logout endpoint records tokens.
 */
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** A person of the registry fixtures, registered at the counter. */
const PERSON = { name: '郑志强', idNumber: '440305199910010031', phone: '13622220031' };
/** A citizen who registered online (assurance level 2). */
const ONLINE = { name: '张三', idNumber: '11010519491231002X', phone: '13800138000' };

const stores = sharedStoresEnv();
let receiver: LogoutReceiver;
let server: TestServer;
let clientsFile: string;
let staffBrowser: TestBrowser;
let citizenBrowser: TestBrowser;
let staffPage: Page;
let citizenPage: Page;

/** What the journey learns on the way and later steps rely on. */
const journey: {
  admin?: { username: string; password: string; secret: string };
  staff: Record<'agent' | 'supervisor' | 'auditor', { username: string; password: string; secret: string }>;
  accountId?: string;
  password?: string;
  portal?: { refresh: string; sid: string };
} = { staff: {} as never };

test.before(async () => {
  receiver = await LogoutReceiver.start();
  clientsFile = writeClientsFile([{
    client_id: PORTAL.client_id,
    client_name: '省政务服务网',
    client_secret: PORTAL.secret,
    application_type: 'web',
    redirect_uris: [PORTAL.redirect_uri],
    post_logout_redirect_uris: ['http://localhost:8080/'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    backchannel_logout_uri: receiver.uri('/portal'),
    backchannel_logout_session_required: true,
    access_policy: { entity_types: ['natural', 'legal'], min_assurance_level: 2 },
  }]);
  server = await startServer({ ...LOCAL_RELYING_PARTIES, CLIENTS_FILE: clientsFile }, { stores });
  staffBrowser = await openBrowser();
  citizenBrowser = await openBrowser({ viewport: { width: 390, height: 844 }, isMobile: true });
  staffPage = await staffBrowser.context.newPage();
  citizenPage = await citizenBrowser.context.newPage();
});
test.after.always(async () => {
  await staffBrowser?.close();
  await citizenBrowser?.close();
  await server?.close();
  await stores.cleanup();
  await receiver?.close();
});

function outbox(): string {
  const sms = server.deps.config.sms;
  if (sms.kind !== 'outbox') throw new Error('the journey needs the SMS outbox');
  return sms.file;
}

/** The real operator CLI on the server's own stores. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCliWith(args, { ...stores.env, ...LOCAL_RELYING_PARTIES, CLIENTS_FILE: clientsFile, ISSUER: server.url });
}

async function staffSignIn(who: { username: string; password: string; secret: string }) {
  await staffPage.goto(`${server.url}/admin/login`);
  await staffPage.getByLabel('用户名').fill(who.username);
  await staffPage.getByLabel('密码').fill(who.password);
  await staffPage.getByRole('button', { name: '下一步' }).click();
  await staffPage.waitForURL('**/admin/login/totp');
  await staffPage.getByLabel('动态口令').fill(await totpCode(who.secret));
  await staffPage.getByRole('button', { name: '登录' }).click();
  await staffPage.waitForURL(/\/admin(\/credentials)?$/);
  if (staffPage.url().endsWith('/admin/credentials')) {
    // The first sign-in of a member the admin created: they make the credentials their own, and keep using those.
    const password = ownPassword();
    who.secret = await fillCredentials(staffPage, who.password, password);
    who.password = password;
    await staffPage.waitForURL(/\/admin\?done=credentials_changed$/);
  }
}

async function staffSignOut() {
  await staffPage.goto(`${server.url}/admin`);
  await staffPage.getByRole('button', { name: '退出' }).click();
  await staffPage.waitForURL('**/admin/login');
}

/** The agent finds the counter citizen (acts need this session's search) and opens the account page. */
async function openCitizen() {
  await staffPage.goto(`${server.url}/admin/citizens`);
  await staffPage.getByLabel(/身份证号码或手机号码/).fill(PERSON.idNumber);
  await staffPage.getByRole('button', { name: '查询' }).click();
  await staffPage.locator(`[data-account="${journey.accountId}"] a`).click();
  await staffPage.waitForURL(`**/admin/citizens/${journey.accountId}`);
}

/**
 * An authorization request of the portal in the citizen's browser, for a refresh token
 * (offline_access with consent). `signIn` drives the pages until the consent page; the
 * portal's redirect URI is caught and the code redeemed as the portal would.
 */
async function portalLogin(signIn: (page: Page) => Promise<void>) {
  const { verifier, challenge } = pkce();
  const state = `s${Date.now()}`;
  let callback: URL | undefined;
  await citizenPage.route(`${PORTAL.redirect_uri}**`, async (route) => {
    callback = new URL(route.request().url());
    await route.fulfill({ status: 200, body: 'portal callback' });
  });
  try {
    const url = new URL('/auth', server.url);
    url.search = new URLSearchParams({
      client_id: PORTAL.client_id, redirect_uri: PORTAL.redirect_uri, response_type: 'code', scope: 'openid offline_access profile',
      prompt: 'consent', state, code_challenge: challenge, code_challenge_method: 'S256',
    }).toString();
    await citizenPage.goto(url.href);
    await signIn(citizenPage);
    await citizenPage.getByRole('button', { name: '同意' }).click();
    await citizenPage.waitForURL(`${PORTAL.redirect_uri}**`);
  } finally {
    await citizenPage.unroute(`${PORTAL.redirect_uri}**`);
  }
  if (callback?.searchParams.get('state') !== state) throw new Error('no callback with our state');
  const tokens = await exchangeCode(server.url, PORTAL, callback.searchParams.get('code')!, verifier);
  if (tokens.status !== 200) throw new Error(`token endpoint: ${JSON.stringify(tokens.body)}`);
  return { refresh: tokens.body.refresh_token!, sid: decodeJwt(tokens.body.id_token!).sid as string };
}

async function passwordForm(page: Page, identifier: string, password: string) {
  await page.getByLabel('身份证号或手机号').fill(identifier);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录', exact: true }).click();
}

async function changePassword(page: Page, password: string) {
  await page.waitForURL(/\/interaction\/[A-Za-z0-9_-]+/);
  await page.getByLabel('新密码', { exact: true }).fill(password);
  await page.getByLabel('再次输入新密码').fill(password);
  await page.getByRole('button', { name: '保存并继续' }).click();
}

async function refreshAtPortal(token: string) {
  const response = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${PORTAL.client_id}:${PORTAL.secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
  });
  return { status: response.status, body: await response.json() as Record<string, string> };
}

async function notices(phone: string): Promise<string[]> {
  return (await readOutbox(outbox())).filter((m) => m.to === phone && m.purpose === 'notice').map((m) => m.text);
}

/** Creates a staff member on the admin's staff page and reads the handover (password and authenticator secret). */
async function createStaffMember(username: string, displayName: string, role: string) {
  await staffPage.goto(`${server.url}/admin/staff`);
  await staffPage.getByLabel('用户名').fill(username);
  await staffPage.getByLabel('显示名称').fill(displayName);
  await staffPage.getByLabel(role).check();
  await staffPage.getByRole('button', { name: '新增工作人员' }).click();
  const password = await staffPage.locator('[data-initial-password]').textContent();
  const uri = await staffPage.locator('[data-otpauth]').textContent();
  return { username, password: password!.trim(), secret: new URL(uri!.trim()).searchParams.get('secret')! };
}

test.serial('the first admin comes from the CLI, signs in with an authenticator code and creates an agent, a supervisor and an auditor', async (t) => {
  const run = await runCli(['staff:create', '--username', 'root', '--role', 'admin']);
  t.is(run.code, 0, run.stderr);
  const password = /initial password \(shown once\): (\S+)/.exec(run.stdout)?.[1];
  const uri = /otpauth:\/\/totp\/\S+/.exec(run.stdout)?.[0];
  t.truthy(password);
  t.truthy(uri);
  journey.admin = { username: 'root', password: password!, secret: new URL(uri!).searchParams.get('secret')! };

  // The password alone does not open the console.
  await staffPage.goto(`${server.url}/admin/login`);
  await staffPage.getByLabel('用户名').fill('root');
  await staffPage.getByLabel('密码').fill(password!);
  await staffPage.getByRole('button', { name: '下一步' }).click();
  await staffPage.waitForURL('**/admin/login/totp');
  await staffPage.goto(`${server.url}/admin`);
  t.regex(staffPage.url(), /\/admin\/login$/);

  await staffSignIn(journey.admin);
  journey.staff.agent = await createStaffMember('agent.hall', '大厅一号窗口', '窗口/客服人员');
  journey.staff.supervisor = await createStaffMember('head.hall', '大厅负责人', '部门负责人');
  journey.staff.auditor = await createStaffMember('audit.hall', '审计员甲', '审计员');
  await staffPage.goto(`${server.url}/admin/staff`);
  for (const username of ['agent.hall', 'head.hall', 'audit.hall']) {
    t.is(await staffPage.locator(`[data-staff="${username}"]`).count(), 1, `${username} is listed`);
  }
  for (const [username, role] of [['root', 'admin'], ['agent.hall', 'agent'], ['head.hall', 'supervisor'], ['audit.hall', 'auditor']] as const) {
    const row = await server.deps.staff.accounts.byUsername(username);
    t.deepEqual(await server.deps.staff.accounts.roles(row!.id), [role], `${username} holds only the role given`);
  }
  await staffSignOut();
});

test.serial('the agent registers a citizen at the counter; the citizen signs in with the printed password and must change it', async (t) => {
  await staffSignIn(journey.staff.agent);
  await staffPage.getByRole('link', { name: '窗口注册' }).click();
  await staffPage.getByLabel('姓名').fill(PERSON.name);
  await staffPage.getByLabel('身份证号码').fill(PERSON.idNumber);
  await staffPage.getByLabel('手机号码').fill(PERSON.phone);
  await staffPage.getByRole('button', { name: '核验并发送验证码' }).click();
  await staffPage.waitForURL(/\/admin\/counter\/register\/[A-Za-z0-9_-]+$/);
  const code = await latestOutboxCode(outbox(), PERSON.phone, 'counter');
  t.truthy(code, 'the applicant\'s phone got a code');
  await staffPage.getByLabel('短信验证码').fill(code!);
  await staffPage.getByRole('button', { name: '确认并开户' }).click();
  const initial = (await staffPage.locator('[data-initial-password]').textContent())!.trim();
  t.regex(await staffPage.locator('[data-handover]').innerText(), /440305\*{8}0031/);
  const row = await server.deps.accounts.byIdNumber(PERSON.idNumber);
  t.like(row, { assurance_level: 3, registration_channel: 'counter', password_must_change: true, status: 'active' });
  journey.accountId = row!.id;

  journey.password = 'Pearl-River-Delta-1999';
  journey.portal = await portalLogin(async (page) => {
    await passwordForm(page, PERSON.idNumber, initial);
    await t.notThrowsAsync(page.getByRole('heading', { name: '修改初始密码' }).waitFor(), 'the printed password must be changed first');
    await changePassword(page, journey.password!);
  });
  t.truthy(journey.portal.refresh);
  t.false((await server.deps.accounts.row(journey.accountId))!.password_must_change);
});

test.serial('a counter password reset ends the citizen\'s SSO session and refresh token, and the portal is told', async (t) => {
  const before = receiver.to('/portal').length;
  t.is((await refreshAtPortal(journey.portal!.refresh)).status, 200, 'the refresh token works before the reset');
  await openCitizen();
  await staffPage.locator('#reset_name').fill(PERSON.name);
  await staffPage.locator('#reset_id').fill(PERSON.idNumber);
  // An act that cannot be undone asks for its box to be ticked first.
  await staffPage.getByRole('button', { name: '重置密码' }).click();
  t.is(await staffPage.locator('[data-initial-password]').count(), 0, 'the browser does not submit without the confirmation');
  await staffPage.locator('form[action$="/reset"] input[name="confirm"]').check();
  await staffPage.getByRole('button', { name: '重置密码' }).click();
  const reset = (await staffPage.locator('[data-initial-password]').textContent())!.trim();
  t.truthy(reset);

  t.is((await refreshAtPortal(journey.portal!.refresh)).body.error, 'invalid_grant', 'the old refresh token is dead');
  const [delivery] = (await receiver.waitFor('/portal', before + 1)).slice(before);
  t.is(decodeJwt(delivery!.logoutToken).sid, journey.portal!.sid, 'the portal hears that the old session ended');
  t.true((await notices(PERSON.phone)).some((text) => text.includes('重置')), 'SMS notice of the reset');

  // The old SSO session is gone: the portal gets the login page again, and the new password must be changed.
  journey.password = 'Shenzhen-Bay-Bridge-2007';
  journey.portal = await portalLogin(async (page) => {
    await t.notThrowsAsync(page.getByLabel('身份证号或手机号').waitFor(), 'the login page is shown: no SSO session survived');
    await passwordForm(page, PERSON.idNumber, reset);
    await changePassword(page, journey.password!);
  });
});

test.serial('a ban kills the portal\'s refresh token, sends it a valid logout token, refuses the next login and notifies by SMS', async (t) => {
  const before = receiver.to('/portal').length;
  await openCitizen();
  await staffPage.getByLabel('禁用原因').selectOption('account_compromised');
  await staffPage.getByLabel('说明').fill('本人来电称手机丢失');
  await staffPage.locator('form[action$="/ban"] input[name="confirm"]').check();
  await staffPage.getByRole('button', { name: '禁用', exact: true }).click();
  await staffPage.waitForURL(/done=banned/);
  t.is(await staffPage.locator('[data-status]').getAttribute('data-status'), 'banned');

  t.is((await refreshAtPortal(journey.portal!.refresh)).body.error, 'invalid_grant');
  const [delivery] = (await receiver.waitFor('/portal', before + 1)).slice(before);
  t.is(delivery!.contentType, 'application/x-www-form-urlencoded');
  const { payload, protectedHeader } = await jwtVerify(delivery!.logoutToken, createRemoteJWKSet(new URL(`${server.url}/jwks`)), {
    issuer: server.url, audience: PORTAL.client_id, typ: 'logout+jwt', requiredClaims: ['iat', 'jti', 'events', 'sub', 'sid'],
  });
  t.truthy(protectedHeader.kid);
  t.is(payload.iss, server.url);
  t.is(payload.aud, PORTAL.client_id);
  t.deepEqual(payload.events, { [EVENT]: {} });
  t.is(payload.sub, journey.accountId);
  t.is(payload.sid, journey.portal!.sid);
  t.false('nonce' in payload, 'a logout token has no nonce');

  // The citizen's next login is refused with whom to contact.
  const url = new URL('/auth', server.url);
  url.search = new URLSearchParams({ client_id: PORTAL.client_id, redirect_uri: PORTAL.redirect_uri, response_type: 'code', scope: 'openid', state: 'banned', ...{ code_challenge: pkce().challenge, code_challenge_method: 'S256' } }).toString();
  await citizenPage.goto(url.href);
  await passwordForm(citizenPage, PERSON.idNumber, journey.password!);
  const refusal = citizenPage.locator('[data-error-code="account_banned"]');
  t.regex(await refusal.innerText(), /12345/);
  t.true((await notices(PERSON.phone)).some((text) => text.includes('停用')), 'SMS notice of the ban');
});

test.serial('the agent asks for an unban but cannot approve it; the supervisor approves; the citizen is told by SMS', async (t) => {
  await openCitizen();
  await staffPage.getByLabel('理由').fill('本人持身份证到厅，已换新手机并核实身份');
  await staffPage.getByRole('button', { name: '提交申请' }).click();
  await staffPage.waitForURL(/done=unban_requested/);
  const approval = await server.deps.database.db.selectFrom('approvals').select(['id', 'status']).where('target_id', '=', journey.accountId!).executeTakeFirstOrThrow();
  t.is(approval.status, 'pending');

  await staffPage.getByRole('link', { name: '审批' }).click();
  t.is(await staffPage.locator(`[data-approval="${approval.id}"]`).count(), 1, 'the agent sees the request');
  t.is(await staffPage.getByRole('button', { name: '批准' }).count(), 0, 'but has no approve button');
  // Nor can the agent approve through the API with a valid session and CSRF token.
  const session = await (await staffPage.request.get(`${server.url}/api/v1/admin/session`)).json() as { csrf_token: string };
  const forced = await staffPage.request.post(`${server.url}/api/v1/admin/approvals/${approval.id}/approve`, { headers: { 'x-csrf-token': session.csrf_token }, data: {} });
  t.is(forced.status(), 403);
  t.is((await forced.json() as { error: string }).error, 'forbidden');
  t.is((await server.deps.accounts.row(journey.accountId!))!.status, 'banned', 'nothing changed');
  await staffSignOut();

  await staffSignIn(journey.staff.supervisor);
  await staffPage.getByRole('link', { name: '审批' }).click();
  const item = staffPage.locator(`[data-approval="${approval.id}"]`).first();
  // The supervisor decides knowing what: whose account (masked), who asked, and the ban it would lift.
  t.regex(await item.locator('[data-approval-subject]').innerText(), /\*.*（\d{6}\*{8}\d{3}[\dX]）/);
  t.is((await item.locator('[data-approval-requester]').innerText()).trim(), journey.staff.agent.username);
  t.regex(await item.locator('[data-approval-grounds]').innerText(), /禁用账号.*账号存在被盗用风险/);
  // The subject's page opens for the one who decides, without a search of their own.
  await item.locator('[data-approval-subject] a').click();
  t.regex(staffPage.url(), new RegExp(`/admin/citizens/${journey.accountId}$`));
  await staffPage.getByRole('link', { name: '审批' }).click();
  await item.getByLabel('审批意见').fill('已核实，同意解禁');
  await item.getByRole('button', { name: '批准' }).click();
  await staffPage.waitForURL(/done=approved/);
  t.is((await server.deps.accounts.row(journey.accountId!))!.status, 'active');
  const texts = await notices(PERSON.phone);
  t.true(texts.some((text) => text.includes('停用')), 'the ban notice is in the outbox');
  t.true(texts.some((text) => text.includes('恢复正常使用')), 'the unban notice is in the outbox');
  await staffSignOut();

  // The citizen is back in.
  const again = await portalLogin((page) => passwordForm(page, PERSON.idNumber, journey.password!));
  t.truthy(again.refresh);
});

test.serial('a policy change to minimum assurance level 3 ends the next login of a level-2 citizen on the refusal page', async (t) => {
  await seedAccount(server.deps, ONLINE);
  await citizenBrowser.context.clearCookies();
  const allowed = await portalLogin((page) => passwordForm(page, ONLINE.idNumber, PASSWORD));
  t.truthy(allowed.refresh, 'level 2 is enough before the change');

  await server.deps.clientPolicies.update(PORTAL.client_id, { entity_types: ['natural', 'legal'], min_assurance_level: 3 }, { kind: 'staff', id: (await server.deps.staff.accounts.byUsername('root'))!.id });
  await citizenBrowser.context.clearCookies();
  const url = new URL('/auth', server.url);
  url.search = new URLSearchParams({ client_id: PORTAL.client_id, redirect_uri: PORTAL.redirect_uri, response_type: 'code', scope: 'openid', state: 'policy', code_challenge: pkce().challenge, code_challenge_method: 'S256' }).toString();
  await citizenPage.goto(url.href);
  await passwordForm(citizenPage, ONLINE.idNumber, PASSWORD);
  await t.notThrowsAsync(citizenPage.getByRole('heading', { name: '无法使用此服务' }).waitFor());
  t.is(await citizenPage.locator('[data-error-code="policy_assurance_level"]').count(), 1);
  t.false(citizenPage.url().startsWith(PORTAL.redirect_uri), 'no code went to the portal');

  // The level-3 counter citizen still gets in.
  await citizenBrowser.context.clearCookies();
  t.truthy((await portalLogin((page) => passwordForm(page, PERSON.idNumber, journey.password!))).refresh);
});

test.serial('the auditor sees all of it; audit:verify passes, and after a superuser edits a row it names that record', async (t) => {
  await staffSignIn(journey.staff.auditor);
  t.is(await staffPage.getByRole('link', { name: '查询账号' }).count(), 0, 'an auditor does not search accounts');
  await staffPage.getByRole('link', { name: '审计日志' }).click();
  await staffPage.getByLabel('对象').fill(journey.accountId!);
  await staffPage.getByRole('button', { name: '查询' }).click();
  const actions = await staffPage.locator('tr[data-action]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
  for (const action of ['account.register', 'account.password_reset', 'account.ban', 'session.revoke_all', 'approval.request', 'approval.approve', 'account.unban']) {
    t.true(actions.includes(action), `${action} is in the viewer`);
  }
  const refused = staffPage.locator('tr[data-action="approval.approve"]').filter({ hasText: '拒绝' });
  t.true(await refused.count() >= 1, 'the agent\'s attempt to approve is there too, as denied');

  await staffPage.getByLabel('对象').fill('');
  await staffPage.getByLabel('事件类型').fill('staff.create');
  await staffPage.getByRole('button', { name: '查询' }).click();
  t.is(await staffPage.locator('tr[data-action="staff.create"]').count(), 4, 'the CLI admin and the three staff the admin created');
  await staffPage.getByLabel('事件类型').fill('client.policy_change');
  await staffPage.getByRole('button', { name: '查询' }).click();
  t.is(await staffPage.locator('tr[data-action="client.policy_change"]').count(), 1);
  const csv = await (await staffPage.request.get(`${server.url}/admin/audit/export?target_id=${journey.accountId}`)).text();
  const agentId = (await server.deps.staff.accounts.byUsername(journey.staff.agent.username))!.id;
  const banLine = csv.split('\n').find((line) => line.includes(',account.ban,') && line.includes(',success,'));
  t.truthy(banLine, 'the export has the ban');
  t.true(banLine!.includes(agentId), 'with the agent who did it');
  t.regex(banLine!, /127\.0\.0\.1/, 'from where');
  t.regex(banLine!, /Chrome/, 'and with which browser');
  await staffSignOut();

  const intact = await runCli(['audit:verify']);
  t.is(intact.code, 0, intact.stderr);
  t.regex(intact.stdout, /audit log intact/);

  const ban = await server.deps.database.db.selectFrom('audit_log').select('seq').where('action', '=', 'account.ban').where('result', '=', 'success').executeTakeFirstOrThrow();
  await t.throwsAsync(sql`update audit_log set result = 'failure' where seq = ${ban.seq}`.execute(server.deps.database.db), undefined, 'the trigger refuses an update');
  await server.deps.database.db.transaction().execute(async (trx) => {
    await sql`alter table audit_log disable trigger audit_log_no_update`.execute(trx);
    await sql`update audit_log set details = jsonb_set(details, '{note}', '"nothing happened"') where seq = ${ban.seq}`.execute(trx);
    await sql`alter table audit_log enable trigger audit_log_no_update`.execute(trx);
  });
  const broken = await runCli(['audit:verify']);
  t.is(broken.code, 1);
  t.regex(broken.stderr, new RegExp(`broken at record ${ban.seq} \\(record altered\\)`));
});
