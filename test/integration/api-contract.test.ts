import test from 'ava';
import { randomBytes, randomUUID } from 'node:crypto';
import { PASSWORD, seedAccount, ZHANG_SAN } from '../helpers/accounts.js';
import { appToken, GENEROUS_SMS, latestCode, makePerson, otherCode, totpCode } from '../helpers/account-centre.js';
import { ApiContract, type Caller } from '../helpers/api-contract.js';
import { CHEN_WEI, days, LI_NA, LIN_JIANHUA, portal, seedEnterprise } from '../helpers/delegation.js';
import { ENTERPRISES } from '../helpers/enterprises.js';
import { HttpBrowser } from '../helpers/http-browser.js';
import { passwordLogin } from '../helpers/oidc.js';
import { appLogin, openQrTab } from '../helpers/qr-login.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createStaff, totpCode as staffTotp } from '../helpers/staff.js';
import { codeOf, MINIPROGRAM, wechatFixtures, wechatGrant } from '../helpers/wechat.js';
import type { StaffCredentials } from '../../src/staff/staff-accounts.js';

/**
 * The published OpenAPI document against the real answers: every operation it describes
 * is called on a running server with real stores, through its success path and, where it
 * is cheap, a refusal; each answer's status must be one the operation documents and its
 * body must conform to the schema documented for it (test/helpers/api-contract.ts). The
 * last test lists every operation no call reached, so a new operation without a call here
 * fails the suite, as does any answer that drifts from the document.
 */

type Person = { idNumber: string; name: string; phone: string };

let server: TestServer;
let contract: ApiContract;
let fixtures: ReturnType<typeof wechatFixtures>;
const anonymous: Caller = (operation, call) => contract.call(operation, call);
const NEW_PASSWORD = 'Lantern-Harbour-73';

test.before(async () => {
  fixtures = wechatFixtures(2);
  server = await startServer({ ...GENEROUS_SMS, WECHAT: 'simulator', WECHAT_FIXTURES: fixtures.file });
  contract = await ApiContract.load(server.url);
});
test.after.always(async () => {
  await server?.close();
  fixtures?.cleanup();
});

const bearer = (token: string): Caller => contract.as({ authorization: `Bearer ${token}` });

/** A seeded account signed in to the app (scope account), with its caller. */
async function citizen(person: Person = makePerson()): Promise<{ person: Person; id: string; api: Caller }> {
  const id = await seedAccount(server.deps, person);
  return { person, id, api: bearer((await appToken(server, person.phone, PASSWORD)).accessToken) };
}

/** An SMS code for one of the account's own operations, as the account API sends it. */
async function ownerCode(api: Caller, phone: string, operation: string): Promise<string> {
  await api('POST /api/v1/account/codes', { body: { operation }, expect: 200 });
  return latestCode(server, phone, 'verify');
}

test.serial('registration: 张三 registers through the API', async (t) => {
  const started = await anonymous('POST /api/v1/registration', { expect: 201 });
  const params = { flowId: started.body.flow_id as string };
  const flow = contract.as({ 'x-flow-token': started.body.flow_token as string });
  await anonymous('GET /api/v1/registration/{flowId}', { params, headers: { 'x-flow-token': 'not-the-token' }, expect: 400 });
  await flow('GET /api/v1/registration/{flowId}', { params, expect: 200 });
  await flow('POST /api/v1/registration/{flowId}/identity', { params, body: { name: ZHANG_SAN.name, id_number: ZHANG_SAN.idNumber }, expect: 200 });
  await flow('POST /api/v1/registration/{flowId}/phone/code', { params, body: { phone: ZHANG_SAN.phone }, expect: 200 });
  await flow('POST /api/v1/registration/{flowId}/phone/verify', { params, body: { code: await latestCode(server, ZHANG_SAN.phone, 'register') }, expect: 200 });
  await flow('POST /api/v1/registration/{flowId}/factors', { params, body: { kind: 'bank_card', number: '6222020200112233445', reserved_phone: ZHANG_SAN.phone }, expect: 200 });
  await flow('POST /api/v1/registration/{flowId}/complete', { params, body: { password: PASSWORD, accept_agreement: false }, expect: 400 });
  const done = await flow('POST /api/v1/registration/{flowId}/complete', { params, body: { password: PASSWORD, accept_agreement: true }, expect: 200 });
  t.is(done.body.state, 'complete');
});

test.serial('recovery: a new password through the API', async (t) => {
  const person = makePerson();
  await seedAccount(server.deps, person);
  const started = await anonymous('POST /api/v1/recovery', { expect: 201 });
  const params = { flowId: started.body.flow_id as string };
  const flow = contract.as({ 'x-flow-token': started.body.flow_token as string });
  await flow('GET /api/v1/recovery/{flowId}', { params, expect: 200 });
  await flow('POST /api/v1/recovery/{flowId}/identity', { params, body: { name: person.name, id_number: person.idNumber }, expect: 200 });
  await flow('POST /api/v1/recovery/{flowId}/code/resend', { params, body: {}, expect: 200 });
  const code = await latestCode(server, person.phone, 'reset');
  await flow('POST /api/v1/recovery/{flowId}/code', { params, body: { code: otherCode(code) }, expect: 400 });
  await flow('POST /api/v1/recovery/{flowId}/code', { params, body: { code }, expect: 200 });
  const done = await flow('POST /api/v1/recovery/{flowId}/password', { params, body: { password: NEW_PASSWORD }, expect: 200 });
  t.is(done.body.state, 'complete');
  await anonymous('POST /api/v1/captchas', { expect: 201 });
});

test.serial('account centre: profile, sessions, password, codes, TOTP, export, sign-out everywhere', async (t) => {
  await anonymous('GET /api/v1/account', { expect: 401 });
  const { person, api } = await citizen();
  const other = await appToken(server, person.phone, PASSWORD);
  t.truthy(other.accessToken);
  await api('GET /api/v1/account', { expect: 200 });
  const sessions = await api('GET /api/v1/account/sessions', { expect: 200 });
  const elsewhere = (sessions.body.sessions as Array<{ handle: string; current: boolean }>).find((s) => !s.current)!;
  await api('DELETE /api/v1/account/sessions/{handle}', { params: { handle: 'no-such-session' }, expect: 404 });
  await api('DELETE /api/v1/account/sessions/{handle}', { params: { handle: elsewhere.handle }, expect: 204 });
  await api('GET /api/v1/account/events', { expect: 200 });
  await api('POST /api/v1/account/password', { body: { current_password: NEW_PASSWORD, new_password: NEW_PASSWORD }, expect: 400 });
  await api('POST /api/v1/account/password', { body: { current_password: PASSWORD, new_password: NEW_PASSWORD }, expect: 200 });
  await api('PATCH /api/v1/account/profile', { body: { address: '福州市鼓楼区', code: await ownerCode(api, person.phone, 'profile') }, expect: 200 });

  const enrolment = await api('POST /api/v1/account/totp', { expect: 201 });
  const secret = enrolment.body.secret as string;
  await api('POST /api/v1/account/totp/confirm', { body: { code: otherCode(await totpCode(secret)) }, expect: 400 });
  await api('POST /api/v1/account/totp/confirm', { body: { code: await totpCode(secret) }, expect: 200 });
  const renewed = await api('POST /api/v1/account/totp/recovery-codes', { body: { code: await totpCode(secret, 1) }, expect: 200 });
  const smsCode = await ownerCode(api, person.phone, 'totp_disable');
  await api('POST /api/v1/account/totp/disable', { body: { recovery_code: renewed.body.recovery_codes[0], sms_code: smsCode }, expect: 200 });
  await api('GET /api/v1/account/export', { expect: 200 });
  await api('DELETE /api/v1/account/sessions', { expect: 204 });
  await api('GET /api/v1/account', { expect: 401 });
});

test.serial('account centre: phone re-binding both ways, deregistration', async (t) => {
  const { person, api } = await citizen();
  const started = await api('POST /api/v1/account/phone-rebinding', { body: { path: 'old_phone' }, expect: 201 });
  const params = { flowId: started.body.flow_id as string };
  await api('GET /api/v1/account/phone-rebinding/{flowId}', { params, expect: 200 });
  await api('POST /api/v1/account/phone-rebinding/{flowId}/new/code', { params, body: { phone: makePerson().phone }, expect: 400 });
  await api('POST /api/v1/account/phone-rebinding/{flowId}/old/code', { params, body: {}, expect: 200 });
  await api('POST /api/v1/account/phone-rebinding/{flowId}/old/verify', { params, body: { code: await latestCode(server, person.phone, 'rebind-old') }, expect: 200 });
  const newPhone = makePerson().phone;
  await api('POST /api/v1/account/phone-rebinding/{flowId}/new/code', { params, body: { phone: newPhone }, expect: 200 });
  const done = await api('POST /api/v1/account/phone-rebinding/{flowId}/new/verify', { params, body: { code: await latestCode(server, newPhone, 'rebind-new') }, expect: 200 });
  t.is(done.body.state, 'complete');

  const chen = await citizen(CHEN_WEI);
  const lost = await chen.api('POST /api/v1/account/phone-rebinding', { body: { path: 'identity' }, expect: 201 });
  const lostParams = { flowId: lost.body.flow_id as string };
  await chen.api('POST /api/v1/account/phone-rebinding/{flowId}/identity', { params: lostParams, body: { name: CHEN_WEI.name, id_number: CHEN_WEI.idNumber }, expect: 200 });
  await chen.api('POST /api/v1/account/phone-rebinding/{flowId}/factors', { params: lostParams, body: { kind: 'social_security_card', number: 'D06512348' }, expect: 200 });

  const leaving = await citizen();
  await leaving.api('POST /api/v1/account/deregister', { body: { code: '000000' }, expect: 400 });
  await leaving.api('POST /api/v1/account/deregister', { body: { code: await ownerCode(leaving.api, leaving.person.phone, 'deregister') }, expect: 204 });
});

test.serial('WeChat bindings of the mini-program', async (t) => {
  const person = makePerson();
  await seedAccount(server.deps, person);
  const unbound = await wechatGrant(server, codeOf('p0'));
  t.is(unbound.body.error, 'wechat_unbound');
  const login = await passwordLogin(server.url, MINIPROGRAM, person.phone, PASSWORD, { scope: 'openid profile account' });
  const api = bearer(login.tokens.body.access_token!);
  const bound = await api('POST /api/v1/account/wechat', { body: { binding_ticket: unbound.body.binding_ticket }, expect: 201 });
  await api('POST /api/v1/account/wechat', { body: { binding_ticket: unbound.body.binding_ticket }, expect: 400 });
  await api('GET /api/v1/account/wechat', { expect: 200 });
  await api('DELETE /api/v1/account/wechat/{id}', { params: { id: randomUUID() }, expect: 404 });
  // Unbinding signs the account out of the mini-program: its token ends here.
  await api('DELETE /api/v1/account/wechat/{id}', { params: { id: bound.body.id }, expect: 204 });
});

test.serial('PC login by QR code, the app\'s side', async (t) => {
  const person = makePerson();
  await seedAccount(server.deps, person);
  const app = bearer(await appLogin(server.url, person.phone, PASSWORD));
  const page = await openQrTab(server.url);
  await app('POST /api/v1/qr-login/decision', { body: { qr: page.payload, decision: 'confirm' }, expect: 409 });
  await app('POST /api/v1/qr-login/scan', { body: { qr: page.payload }, expect: 200 });
  const decided = await app('POST /api/v1/qr-login/decision', { body: { qr: page.payload, decision: 'confirm' }, expect: 200 });
  t.is(decided.body.status, 'confirmed');
  await app('POST /api/v1/qr-login/decision', { body: { qr: page.payload, decision: 'deny' }, expect: 409 });
});

test.serial('enterprises and delegation', async (t) => {
  const zhang = bearer((await appToken(server, ZHANG_SAN.phone, PASSWORD)).accessToken);
  const [liNa, lin] = [await citizen(LI_NA), await citizen(LIN_JIANHUA)];
  const chen = bearer((await appToken(server, CHEN_WEI.phone, PASSWORD)).accessToken);

  const started = await zhang('POST /api/v1/enterprises', { body: ENTERPRISES.fuzhouTech, expect: 201 });
  const application = { applicationId: started.body.application.id as string };
  await zhang('GET /api/v1/enterprises/applications/{applicationId}', { params: application, expect: 200 });
  await zhang('POST /api/v1/enterprises/applications/{applicationId}/code', { params: application, body: {}, expect: 200 });
  const code = await latestCode(server, ZHANG_SAN.phone, 'enterprise');
  await zhang('POST /api/v1/enterprises/applications/{applicationId}/confirm', { params: application, body: { code: otherCode(code) }, expect: 400 });
  const confirmed = await zhang('POST /api/v1/enterprises/applications/{applicationId}/confirm', { params: application, body: { code }, expect: 200 });
  const enterprise = { enterpriseId: confirmed.body.enterprise_id as string };
  await zhang('GET /api/v1/enterprises', { expect: 200 });
  await zhang('GET /api/v1/enterprises/{enterpriseId}', { params: enterprise, expect: 200 });
  await liNa.api('GET /api/v1/enterprises/{enterpriseId}', { params: enterprise, expect: 403 });
  const passwordCode = await ownerCode(zhang, ZHANG_SAN.phone, 'enterprise_password');
  await zhang('POST /api/v1/enterprises/{enterpriseId}/password', { params: enterprise, body: { password: 'Harbour-Lantern-2026!', code: passwordCode }, expect: 204 });

  const onBehalf = await liNa.api('POST /api/v1/enterprises', { body: { ...ENTERPRISES.association, on_behalf: true }, expect: 201 });
  await lin.api('POST /api/v1/enterprises/applications/{applicationId}/approve', { params: { applicationId: onBehalf.body.application.id }, expect: 200 });
  const asked = await zhang('POST /api/v1/enterprises', { body: { ...ENTERPRISES.fishBallShop, on_behalf: true }, expect: 201 });
  await liNa.api('POST /api/v1/enterprises/applications/{applicationId}/reject', { params: { applicationId: asked.body.application.id }, expect: 200 });
  const again = await lin.api('POST /api/v1/enterprises', { body: { ...ENTERPRISES.fishBallShop, on_behalf: true }, expect: 201 });
  await lin.api('POST /api/v1/enterprises/applications/{applicationId}/withdraw', { params: { applicationId: again.body.application.id }, expect: 200 });

  const grant = await zhang('POST /api/v1/delegations', {
    body: { enterprise_id: enterprise.enterpriseId, grantee: { id_number: LI_NA.idNumber, name: LI_NA.name }, scope: portal('tax.declare'), valid_until: days(30), may_redelegate: true },
    expect: 201,
  });
  const granted = { grantId: grant.body.id as string };
  await zhang('GET /api/v1/delegations', { expect: 200 });
  await zhang('GET /api/v1/delegations/enterprises/{enterpriseId}', { params: enterprise, expect: 200 });
  await zhang('GET /api/v1/delegations/{grantId}', { params: granted, expect: 200 });
  await zhang('PATCH /api/v1/delegations/{grantId}', { params: granted, body: { version: 1, valid_until: days(20) }, expect: 200 });
  await zhang('PATCH /api/v1/delegations/{grantId}', { params: granted, body: { version: 1, valid_until: days(10) }, expect: 409 });
  const request = { uscc: ENTERPRISES.fuzhouTech.uscc, scope: portal('tax.declare'), valid_until: days(10), reason: '代办纳税申报' };
  const fromChen = await chen('POST /api/v1/delegations/requests', { body: request, expect: 201 });
  const fromLin = await lin.api('POST /api/v1/delegations/requests', { body: request, expect: 201 });
  await zhang('GET /api/v1/delegations/requests', { expect: 200 });
  await zhang('POST /api/v1/delegations/requests/{requestId}/approve', { params: { requestId: fromChen.body.id }, body: {}, expect: 201 });
  await zhang('POST /api/v1/delegations/requests/{requestId}/reject', { params: { requestId: fromLin.body.id }, expect: 204 });
  await zhang('POST /api/v1/delegations/requests/{requestId}/reject', { params: { requestId: fromLin.body.id }, expect: 409 });
  const cancelled = await zhang('POST /api/v1/delegations/{grantId}/cancel', { params: granted, body: {}, expect: 200 });
  t.deepEqual(cancelled.body.revoked, [granted.grantId]);
});

/** Signs a staff member in through the JSON API; their caller keeps the cookie and sends the CSRF token. */
async function staffApi(who: StaffCredentials): Promise<Caller> {
  const browser = new HttpBrowser(server.url);
  const send = browser.request.bind(browser);
  await contract.call('POST /api/v1/admin/login', { body: { username: who.username, password: who.password }, expect: 200 }, send);
  await contract.call('POST /api/v1/admin/login/totp', { body: { code: await staffTotp(who.totpSecret) }, expect: 200 }, send);
  const session = await contract.call('GET /api/v1/admin/session', { expect: 200 }, send);
  return contract.as({ 'x-csrf-token': session.body.csrf_token as string }, send);
}

test.serial('staff console: citizens, counter, approvals, staff, audit, enterprises, clients', async (t) => {
  await anonymous('POST /api/v1/admin/login', { body: { username: 'nobody.here', password: 'wrong' }, expect: 401 });
  const [agent, supervisor, auditor, admin, secondAdmin] = await Promise.all([
    createStaff(server.deps, 'contract.agent', ['agent']), createStaff(server.deps, 'contract.head', ['supervisor']),
    createStaff(server.deps, 'contract.audit', ['auditor']), createStaff(server.deps, 'contract.admin', ['admin']), createStaff(server.deps, 'contract.admin2', ['admin']),
  ]);
  const desk = await staffApi(agent);
  await desk('GET /api/v1/admin/staff', { expect: 403 });
  await desk('POST /api/v1/admin/citizens/{id}/ban', { params: { id: 'x' }, body: { reason: 'abuse' }, headers: { 'x-csrf-token': 'forged' }, expect: 403 });

  const person = makePerson();
  const id = await seedAccount(server.deps, person);
  const citizen = { id };
  await desk('GET /api/v1/admin/citizens', { query: { q: person.phone }, expect: 200 });
  await desk('GET /api/v1/admin/citizens/{id}', { params: citizen, expect: 200 });
  await desk('POST /api/v1/admin/citizens/{id}/password-reset', { params: citizen, body: { name: '别人', id_number: person.idNumber }, expect: 400 });
  await desk('POST /api/v1/admin/citizens/{id}/password-reset', { params: citizen, body: { name: person.name, id_number: person.idNumber }, expect: 200 });
  const newPhone = makePerson().phone;
  const change = await desk('POST /api/v1/admin/citizens/{id}/phone-changes', { params: citizen, body: { name: person.name, id_number: person.idNumber, phone: newPhone }, expect: 201 });
  await desk('POST /api/v1/admin/citizens/{id}/phone-changes/{flowId}/confirm', { params: { ...citizen, flowId: change.body.flow_id }, body: { code: await latestCode(server, newPhone, 'counter') }, expect: 200 });
  await desk('POST /api/v1/admin/citizens/{id}/ban', { params: citizen, body: { reason: 'abuse' }, expect: 200 });
  const unban = await desk('POST /api/v1/admin/citizens/{id}/unban-requests', { params: citizen, body: { reason: '本人到窗口确认' }, expect: 201 });

  const applicant = { name: '黄丽', id_number: '310104200002290866', phone: makePerson().phone };
  const counter = await desk('POST /api/v1/admin/counter/registrations', { body: applicant, expect: 201 });
  await desk('POST /api/v1/admin/counter/registrations/{flowId}/confirm', { params: { flowId: counter.body.flow_id }, body: { code: await latestCode(server, applicant.phone, 'counter') }, expect: 200 });

  const rep = makePerson();
  const seeded = await seedEnterprise(server, { accountId: await seedAccount(server.deps, rep), idNumber: rep.idNumber });
  const enterprise = { id: seeded.id };
  await desk('GET /api/v1/admin/enterprises', { query: { q: seeded.uscc }, expect: 200 });
  await desk('GET /api/v1/admin/enterprises/{id}', { params: enterprise, expect: 200 });
  await desk('POST /api/v1/admin/enterprises/{id}/restore-requests', { params: enterprise, body: { reason: '误操作' }, expect: 409 });
  await desk('POST /api/v1/admin/enterprises/{id}/deregister', { params: enterprise, body: { reason: '营业执照已注销' }, expect: 200 });
  const restore = await desk('POST /api/v1/admin/enterprises/{id}/restore-requests', { params: enterprise, body: { reason: '注销有误，企业到窗口申请恢复' }, expect: 201 });

  await seedAccount(server.deps, { idNumber: '440305199910010031', name: '郑志强', phone: makePerson().phone });
  const delegate = makePerson('李代办');
  const byAttorney = await desk('POST /api/v1/admin/counter/enterprises', {
    body: {
      uscc: '1235000048812345XE', name: '福建省公共数据开发服务中心', mode: 'power_of_attorney', representative_name: '郑志强', representative_id_number: '440305199910010031',
      power_of_attorney_number: 'WT-2026-0001', power_of_attorney_scan: randomBytes(64).toString('base64'), delegate_name: delegate.name, delegate_id_number: delegate.idNumber,
    },
    expect: 201,
  });
  await desk('POST /api/v1/admin/counter/enterprises/{flowId}/confirm', { params: { flowId: byAttorney.body.flow_id }, body: { code: await latestCode(server, '13600591234', 'enterprise') }, expect: 200 });

  const head = await staffApi(supervisor);
  await head('GET /api/v1/admin/approvals', { query: { status: 'pending' }, expect: 200 });
  await desk('POST /api/v1/admin/approvals/{approvalId}/approve', { params: { approvalId: unban.body.id }, body: {}, expect: 403 });
  await head('POST /api/v1/admin/approvals/{approvalId}/approve', { params: { approvalId: unban.body.id }, body: { note: '同意' }, expect: 200 });
  await head('POST /api/v1/admin/approvals/{approvalId}/approve', { params: { approvalId: restore.body.id }, body: {}, expect: 200 });

  const root = await staffApi(admin);
  await root('GET /api/v1/admin/staff', { expect: 200 });
  const created = await root('POST /api/v1/admin/staff', { body: { username: 'contract.new', display_name: '新同事', roles: ['agent'] }, expect: 201 });
  await root('POST /api/v1/admin/staff', { body: { username: 'contract.new', roles: ['agent'] }, expect: 409 });
  await root('POST /api/v1/admin/staff', { body: { username: 'contract.mixed', roles: ['agent', 'auditor'] }, expect: 409 });

  // The new member's first sign-in: nothing but replacing what was handed over.
  const handed = { username: 'contract.new', password: created.body.password as string, totpSecret: new URL(created.body.otpauth_uri as string).searchParams.get('secret')!, id: created.body.id as string };
  const fresh = await staffApi(handed as StaffCredentials);
  await fresh('GET /api/v1/admin/approvals', { expect: 403 });
  await fresh('GET /api/v1/admin/credentials', { expect: 200 });
  const enrolment = await fresh('POST /api/v1/admin/credentials/authenticator', { expect: 201 });
  await fresh('POST /api/v1/admin/credentials', { body: { current_password: 'not-the-password', new_password: NEW_PASSWORD, code: '000000' }, expect: 400 });
  await fresh('POST /api/v1/admin/credentials', { body: { current_password: handed.password, new_password: NEW_PASSWORD, code: await staffTotp(enrolment.body.secret as string, -1) }, expect: 200 });
  await fresh('GET /api/v1/admin/approvals', { expect: 200 });

  const member = { staffId: handed.id };
  const checker = await staffApi(secondAdmin);
  await root('POST /api/v1/admin/staff/{staffId}/roles/{role}/withdraw', { params: { ...member, role: 'agent' }, body: { reason: '转任系统管理' }, expect: 200 });
  await root('POST /api/v1/admin/staff/{staffId}/roles/{role}/withdraw', { params: { ...member, role: 'agent' }, body: { reason: '转任系统管理' }, expect: 409 });
  const promotion = await root('POST /api/v1/admin/staff/{staffId}/admin-requests', { params: member, body: { reason: '值班管理员' }, expect: 201 });
  await checker('POST /api/v1/admin/approvals/{approvalId}/reject', { params: { approvalId: promotion.body.id }, body: { note: '暂不需要' }, expect: 200 });
  await root('POST /api/v1/admin/staff/{staffId}/roles', { params: member, body: { role: 'auditor', reason: '改任审计' }, expect: 200 });
  await root('POST /api/v1/admin/staff/{staffId}/roles', { params: member, body: { role: 'agent', reason: '兼任窗口' }, expect: 409 });
  await root('POST /api/v1/admin/staff/{staffId}/disable', { params: member, body: { reason: '离岗' }, expect: 200 });
  await root('POST /api/v1/admin/staff/{staffId}/disable', { params: { staffId: admin.id }, body: { reason: '自己' }, expect: 403 });
  const enable = await root('POST /api/v1/admin/staff/{staffId}/enable-requests', { params: member, body: { reason: '返岗' }, expect: 201 });
  await checker('POST /api/v1/admin/approvals/{approvalId}/approve', { params: { approvalId: enable.body.id }, body: {}, expect: 200 });
  await root('POST /api/v1/admin/staff/{staffId}/authenticator-reset', { params: member, body: { reason: '手机遗失' }, expect: 200 });
  await root('POST /api/v1/admin/staff/{staffId}/unlock', { params: member, body: { reason: '未锁定' }, expect: 409 });
  // Wrong passwords (the wrong current password above counted too) until the member is locked.
  for (let i = 0; i < 5 && (await anonymous('POST /api/v1/admin/login', { body: { username: handed.username, password: 'wrong-password' } })).status === 401; i += 1);
  await anonymous('POST /api/v1/admin/login', { body: { username: handed.username, password: NEW_PASSWORD }, expect: 423 });
  await root('POST /api/v1/admin/staff/{staffId}/unlock', { params: member, body: { reason: '本人到场' }, expect: 200 });

  await root('GET /api/v1/admin/clients', { expect: 200 });
  const client = { clientId: 'contract-web' };
  await root('POST /api/v1/admin/clients', { body: { client_id: client.clientId, client_name: '合同测试门户', kind: 'web', redirect_uris: ['https://rp.gov.example/callback'] }, expect: 201 });
  await root('GET /api/v1/admin/clients/{clientId}', { params: client, expect: 200 });
  await root('GET /api/v1/admin/clients/{clientId}', { params: { clientId: 'no-such-client' }, expect: 404 });
  await root('POST /api/v1/admin/clients/{clientId}/metadata', { params: client, body: { client_name: '合同测试门户（新）' }, expect: 200 });
  await root('POST /api/v1/admin/clients/{clientId}/secret', { params: client, expect: 200 });
  await root('POST /api/v1/admin/clients/{clientId}/policy', { params: client, body: { entity_types: ['natural'], min_assurance_level: 2 }, expect: 200 });

  const audit = await staffApi(auditor);
  await audit('GET /api/v1/admin/audit', { query: { action: 'account.' }, expect: 200 });
  await audit('GET /api/v1/admin/audit', { query: { from: 'yesterday' }, expect: 400 });
  const csv = await audit('GET /api/v1/admin/audit/export', { query: { action: 'account.' }, expect: 200 });
  t.regex(csv.body as string, /account\./);
  await audit('POST /api/v1/admin/logout', { expect: 204 });
  await audit('GET /api/v1/admin/session', { expect: 401 });
});

test.serial('an error\'s message is in the language the caller asks for; both languages always', async (t) => {
  const asked = (language?: string) => anonymous('GET /api/v1/account', { headers: language ? { 'accept-language': language } : {}, expect: 401 });
  for (const [language, expected] of [[undefined, 'zh-CN'], ['en', 'en'], ['en-GB,en;q=0.9', 'en'], ['zh-CN,zh;q=0.9,en;q=0.8', 'zh-CN'], ['zh-TW', 'zh-CN'], ['fr-FR, en;q=0.5', 'en'], ['fr', 'zh-CN'], ['zh;q=0.4, en;q=0.8', 'en']] as const) {
    const answer = await asked(language);
    t.is(answer.headers.get('content-language'), expected, String(language));
    t.is(answer.body.message, expected === 'en' ? answer.body.message_en : answer.body.message_zh, String(language));
    t.not(answer.body.message_zh, answer.body.message_en);
  }
  const switched = await anonymous('GET /api/v1/account', { query: { lang: 'en' }, headers: { 'accept-language': 'zh-CN' }, expect: 401 });
  t.is(switched.body.message, switched.body.message_en, 'an explicit ?lang= is the reader\'s own choice');
});

test.serial('every operation that needs credentials refuses a call without them, as documented', async (t) => {
  const guarded = Object.entries(contract.document.paths).flatMap(([path, methods]) => Object.entries(methods)
    .filter(([, operation]) => (operation as { security?: unknown[] }).security)
    .map(([method]) => `${method.toUpperCase()} ${path}`));
  t.true(guarded.length > 60);
  for (const operation of guarded) {
    const params = Object.fromEntries([...operation.matchAll(/\{(\w+)\}/g)].map((match) => [match[1]!, 'x']));
    const body = operation.startsWith('GET') || operation.startsWith('DELETE') ? undefined : {};
    const answer = await anonymous(operation, { params, body });
    t.is(answer.status, 401, operation);
  }
});

test.serial('every operation of the document was exercised, and every answer matched it', (t) => {
  t.deepEqual(contract.unexercised(), [], 'operations no call reached with success');
  t.deepEqual(contract.problems, [], 'answers that differ from the document');
  t.log(`${contract.operations().length} operations; without a refusal exercised: ${contract.withoutRefusal().length}`);
});
