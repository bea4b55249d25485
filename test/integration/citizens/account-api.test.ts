import test from 'ava';
import { accountSessions } from '../../../src/oidc/adapters/cache-artifacts.js';
import { PASSWORD, ZHANG_SAN, seedAccount } from '../../helpers/accounts.js';
import {
  appToken, latestCode, makePerson, noticesTo, otherCode, refresh, silentAuthorization, startAccountServer, totpCode,
} from '../../helpers/account-centre.js';
import { errorCode, hidden } from '../../helpers/http-browser.js';
import { APP, beginAuthorization } from '../../helpers/oidc.js';
import type { TestServer } from '../../helpers/server.js';

const NEW_PASSWORD = 'Another-Strong-Pass-42';

let server: TestServer;
test.before(async () => {
  server = await startAccountServer();
});
test.after.always(async () => { await server?.close(); });

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, any>;
}

/** Calls the account API with a bearer token (or none). */
async function api(token: string | undefined, method: string, path: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.url}/api/v1/account${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) as Record<string, any> : {} };
}

async function seeded(person = makePerson()) {
  const id = await seedAccount(server.deps, person);
  const { accessToken, refreshToken, browser } = await appToken(server, person.phone, PASSWORD);
  return { person, id, token: accessToken, refreshToken, browser };
}

async function auditActions(accountId: string): Promise<string[]> {
  return (await server.deps.securityEvents.recent(accountId, 50)).map((e) => `${e.action}:${e.result}`);
}

const masked = (phone: string) => `${phone.slice(0, 3)}****${phone.slice(-4)}`;

test.serial('without a valid bearer token every call is 401 unauthenticated', async (t) => {
  const { token } = await seeded();
  const calls: Array<[string, string, unknown?]> = [
    ['GET', '/'], ['GET', '/sessions'], ['GET', '/events'], ['GET', '/export'], ['DELETE', '/sessions'],
    ['POST', '/password', { current_password: PASSWORD, new_password: NEW_PASSWORD }], ['POST', '/codes', { operation: 'profile' }],
    ['PATCH', '/profile', { address: 'x', code: '123456' }], ['POST', '/totp'], ['POST', '/deregister', { code: '123456' }],
    ['POST', '/phone-rebinding', { path: 'old_phone' }],
  ];
  for (const [method, path, body] of calls) {
    for (const bad of [undefined, 'not-a-token', `${token}x`]) {
      const answer = await api(bad, method, path, body);
      t.is(answer.status, 401, `${method} ${path} with ${bad ? 'a bad token' : 'no token'}`);
      t.is(answer.body.error, 'unauthenticated');
      t.truthy(answer.body.message_zh);
      t.truthy(answer.body.message_en);
    }
  }
  const basic = await fetch(`${server.url}/api/v1/account/`, { headers: { authorization: `Basic ${Buffer.from('app:x').toString('base64')}` } });
  t.is(basic.status, 401);
  t.regex(basic.headers.get('www-authenticate') ?? '', /^Bearer/);
  t.is((await api(token, 'GET', '/')).status, 200, 'the real token works');
});

test.serial('an access token without the openid scope is refused', async (t) => {
  const { refreshToken } = await seeded();
  // A refresh may ask for less: this access token carries `account` only.
  const narrowed = await fetch(`${server.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: APP.client_id, scope: 'account' }) });
  const body = await narrowed.json() as Record<string, string>;
  t.is(narrowed.status, 200, JSON.stringify(body));
  t.is(body.scope, 'account');
  const answer = await api(body.access_token, 'GET', '/');
  t.is(answer.status, 401);
  t.is(answer.body.error, 'unauthenticated');
});

test.serial('the profile is masked and not cached', async (t) => {
  const { person, id, token } = await seeded(makePerson('李小龙'));
  const profile = await api(token, 'GET', '/');
  t.is(profile.status, 200);
  t.is(profile.headers.get('cache-control'), 'no-store');
  t.like(profile.body, {
    id, name_masked: '**龙', id_number_masked: `${person.idNumber.slice(0, 6)}********${person.idNumber.slice(-4)}`,
    phone_masked: masked(person.phone), assurance_level: 2, totp_enabled: false,
  });
  t.deepEqual(profile.body.factors.map((f: { kind: string; masked: string }) => [f.kind, f.masked]), [['phone', masked(person.phone)]]);
  t.truthy(profile.body.registered_at);
  const text = JSON.stringify(profile.body);
  t.false(text.includes(person.idNumber));
  t.false(text.includes(person.phone));
  t.false(text.includes(person.name));
});

test.serial('sessions: listed with the caller\'s own marked; ending another kills its refresh token and SSO session', async (t) => {
  const { person, id, token, browser: mine } = await seeded();
  const other = await appToken(server, person.idNumber, PASSWORD, { offline: true });
  const listed = await api(token, 'GET', '/sessions');
  t.is(listed.body.sessions.length, 2);
  const own = listed.body.sessions.find((s: { current: boolean }) => s.current);
  const theirs = listed.body.sessions.find((s: { current: boolean }) => !s.current);
  t.truthy(own);
  t.deepEqual(theirs.clients, ['app']);
  t.false(JSON.stringify(listed.body).includes(String((await accountSessions(server.deps.cache, id))[0]!.id)), 'session ids never leave the server');

  t.is((await api(token, 'DELETE', `/sessions/${theirs.handle}`)).status, 204);
  t.is((await refresh(server, other.refreshToken)).body.error, 'invalid_grant');
  t.is(await silentAuthorization(server, other.browser), 'login_required');
  t.is((await api(other.accessToken, 'GET', '/')).status, 401);
  t.is((await api(token, 'GET', '/')).status, 200, 'the caller is untouched');
  t.not(await silentAuthorization(server, mine), 'login_required');
  t.is((await api(token, 'DELETE', `/sessions/${theirs.handle}`)).body.error, 'session_not_found');
  t.is((await api(token, 'DELETE', '/sessions/not-a-handle')).status, 404);
  t.true((await auditActions(id)).includes('session.end:success'));

  t.is((await api(token, 'DELETE', '/sessions')).status, 204);
  t.is((await api(token, 'GET', '/')).status, 401, 'signing out everywhere includes the caller');
});

test.serial('changing the password keeps the caller\'s grant and revokes every other', async (t) => {
  const { person, id, token, refreshToken } = await seeded();
  const other = await appToken(server, person.idNumber, PASSWORD, { offline: true });

  const wrong = await api(token, 'POST', '/password', { current_password: 'wrong-password', new_password: NEW_PASSWORD });
  t.is(wrong.status, 400);
  t.is(wrong.body.error, 'password_incorrect');
  const weak = await api(token, 'POST', '/password', { current_password: PASSWORD, new_password: person.phone });
  t.is(weak.body.error, 'weak_password');
  t.is(weak.body.reason, 'contains_personal_data');
  t.is((await api(token, 'POST', '/password', { current_password: PASSWORD })).body.error, 'invalid_input');

  const changed = await api(token, 'POST', '/password', { current_password: PASSWORD, new_password: NEW_PASSWORD });
  t.is(changed.status, 200);
  t.true(changed.body.revoked_grants >= 1);
  t.is((await refresh(server, other.refreshToken)).status, 400, 'the other login\'s refresh token is dead');
  t.is((await api(other.accessToken, 'GET', '/')).status, 401);
  t.is((await api(token, 'GET', '/')).status, 200, 'the caller keeps working');
  t.is((await refresh(server, refreshToken)).status, 200, 'and so does its refresh token');

  const old = await beginAuthorization(server.url, APP);
  const refused = await old.browser.post(`/interaction/${old.uid}/login/password`, { csrf: old.csrf, identifier: person.idNumber, password: PASSWORD });
  t.is(errorCode(refused.body), 'login_failed');
  await t.notThrowsAsync(appToken(server, person.idNumber, NEW_PASSWORD));
  t.true((await auditActions(id)).includes('password.change:success'));
});

test.serial('the address needs a code sent for this operation; wrong, expired or other-purpose codes change nothing', async (t) => {
  const { person, id, token } = await seeded();
  const address = '福建省厦门市思明区鹭江道 8 号';
  const addressNow = async () => (await api(token, 'GET', '/')).body.address;

  t.is((await api(token, 'PATCH', '/profile', { address, code: '123456' })).body.error, 'code_invalid');

  // A code for another operation, or sent for another purpose (the login), is refused.
  await api(token, 'POST', '/codes', { operation: 'deregister' });
  const deregisterCode = await latestCode(server, person.phone, 'verify');
  t.is((await api(token, 'PATCH', '/profile', { address, code: deregisterCode })).body.error, 'code_invalid');
  const login = await beginAuthorization(server.url, APP);
  await login.browser.post(`/interaction/${login.uid}/login/sms/send`, { csrf: login.csrf, phone: person.phone });
  t.is((await api(token, 'PATCH', '/profile', { address, code: await latestCode(server, person.phone, 'login') })).body.error, 'code_invalid');
  t.is((await api(token, 'POST', '/codes', { operation: 'everything' })).body.error, 'invalid_input');

  const sent = await api(token, 'POST', '/codes', { operation: 'profile' });
  t.is(sent.status, 200);
  t.is(sent.body.phone_masked, masked(person.phone));
  const code = await latestCode(server, person.phone, 'verify');
  t.is((await api(token, 'PATCH', '/profile', { address, code: otherCode(code) })).body.error, 'code_invalid');
  // Bad input is refused before the code is spent on it.
  t.is((await api(token, 'PATCH', '/profile', { address: 'bad\u0000address', code })).body.error, 'invalid_input');
  t.is(await addressNow(), undefined);

  // An expired code is one the cache no longer holds.
  const expiring = code;
  const grantId = (await server.deps.providers.current.AccessToken.find(token))!.grantId;
  await server.deps.cache.delete(`sms-code:verify:account:profile:grant:${grantId}:${server.deps.digest.digest('sms-limit', person.phone)}`);
  t.is((await api(token, 'PATCH', '/profile', { address, code: expiring })).body.error, 'code_invalid');
  t.is(await addressNow(), undefined, 'nothing changed');
  t.false((await auditActions(id)).includes('profile.update:success'));

  await api(token, 'POST', '/codes', { operation: 'profile' });
  const good = await latestCode(server, person.phone, 'verify');
  const saved = await api(token, 'PATCH', '/profile', { address, code: good });
  t.is(saved.status, 200);
  t.is(saved.body.address, address);
  t.is(await addressNow(), address);
  t.is((await api(token, 'PATCH', '/profile', { address: '别处', code: good })).body.error, 'code_invalid');
  t.is(await addressNow(), address);

  // A code bound to another signed-in device (another grant) does not work here.
  const elsewhere = await appToken(server, person.idNumber, PASSWORD);
  await api(elsewhere.accessToken, 'POST', '/codes', { operation: 'profile' });
  t.is((await api(token, 'PATCH', '/profile', { address: '别处', code: await latestCode(server, person.phone, 'verify') })).body.error, 'code_invalid');
  t.true((await auditActions(id)).includes('profile.update:success'));
});

test.serial('TOTP over the API: enrol, sign-in asks for it, turn it off with a current code', async (t) => {
  const { person, id, token } = await seeded();
  t.is((await api(token, 'POST', '/totp/confirm', { code: '123456' })).body.error, 'totp_enrolment_expired');
  const started = await api(token, 'POST', '/totp');
  t.is(started.status, 201);
  t.regex(started.body.otpauth_uri, /^otpauth:\/\/totp\//);
  t.regex(started.body.qr_code, /^data:image\/png;base64,/);
  const secret = started.body.secret as string;
  t.is((await api(token, 'POST', '/totp/confirm', { code: otherCode(await totpCode(secret)) })).body.error, 'totp_invalid');
  const confirmed = await api(token, 'POST', '/totp/confirm', { code: await totpCode(secret) });
  t.is(confirmed.status, 200);
  t.is(confirmed.body.recovery_codes.length, 10);
  t.is((await api(token, 'POST', '/totp')).body.error, 'totp_already_enabled');
  t.true((await api(token, 'GET', '/')).body.totp_enabled);

  const login = await beginAuthorization(server.url, APP);
  const step = await login.browser.post(`/interaction/${login.uid}/login/password`, { csrf: login.csrf, identifier: person.phone, password: PASSWORD });
  t.regex(step.body, /login\/totp/, 'sign-in now asks for the second factor');
  const passed = await login.browser.post(`/interaction/${login.uid}/login/totp`, { csrf: hidden(step.body, 'csrf'), code: confirmed.body.recovery_codes[0] });
  t.is(errorCode(passed.body), undefined, 'a recovery code passes');
  t.notRegex(passed.body, /login\/totp/);

  t.is((await api(token, 'POST', '/totp/disable', { code: otherCode(await totpCode(secret, 1)) })).body.error, 'totp_invalid');
  t.is((await api(token, 'POST', '/totp/disable', { recovery_code: confirmed.body.recovery_codes[0], sms_code: '123456' })).body.error, 'code_invalid');
  t.true((await api(token, 'GET', '/')).body.totp_enabled, 'still on');
  const disabled = await api(token, 'POST', '/totp/disable', { code: await totpCode(secret, 1) });
  t.is(disabled.status, 200);
  t.false((await api(token, 'GET', '/')).body.totp_enabled);
  t.is((await api(token, 'POST', '/totp/disable', { code: await totpCode(secret, 1) })).body.error, 'totp_not_enabled');
  const actions = await auditActions(id);
  t.true(actions.includes('mfa.enable:success'));
  t.true(actions.includes('mfa.disable:success'));
  t.true(actions.includes('mfa.disable:failure'));
});

test.serial('recovery codes are replaced only with a current code: the old ones stop working, the new ones work once', async (t) => {
  const { person, id, token } = await seeded();
  t.is((await api(token, 'POST', '/totp/recovery-codes', { code: '123456' })).body.error, 'totp_not_enabled');
  const secret = (await api(token, 'POST', '/totp')).body.secret as string;
  const first = (await api(token, 'POST', '/totp/confirm', { code: await totpCode(secret) })).body.recovery_codes as string[];

  t.is((await api(token, 'POST', '/totp/recovery-codes', { code: otherCode(await totpCode(secret, 1)) })).body.error, 'totp_invalid');
  const renewed = await api(token, 'POST', '/totp/recovery-codes', { code: await totpCode(secret, 1) });
  t.is(renewed.status, 200);
  const second = renewed.body.recovery_codes as string[];
  t.is(second.length, 10);
  t.deepEqual(second.filter((code) => first.includes(code)), []);
  t.is((await api(token, 'POST', '/totp/recovery-codes', { code: await totpCode(secret, 1) })).body.error, 'totp_invalid', 'the code that renewed them is spent');

  const signIn = async (recoveryCode: string) => {
    const login = await beginAuthorization(server.url, APP);
    const step = await login.browser.post(`/interaction/${login.uid}/login/password`, { csrf: login.csrf, identifier: person.phone, password: PASSWORD });
    return login.browser.post(`/interaction/${login.uid}/login/totp`, { csrf: hidden(step.body, 'csrf'), code: recoveryCode });
  };
  t.is(errorCode((await signIn(first[1]!)).body), 'totp_invalid', 'an old recovery code no longer works');
  t.is(errorCode((await signIn(second[0]!)).body), undefined, 'a new one does');
  t.is(errorCode((await signIn(second[0]!)).body), 'totp_invalid', 'once');
  const actions = await auditActions(id);
  t.true(actions.includes('mfa.recovery_codes_regenerate:success'));
  t.true(actions.includes('mfa.recovery_codes_regenerate:failure'));
});

test.serial('phone re-binding over the API with the old phone: order enforced, steps not replayable, numbers told, login follows the phone', async (t) => {
  const { person, id, token } = await seeded();
  const stranger = await seeded();
  const newPhone = makePerson().phone;

  const started = await api(token, 'POST', '/phone-rebinding', { path: 'old_phone' });
  t.is(started.status, 201);
  t.like(started.body, { state: 'old_code', path: 'old_phone', old_phone_masked: masked(person.phone) });
  const flow = `/phone-rebinding/${started.body.flow_id}`;
  t.is((await api(stranger.token, 'GET', flow)).body.error, 'flow_expired', 'another account cannot see the flow');
  t.is((await api(stranger.token, 'POST', `${flow}/old/code`, {})).body.error, 'flow_expired');

  t.is((await api(token, 'POST', `${flow}/new/code`, { phone: newPhone })).body.error, 'flow_step_invalid');
  t.is((await api(token, 'POST', `${flow}/new/verify`, { code: '123456' })).body.error, 'flow_step_invalid');
  t.is((await api(token, 'POST', `${flow}/old/code`, {})).status, 200);
  const oldCode = await latestCode(server, person.phone, 'rebind-old');
  t.is((await api(token, 'POST', `${flow}/old/verify`, { code: oldCode })).body.state, 'new_code');
  t.is((await api(token, 'POST', `${flow}/old/verify`, { code: oldCode })).body.error, 'flow_step_invalid');
  t.is((await api(token, 'POST', `${flow}/old/code`, {})).body.error, 'flow_step_invalid');

  t.is((await api(token, 'POST', `${flow}/new/code`, { phone: '12345' })).body.error, 'invalid_phone');
  await api(token, 'POST', `${flow}/new/code`, { phone: stranger.person.phone });
  const inUse = await api(token, 'POST', `${flow}/new/verify`, { code: await latestCode(server, stranger.person.phone, 'rebind-new') });
  t.is(inUse.status, 409);
  t.is(inUse.body.error, 'phone_in_use');

  const sent = await api(token, 'POST', `${flow}/new/code`, { phone: `+86 ${newPhone}` });
  t.is(sent.body.new_phone_masked, masked(newPhone));
  const done = await api(token, 'POST', `${flow}/new/verify`, { code: await latestCode(server, newPhone, 'rebind-new') });
  t.like(done.body, { state: 'complete', result: { phone_masked: masked(newPhone), carrier_verified: false } });
  t.is((await api(token, 'POST', `${flow}/new/verify`, { code: '123456' })).body.error, 'flow_step_invalid');
  t.is((await api(token, 'GET', '/')).body.phone_masked, masked(newPhone));
  // No carrier match: the number is bound but is no verified factor.
  t.deepEqual((await api(token, 'GET', '/')).body.factors, []);

  t.true((await noticesTo(server, person.phone)).some((text) => text.includes(masked(newPhone))));
  t.true((await noticesTo(server, newPhone)).length > 0);
  await t.notThrowsAsync(appToken(server, newPhone, PASSWORD));
  await t.throwsAsync(appToken(server, person.phone, PASSWORD));
  t.true((await auditActions(id)).includes('phone.change:success'));
});

test.serial('phone re-binding over the API with the old phone lost: a wrong factor is refused, two factors then the new phone', async (t) => {
  const { id, token } = await seeded(ZHANG_SAN);
  const started = await api(token, 'POST', '/phone-rebinding', { path: 'identity' });
  const flow = `/phone-rebinding/${started.body.flow_id}`;
  t.is(started.body.state, 'identity');
  t.is((await api(token, 'POST', `${flow}/identity`, { name: ZHANG_SAN.name, id_number: '110105194912310021' })).body.error, 'invalid_id_number');
  t.is((await api(token, 'POST', `${flow}/identity`, { name: '张四', id_number: ZHANG_SAN.idNumber })).body.error, 'identity_mismatch');
  t.is((await api(token, 'POST', `${flow}/identity`, { name: ZHANG_SAN.name, id_number: ZHANG_SAN.idNumber })).body.state, 'factors');
  t.is((await api(token, 'POST', `${flow}/identity`, { name: ZHANG_SAN.name, id_number: ZHANG_SAN.idNumber })).body.error, 'flow_step_invalid');

  const wrong = await api(token, 'POST', `${flow}/factors`, { kind: 'driving_licence', number: '110099999999' });
  t.is(wrong.body.error, 'factor_mismatch');
  t.is((await api(token, 'POST', `${flow}/factors`, { kind: 'bank_card', number: '6222020200112233445' })).body.error, 'invalid_phone');
  const one = await api(token, 'POST', `${flow}/factors`, { kind: 'driving_licence', number: '110012345678' });
  t.like(one.body, { state: 'factors', factors_needed: 1 });
  t.is((await api(token, 'POST', `${flow}/new/code`, { phone: '13700001111' })).body.error, 'flow_step_invalid');
  const two = await api(token, 'POST', `${flow}/factors`, { kind: 'housing_fund', number: '1100000012345' });
  t.like(two.body, { state: 'new_code', factors_needed: 0 });
  t.deepEqual(two.body.verified_factors.map((f: { kind: string }) => f.kind), ['driving_licence', 'housing_fund']);

  const newPhone = makePerson().phone;
  await api(token, 'POST', `${flow}/new/code`, { phone: newPhone });
  const done = await api(token, 'POST', `${flow}/new/verify`, { code: await latestCode(server, newPhone, 'rebind-new') });
  t.is(done.body.state, 'complete');
  t.is((await api(token, 'GET', '/')).body.phone_masked, masked(newPhone));
  const change = (await server.deps.securityEvents.recent(id)).find((e) => e.action === 'phone.change');
  t.like(change?.details, { path: 'identity', factors: ['driving_licence', 'housing_fund'], carrier: 'no_match' });
});

test.serial('export over the API is an attachment with the data', async (t) => {
  const { person, id, token } = await seeded();
  const answer = await api(token, 'GET', '/export');
  t.is(answer.status, 200);
  t.regex(answer.headers.get('content-disposition') ?? '', /^attachment;/);
  t.like(answer.body.profile, { id, name: person.name, id_number: person.idNumber, phone: person.phone });
  t.is(answer.body.format, 'civic-idp.account-export/1');
  t.true(answer.body.sessions.length >= 1);
  t.true(answer.body.security_events.some((e: { action: string }) => e.action === 'login'));
  t.true((await auditActions(id)).includes('account.export:success'));
  const events = await api(token, 'GET', '/events');
  t.is(events.body.events[0].action, 'account.export');
  t.false(JSON.stringify(events.body).includes(person.phone));
});

test.serial('deregistration over the API: tokens die, data is erased, audit stays, the ID number is free again', async (t) => {
  const { person, id, token, refreshToken } = await seeded();
  t.is((await api(token, 'POST', '/deregister', { code: '123456' })).body.error, 'code_invalid');
  await api(token, 'POST', '/codes', { operation: 'profile' });
  t.is((await api(token, 'POST', '/deregister', { code: await latestCode(server, person.phone, 'verify') })).body.error, 'code_invalid', 'a code for another operation');
  t.is((await server.deps.accounts.row(id))?.status, 'active');

  await api(token, 'POST', '/codes', { operation: 'deregister' });
  t.is((await api(token, 'POST', '/deregister', { code: await latestCode(server, person.phone, 'verify') })).status, 204);
  t.is((await api(token, 'GET', '/')).status, 401);
  t.is((await refresh(server, refreshToken)).status, 400);
  await t.throwsAsync(appToken(server, person.idNumber, PASSWORD));

  const row = await server.deps.database.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  t.is(row.status, 'deregistered');
  t.like(row, { id_number_enc: null, id_number_idx: null, name_enc: null, phone_enc: null, phone_idx: null, address_enc: null, password_hash: null, totp_secret_enc: null });
  const audit = await server.deps.database.db.selectFrom('audit_log').select('action').where('target_id', '=', id).execute();
  t.true(audit.some((r) => r.action === 'account.register'));
  t.true(audit.some((r) => r.action === 'account.deregister'));

  // The ID number and phone are free: the same person can have an account again.
  await t.notThrowsAsync(seedAccount(server.deps, person));
});
