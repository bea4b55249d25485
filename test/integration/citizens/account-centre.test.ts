import test from 'ava';
import { OWNER_RELEASE } from '../../../src/identity/release.js';
import { latestOutboxCode } from '../../../src/ports/sms/index.js';
import { PASSWORD, ZHANG_SAN, seedAccount } from '../../helpers/accounts.js';
import {
  accountLogin, appToken, latestCode, makePerson, noticesTo, otherCode, outboxFile, postForm, refresh, silentAuthorization, startAccountServer, totpCode,
} from '../../helpers/account-centre.js';
import { HttpBrowser, errorCode, hidden } from '../../helpers/http-browser.js';
import type { TestServer } from '../../helpers/server.js';

/** Persons of config/fixtures/registries.example.json, for the steps that ask the registries. */
const CHEN_WEI = { idNumber: '350203199207210138', name: '陈伟', phone: '15859201234', secondPhone: '18650001122' };
const LIN_JIANHUA = { idNumber: '350105197806200159', name: '林建华', phone: '13959112345' };
const NEW_PASSWORD = 'Another-Strong-Pass-42';

let server: TestServer;
test.before(async () => {
  server = await startAccountServer();
});
test.after.always(async () => { await server?.close(); });

async function seeded(person = makePerson()) {
  return { person, id: await seedAccount(server.deps, person) };
}

async function auditActions(accountId: string): Promise<string[]> {
  const events = await server.deps.securityEvents.recent(accountId, 50);
  return events.map((e) => `${e.action}:${e.result}`);
}

test.serial('signed out, /account goes through our own /auth to the login page; signed in, it shows the profile masked and is never cached', async (t) => {
  const { person, id } = await seeded(makePerson('张三'));
  const anonymous = new HttpBrowser(server.url);
  const first = await anonymous.request('/account/sessions');
  t.is(first.status, 302);
  t.is(first.headers.get('location'), '/account/login?return_to=%2Faccount%2Fsessions');
  const login = await anonymous.request(first.headers.get('location')!);
  const authorize = new URL(login.headers.get('location')!, server.url);
  t.is(authorize.pathname, '/auth');
  t.is(authorize.searchParams.get('client_id'), 'account-centre');
  t.is(authorize.searchParams.get('redirect_uri'), `${server.url}/account/callback`);
  t.is(authorize.searchParams.get('code_challenge_method'), 'S256');
  t.truthy(login.headers.getSetCookie().some((c) => c.startsWith('civic_account_login=') && /httponly/i.test(c)));

  const { browser, body, url } = await accountLogin(server, person.idNumber, PASSWORD);
  t.is(new URL(url).pathname, '/account');
  t.regex(body, /data-field="name">\*三</);
  t.true(body.includes(`data-field="id_number">${person.idNumber.slice(0, 6)}********${person.idNumber.slice(-4)}<`));
  t.true(body.includes(`data-field="phone">${person.phone.slice(0, 3)}****${person.phone.slice(-4)}<`));
  t.regex(body, /data-field="assurance_level">2 级</);
  t.regex(body, /data-factor="phone"/);
  t.false(body.includes(person.idNumber), 'the full ID number is never on the page');
  t.false(body.includes(person.phone), 'nor the full phone');
  const page = await browser.request('/account');
  t.is(page.headers.get('cache-control'), 'no-store');
  t.true((await auditActions(id)).includes('login:success'));

  const english = await browser.get('/account?lang=en');
  t.regex(english.body, /Account centre/);
  t.regex(english.body, /Citizen ID number/);
});

test.serial('the callback refuses a state it did not issue', async (t) => {
  const browser = new HttpBrowser(server.url);
  await browser.request('/account/login');
  const forged = await browser.get('/account/callback?code=x&state=not-the-state');
  t.is(forged.response.status, 400);
  t.is(errorCode(forged.body), 'login_state_invalid');
  const none = await new HttpBrowser(server.url).get('/account/callback?code=x&state=abc');
  t.is(errorCode(none.body), 'login_state_invalid');
});

test.serial('posts without the CSRF token are refused with 403 and change nothing', async (t) => {
  const { person, id } = await seeded();
  const { browser, body } = await accountLogin(server, person.idNumber, PASSWORD);
  const other = await accountLogin(server, person.idNumber, PASSWORD);
  const forms: Array<[string, Record<string, string>]> = [
    ['/account/password', { current_password: PASSWORD, new_password: NEW_PASSWORD, confirm: NEW_PASSWORD }],
    ['/account/sessions/end-all', {}],
    ['/account/profile', { address: '福州市鼓楼区', code: '123456' }],
    ['/account/totp/start', {}],
    ['/account/phone', { path: 'old_phone' }],
    ['/account/export', {}],
    ['/account/deregister', { code: '123456', confirm: 'yes' }],
  ];
  for (const [action, fields] of forms) {
    const missing = await browser.post(action, fields);
    t.is(missing.response.status, 403, action);
    t.is(errorCode(missing.body), 'csrf', action);
    // A token from another session of the same account is no better.
    const foreign = await browser.post(action, { ...fields, csrf: hidden(other.body, 'csrf') });
    t.is(foreign.response.status, 403, action);
  }
  t.truthy(hidden(body, 'csrf'));
  t.is((await server.deps.accounts.row(id))?.status, 'active');
  t.is(await server.deps.totpEnrolment.pending(id), undefined);
  t.is((await server.deps.accountSessions.list(id)).length, 2);
  const login = await accountLogin(server, person.idNumber, PASSWORD);
  t.is(new URL(login.url).pathname, '/account', 'the password did not change');
});

test.serial('sessions are listed; signing one out kills its refresh token and its SSO session, and is audited', async (t) => {
  const { person, id } = await seeded();
  const centre = await accountLogin(server, person.idNumber, PASSWORD);
  // offline_access: these tokens outlive the SSO session; only revoking the grant ends them.
  const app = await appToken(server, person.phone, PASSWORD, { offline: true });
  // Public clients rotate refresh tokens: keep the live one (reusing a rotated one would fail anyway).
  const live = (await refresh(server, app.refreshToken)).body.refresh_token!;
  t.truthy(live);

  const list = await centre.browser.get('/account/sessions');
  const handles = [...list.body.matchAll(/data-session="([^"]+)"( data-current)?/g)];
  t.is(handles.length, 2);
  const current = handles.find((m) => m[2]);
  const appSession = handles.find((m) => !m[2]);
  t.truthy(current);
  t.regex(list.body, /省政务服务 App/);
  t.is([...list.body.matchAll(/登录时间：<\/strong>\d{4}-\d\d-\d\d \d\d:\d\d/g)].length, 2, 'each session shows when it signed in');

  const ended = await postForm(centre.browser, list.body, `/account/sessions/${appSession![1]}/end`);
  t.is(new URL(ended.url).pathname, '/account/sessions');
  t.regex(ended.body, /data-notice="account.done_session_ended"/);
  const refused = await refresh(server, live);
  t.is(refused.status, 400);
  t.is(refused.body.error, 'invalid_grant');
  t.is(await silentAuthorization(server, app.browser), 'login_required');
  const me = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${app.accessToken}` } });
  t.is(me.status, 401);
  // The account centre itself is still signed in.
  t.is(new URL((await centre.browser.get('/account')).url).pathname, '/account');
  t.true((await auditActions(id)).includes('session.end:success'));

  const gone = await postForm(centre.browser, list.body, `/account/sessions/${appSession![1]}/end`);
  t.is(errorCode(gone.body), 'session_not_found');
});

test.serial('signing out everywhere ends this session too', async (t) => {
  const { person, id } = await seeded();
  const centre = await accountLogin(server, person.idNumber, PASSWORD);
  const app = await appToken(server, person.phone, PASSWORD);
  const page = await centre.browser.get('/account/sessions');
  const done = await postForm(centre.browser, page.body, '/account/sessions/end-all');
  t.regex(done.body, /data-notice="account.signed_out_everywhere"/);
  t.is((await refresh(server, app.refreshToken)).status, 400);
  const again = await centre.browser.request('/account');
  t.is(again.status, 302);
  t.deepEqual(await server.deps.accountSessions.list(id), []);
});

test.serial('changing the password: the old one is refused afterwards, other sessions lose their tokens, this one stays', async (t) => {
  const { person, id } = await seeded();
  const centre = await accountLogin(server, person.idNumber, PASSWORD);
  const app = await appToken(server, person.phone, PASSWORD, { offline: true });
  const page = await centre.browser.get('/account/password');

  const wrong = await postForm(centre.browser, page.body, '/account/password', { current_password: 'not-my-password', new_password: NEW_PASSWORD, confirm: NEW_PASSWORD });
  t.is(errorCode(wrong.body), 'password_incorrect');
  const weak = await postForm(centre.browser, page.body, '/account/password', { current_password: PASSWORD, new_password: '12345678', confirm: '12345678' });
  t.is(errorCode(weak.body), 'weak_password');
  const mismatch = await postForm(centre.browser, page.body, '/account/password', { current_password: PASSWORD, new_password: NEW_PASSWORD, confirm: 'something-else-1' });
  t.is(errorCode(mismatch.body), 'invalid_input');
  const stillAlive = await refresh(server, app.refreshToken);
  t.is(stillAlive.status, 200, 'refused attempts change nothing');

  const changed = await postForm(centre.browser, page.body, '/account/password', { current_password: PASSWORD, new_password: NEW_PASSWORD, confirm: NEW_PASSWORD });
  t.regex(changed.body, /data-notice="account.done_password_changed"/);
  const refreshed = await refresh(server, stillAlive.body.refresh_token!);
  t.is(refreshed.status, 400);
  t.is(await silentAuthorization(server, app.browser), 'login_required');
  t.is(new URL((await centre.browser.get('/account')).url).pathname, '/account', 'the session that changed it stays');

  const old = await accountLogin(server, person.idNumber, PASSWORD);
  t.is(errorCode(old.body), 'login_failed');
  const fresh = await accountLogin(server, person.idNumber, NEW_PASSWORD);
  t.is(new URL(fresh.url).pathname, '/account');
  const actions = await auditActions(id);
  t.true(actions.includes('password.change:success'));
  t.true(actions.includes('password.change:failure'));
});

test.serial('the address changes only with the right SMS code for this operation', async (t) => {
  const { person, id } = await seeded();
  const centre = await accountLogin(server, person.idNumber, PASSWORD);
  const page = await centre.browser.get('/account/profile');
  const address = '福建省福州市鼓楼区五四路 100 号';
  const addressOf = async () => (await server.deps.accountOverview.overview(id, OWNER_RELEASE)).address;

  const noCode = await postForm(centre.browser, page.body, '/account/profile', { address, code: '123456' });
  t.is(errorCode(noCode.body), 'code_invalid');

  // A code sent for another operation (deregistration) does not change the address.
  const dereg = await centre.browser.get('/account/deregister');
  await postForm(centre.browser, dereg.body, '/account/deregister/code');
  const deregCode = await latestCode(server, person.phone, 'verify');
  const otherOperation = await postForm(centre.browser, page.body, '/account/profile', { address, code: deregCode });
  t.is(errorCode(otherOperation.body), 'code_invalid');

  // 获取验证码 posts the whole form: what was typed comes back with the notice.
  const sent = await postForm(centre.browser, page.body, '/account/profile/code', { address: '正在输入的新地址' });
  t.regex(sent.body, /139\*{4}\d{4}/);
  t.regex(sent.body, /<input id="address" name="address"[^>]* value="正在输入的新地址">/);
  t.is(await addressOf(), undefined, 'asking for a code changes nothing');
  const code = await latestCode(server, person.phone, 'verify');
  t.not(code, deregCode);
  const wrong = await postForm(centre.browser, page.body, '/account/profile', { address, code: otherCode(code) });
  t.is(errorCode(wrong.body), 'code_invalid');
  const badInput = await postForm(centre.browser, page.body, '/account/profile', { address: 'x'.repeat(201), code });
  t.is(errorCode(badInput.body), 'invalid_input');
  t.is(await addressOf(), undefined, 'nothing changed so far');

  const saved = await postForm(centre.browser, page.body, '/account/profile', { address, code });
  t.regex(saved.body, /data-notice="account.done_profile_updated"/);
  t.is(await addressOf(), address);
  const row = await server.deps.accounts.row(id);
  t.false(row!.address_enc!.includes('五四路'), 'stored encrypted');
  const replay = await postForm(centre.browser, page.body, '/account/profile', { address: '别处', code });
  t.is(errorCode(replay.body), 'code_invalid', 'a code works once');
  t.is(await addressOf(), address);
  t.true((await auditActions(id)).includes('profile.update:success'));
});

test.serial('TOTP: enrol with a QR code, sign-in then asks for it, a recovery code works once, and it can be turned off', async (t) => {
  const { person, id } = await seeded();
  const centre = await accountLogin(server, person.idNumber, PASSWORD);
  const off = await centre.browser.get('/account/totp');
  t.regex(off.body, /data-totp="off"/);
  const started = await postForm(centre.browser, off.body, '/account/totp/start');
  t.regex(started.body, /<img class="qr" src="data:image\/png;base64,/);
  const secret = /data-totp-secret>([A-Z2-7 ]+)</.exec(started.body)![1]!;
  t.is(secret.replace(/ /g, '').length, 32);

  const wrong = await postForm(centre.browser, started.body, '/account/totp/confirm', { code: otherCode(await totpCode(secret)) });
  t.is(errorCode(wrong.body), 'totp_invalid');
  t.is((await server.deps.accounts.row(id))?.totp_enabled_at, null);

  const confirmed = await postForm(centre.browser, started.body, '/account/totp/confirm', { code: await totpCode(secret) });
  const recoveryCodes = [...confirmed.body.matchAll(/<li><code>([2-9A-Z]{4}-[2-9A-Z]{4})<\/code><\/li>/g)].map((m) => m[1]!);
  t.is(recoveryCodes.length, 10);
  const row = await server.deps.accounts.row(id);
  t.truthy(row?.totp_enabled_at);
  t.truthy(row?.totp_secret_enc);
  t.is(await server.deps.accounts.unusedRecoveryCodes(id), 10);
  const later = await centre.browser.get('/account/totp');
  t.false(later.body.includes(recoveryCodes[0]!), 'recovery codes are shown once');

  // Signing in now needs the second step.
  const pending = await accountLogin(server, person.idNumber, PASSWORD);
  t.regex(pending.url, /\/interaction\//);
  t.regex(pending.body, /login\/totp/);
  const withRecovery = await accountLogin(server, person.idNumber, PASSWORD, { totp: recoveryCodes[0]! });
  t.is(new URL(withRecovery.url).pathname, '/account');
  const reused = await accountLogin(server, person.idNumber, PASSWORD, { totp: recoveryCodes[0]! });
  t.is(errorCode(reused.body), 'totp_invalid');
  // The confirming code's step is spent; the next step's code signs in.
  const withTotp = await accountLogin(server, person.idNumber, PASSWORD, { totp: await totpCode(secret, 1) });
  t.is(new URL(withTotp.url).pathname, '/account');

  // The authenticator is lost: a recovery code plus an SMS code turn it off.
  const on = await withTotp.browser.get('/account/totp');
  t.regex(on.body, /data-totp="on"/);
  await postForm(withTotp.browser, on.body, '/account/totp/disable/code');
  const sms = await latestCode(server, person.phone, 'verify');
  const badRecovery = await postForm(withTotp.browser, on.body, '/account/totp/disable/recovery', { recovery_code: 'ZZZZ-ZZZZ', sms_code: sms });
  t.is(errorCode(badRecovery.body), 'recovery_code_invalid');
  t.truthy((await server.deps.accounts.row(id))?.totp_enabled_at, 'still on');
  await postForm(withTotp.browser, on.body, '/account/totp/disable/code');
  const sms2 = await latestCode(server, person.phone, 'verify');
  const disabled = await postForm(withTotp.browser, on.body, '/account/totp/disable/recovery', { recovery_code: recoveryCodes[1]!, sms_code: sms2 });
  t.regex(disabled.body, /data-notice="account.done_totp_disabled"/);
  const after = await server.deps.accounts.row(id);
  t.is(after?.totp_enabled_at, null);
  t.is(after?.totp_secret_enc, null);
  t.is(await server.deps.accounts.unusedRecoveryCodes(id), 0);
  const plain = await accountLogin(server, person.idNumber, PASSWORD);
  t.is(new URL(plain.url).pathname, '/account');
  const actions = await auditActions(id);
  t.true(actions.includes('mfa.enable:success'));
  t.true(actions.includes('mfa.disable:success'));
  t.true(actions.includes('mfa.recovery_code_used:success'));
});

test.serial('phone re-binding with the old phone: steps in order only, the new phone must be free, both numbers are told', async (t) => {
  const { id } = await seeded(CHEN_WEI);
  const holder = makePerson('号码占用者');
  await seedAccount(server.deps, holder);
  const centre = await accountLogin(server, CHEN_WEI.idNumber, PASSWORD);
  const choose = await centre.browser.get('/account/phone');
  const flow = await postForm(centre.browser, choose.body, '/account/phone', { path: 'old_phone' });
  const flowPath = new URL(flow.url).pathname;
  t.regex(flowPath, /^\/account\/phone\/[A-Za-z0-9_-]+$/);
  t.regex(flow.body, /data-flow-state="old_code"/);

  const early = await postForm(centre.browser, flow.body, `${flowPath}/new/code`, { phone: CHEN_WEI.secondPhone });
  t.is(errorCode(early.body), 'flow_step_invalid', 'the new phone cannot come first');
  t.is(await latestOutboxCode(outboxFile(server), CHEN_WEI.secondPhone, 'rebind-new'), undefined);

  await postForm(centre.browser, flow.body, `${flowPath}/old/code`);
  const oldCode = await latestCode(server, CHEN_WEI.phone, 'rebind-old');
  const wrongOld = await postForm(centre.browser, flow.body, `${flowPath}/old/verify`, { code: otherCode(oldCode) });
  t.is(errorCode(wrongOld.body), 'code_invalid');
  const verifiedOld = await postForm(centre.browser, flow.body, `${flowPath}/old/verify`, { code: oldCode });
  t.regex(verifiedOld.body, /data-flow-state="new_code"/);
  const replayed = await postForm(centre.browser, flow.body, `${flowPath}/old/verify`, { code: oldCode });
  t.is(errorCode(replayed.body), 'flow_step_invalid', 'a step cannot be replayed');

  const same = await postForm(centre.browser, flow.body, `${flowPath}/new/code`, { phone: CHEN_WEI.phone });
  t.is(errorCode(same.body), 'phone_unchanged');

  // A number bound to another account is refused once its code proves who holds it.
  await postForm(centre.browser, flow.body, `${flowPath}/new/code`, { phone: holder.phone });
  const taken = await postForm(centre.browser, flow.body, `${flowPath}/new/verify`, { code: await latestCode(server, holder.phone, 'rebind-new') });
  t.is(errorCode(taken.body), 'phone_in_use');
  t.is(server.deps.accounts.profileOf((await server.deps.accounts.row(id))!).phone, CHEN_WEI.phone);

  await postForm(centre.browser, flow.body, `${flowPath}/new/code`, { phone: CHEN_WEI.secondPhone });
  const newCode = await latestCode(server, CHEN_WEI.secondPhone, 'rebind-new');
  const wrongNew = await postForm(centre.browser, flow.body, `${flowPath}/new/verify`, { code: otherCode(newCode) });
  t.is(errorCode(wrongNew.body), 'code_invalid');
  const done = await postForm(centre.browser, flow.body, `${flowPath}/new/verify`, { code: newCode });
  t.regex(done.body, /data-phone-changed/);
  t.regex(done.body, /186\*{4}1122/);
  const again = await postForm(centre.browser, flow.body, `${flowPath}/new/verify`, { code: newCode });
  t.is(errorCode(again.body), 'flow_step_invalid');

  const oldNotices = await noticesTo(server, CHEN_WEI.phone);
  t.true(oldNotices.some((text) => text.includes('186****1122')), 'the old phone is told, with the new number masked');
  t.true((await noticesTo(server, CHEN_WEI.secondPhone)).length > 0, 'the new phone is told');
  // The carriers know this number as Chen Wei's: it counts as the verified phone factor.
  const factors = await server.deps.accounts.factors(id);
  t.is(factors.find((f) => f.kind === 'phone')?.masked, '186****1122');

  const byNew = await accountLogin(server, CHEN_WEI.secondPhone, PASSWORD);
  t.is(new URL(byNew.url).pathname, '/account');
  const byOld = await accountLogin(server, CHEN_WEI.phone, PASSWORD);
  t.is(errorCode(byOld.body), 'login_failed');
  t.true((await auditActions(id)).includes('phone.change:success'));
});

test.serial('phone re-binding with the old phone lost: name, ID number and two registry factors, then the new phone', async (t) => {
  const { id } = await seeded(ZHANG_SAN);
  const centre = await accountLogin(server, ZHANG_SAN.idNumber, PASSWORD);
  const choose = await centre.browser.get('/account/phone');
  const flow = await postForm(centre.browser, choose.body, '/account/phone', { path: 'identity' });
  const flowPath = new URL(flow.url).pathname;
  t.regex(flow.body, /data-flow-state="identity"/);

  const tooEarly = await postForm(centre.browser, flow.body, `${flowPath}/factors`, { kind: 'housing_fund', number: '1100000012345' });
  t.is(errorCode(tooEarly.body), 'flow_step_invalid');
  const wrongName = await postForm(centre.browser, flow.body, `${flowPath}/identity`, { name: '李四', id_number: ZHANG_SAN.idNumber });
  t.is(errorCode(wrongName.body), 'identity_mismatch');
  const identity = await postForm(centre.browser, flow.body, `${flowPath}/identity`, { name: ZHANG_SAN.name, id_number: ZHANG_SAN.idNumber.toLowerCase() });
  t.regex(identity.body, /data-flow-state="factors"/);

  const wrongFactor = await postForm(centre.browser, flow.body, `${flowPath}/factors`, { kind: 'social_security_card', number: '110105194912319999' });
  t.is(errorCode(wrongFactor.body), 'factor_mismatch');
  const first = await postForm(centre.browser, flow.body, `${flowPath}/factors`, { kind: 'social_security_card', number: '110105194912310021' });
  t.regex(first.body, /data-factors-needed="1"/);
  const duplicate = await postForm(centre.browser, flow.body, `${flowPath}/factors`, { kind: 'social_security_card', number: '110105194912310021' });
  t.is(errorCode(duplicate.body), 'factor_duplicate');
  const notYet = await postForm(centre.browser, flow.body, `${flowPath}/new/code`, { phone: '13700001111' });
  t.is(errorCode(notYet.body), 'flow_step_invalid', 'one factor is not enough');
  const second = await postForm(centre.browser, flow.body, `${flowPath}/factors`, { kind: 'bank_card', number: '6222 0202 0011 2233 445', reserved_phone: ZHANG_SAN.phone });
  t.regex(second.body, /data-flow-state="new_code"/);

  const newPhone = makePerson().phone;
  await postForm(centre.browser, flow.body, `${flowPath}/new/code`, { phone: newPhone });
  const done = await postForm(centre.browser, flow.body, `${flowPath}/new/verify`, { code: await latestCode(server, newPhone, 'rebind-new') });
  t.regex(done.body, /data-phone-changed/);
  t.is(server.deps.accounts.profileOf((await server.deps.accounts.row(id))!).phone, newPhone);
  // The carriers do not know this number as Zhang San's: bound, but not a verified factor.
  t.is((await server.deps.accounts.factors(id)).find((f) => f.kind === 'phone'), undefined);
  t.true((await noticesTo(server, newPhone)).length > 0);
  t.true((await noticesTo(server, ZHANG_SAN.phone)).some((text) => text.includes(`${newPhone.slice(0, 3)}****${newPhone.slice(-4)}`)));
  const byNew = await accountLogin(server, newPhone, PASSWORD);
  t.is(new URL(byNew.url).pathname, '/account');
});

test.serial('the export is an attachment with the owner\'s own data in full', async (t) => {
  const { person, id } = await seeded();
  const centre = await accountLogin(server, person.idNumber, PASSWORD);
  const page = await centre.browser.get('/account');
  const response = await centre.browser.request('/account/export', {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf: hidden(page.body, 'csrf') }),
  });
  t.is(response.status, 200);
  t.regex(response.headers.get('content-disposition') ?? '', /^attachment; filename="account-export\.json"$/);
  t.regex(response.headers.get('content-type') ?? '', /application\/json/);
  t.is(response.headers.get('cache-control'), 'no-store');
  const data = await response.json() as Record<string, any>;
  t.like(data.profile, { id, name: person.name, id_number: person.idNumber, phone: person.phone, status: 'active', assurance_level: 2 });
  t.deepEqual(data.factors.map((f: { kind: string; masked: string }) => [f.kind, f.masked]), [['phone', `${person.phone.slice(0, 3)}****${person.phone.slice(-4)}`]]);
  t.true(data.sessions.length >= 1);
  t.true(data.security_events.some((e: { action: string }) => e.action === 'login'));
  t.is(data.agreement.version, 'test');
  t.truthy(data.agreement.accepted_at);
  t.true((await auditActions(id)).includes('account.export:success'));
});

test.serial('deregistration: after the SMS code everything is revoked, personal data erased, audit kept, and the person can register again', async (t) => {
  const { id } = await seeded(LIN_JIANHUA);
  const centre = await accountLogin(server, LIN_JIANHUA.idNumber, PASSWORD);
  const app = await appToken(server, LIN_JIANHUA.phone, PASSWORD);
  const page = await centre.browser.get('/account/deregister');

  const noCode = await postForm(centre.browser, page.body, '/account/deregister', { code: '000000', confirm: 'yes' });
  t.is(errorCode(noCode.body), 'code_invalid');
  await postForm(centre.browser, page.body, '/account/deregister/code');
  const code = await latestCode(server, LIN_JIANHUA.phone, 'verify');
  const unconfirmed = await postForm(centre.browser, page.body, '/account/deregister', { code });
  t.is(errorCode(unconfirmed.body), 'invalid_input');
  t.is((await server.deps.accounts.row(id))?.status, 'active');

  const done = await postForm(centre.browser, page.body, '/account/deregister', { code, confirm: 'yes' });
  t.regex(done.body, /data-notice="account.deregistered"/);

  const row = await server.deps.accounts.row(id);
  t.is(row?.status, 'deregistered');
  t.truthy(row?.deregistered_at);
  for (const column of ['id_number_enc', 'id_number_idx', 'name_enc', 'phone_enc', 'phone_idx', 'address_enc', 'password_hash', 'totp_secret_enc'] as const) {
    t.is(row?.[column], null, column);
  }
  t.deepEqual(await server.deps.accounts.factors(id), []);
  t.is(await server.deps.accounts.unusedRecoveryCodes(id), 0);
  const actions = await auditActions(id);
  t.true(actions.includes('account.deregister:success'));
  t.true(actions.includes('account.register:success'), 'earlier audit records remain');

  t.is((await refresh(server, app.refreshToken)).status, 400);
  t.is((await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${app.accessToken}` } })).status, 401);
  t.is((await centre.browser.request('/account')).status, 302, 'signed out');
  t.is(errorCode((await accountLogin(server, LIN_JIANHUA.idNumber, PASSWORD)).body), 'login_failed');
  t.is(errorCode((await accountLogin(server, LIN_JIANHUA.phone, PASSWORD)).body), 'login_failed');

  // The same person registers again, with the same ID number and phone.
  let flowToken = '';
  const api = async (path: string, body?: unknown) => {
    const response = await fetch(`${server.url}/api/v1/registration${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-flow-token': flowToken }, body: JSON.stringify(body ?? {}) });
    return { status: response.status, body: await response.json() as Record<string, any> };
  };
  const started = (await api('/')).body;
  const flow = started.flow_id as string;
  flowToken = started.flow_token as string;
  t.is((await api(`/${flow}/identity`, { name: LIN_JIANHUA.name, id_number: LIN_JIANHUA.idNumber })).status, 200);
  t.is((await api(`/${flow}/factors`, { kind: 'bank_card', number: '6228480402564890018', reserved_phone: '13799887766' })).status, 200);
  t.is((await api(`/${flow}/factors`, { kind: 'driving_licence', number: '350100456789' })).status, 200);
  await api(`/${flow}/phone/code`, { phone: LIN_JIANHUA.phone });
  t.is((await api(`/${flow}/phone/verify`, { code: await latestCode(server, LIN_JIANHUA.phone, 'register') })).status, 200);
  const registered = await api(`/${flow}/complete`, { password: NEW_PASSWORD, accept_agreement: true });
  t.is(registered.status, 200);
  t.not(registered.body.account_id, id);
  const relogin = await accountLogin(server, LIN_JIANHUA.idNumber, NEW_PASSWORD);
  t.is(new URL(relogin.url).pathname, '/account');
});

test('安全记录 and form errors speak the reader\'s language: login methods, services and fields by name, never codes', async (t) => {
  const { person } = await seeded(makePerson('周记录'));
  const { browser } = await accountLogin(server, person.phone, PASSWORD);
  const events = await browser.get('/account/events');
  const details = [...events.body.matchAll(/<span class="details">([^<]*)<\/span>/g)].map((m) => m[1]!);
  t.true(details.some((line) => line.includes('方式：密码')), details.join(' | '));
  t.true(details.some((line) => line.includes('服务：')), details.join(' | '));
  for (const line of details) {
    t.notRegex(line, /amr|client_id|factors|\[|"|account-centre/, line);
  }

  const page = await browser.get('/account/password');
  const mismatch = await browser.post('/account/password', {
    csrf: hidden(page.body, 'csrf'), current_password: PASSWORD, new_password: NEW_PASSWORD, confirm: `${NEW_PASSWORD}x`,
  });
  t.is(errorCode(mismatch.body), 'invalid_input');
  t.regex(mismatch.body, /确认密码/);
  t.notRegex(mismatch.body, /：confirm/);
});
