import test from 'ava';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { appToken, makePerson, totpCode } from '../../helpers/account-centre.js';
import { errorCode, hidden } from '../../helpers/http-browser.js';
import { PORTAL, beginAuthorization } from '../../helpers/oidc.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { auditOf, createStaff } from '../../helpers/staff.js';

/**
 * Every limit holds under a burst: the requests take their places before the guarded work,
 * so thirty or fifty at once get exactly what the limit allows, and the counters count only
 * what they say they count.
 */

let server: TestServer;
test.before(async () => {
  server = await startServer({ CAPTCHA_AFTER_SENDS_PER_IP: '3', SMS_LIMIT_PER_IP_PER_HOUR: '1000', LOGIN_IP_LIMIT_PER_HOUR: '1000', LOGIN_CAPTCHA_AFTER_FAILURES: '1000' });
});
test.after.always(async () => { await server?.close(); });

test('thirty wrong passwords at once: no more than the lock threshold are judged, then the account is locked', async (t) => {
  const person = makePerson();
  const id = await seedAccount(server.deps, person);
  const threshold = server.deps.config.loginPolicy.lockThreshold;
  const attempts = await Promise.all(Array.from({ length: 30 }, () => beginAuthorization(server.url, PORTAL)));
  const answers = await Promise.all(attempts.map((auth) => auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: person.phone, password: 'Wrong-Password-123' })));
  const codes = answers.map((answer) => errorCode(answer.body));
  t.true(codes.every((code) => code === 'login_failed' || code === 'login_throttled' || code === 'account_locked'), codes.join());
  const judged = (await auditOf(server.deps, 'login')).filter((r) => r.target_id === id && r.result === 'failure');
  t.true(judged.length <= threshold, `${judged.length} judged`);
  t.is(codes.filter((code) => code === 'login_failed').length, judged.length);
  // Even the right password is refused until the lock ends, once the failures reach it.
  for (let i = judged.length; i < threshold; i += 1) {
    await server.deps.cache.delete(`login-slot:account:${id}`);
    const auth = await beginAuthorization(server.url, PORTAL);
    await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: person.phone, password: 'Wrong-Password-123' });
  }
  const right = await beginAuthorization(server.url, PORTAL);
  t.is(errorCode((await right.browser.post(`/interaction/${right.uid}/login/password`, { csrf: right.csrf, identifier: person.phone, password: PASSWORD })).body), 'account_locked');
});

test('twenty right sign-ins at once to one account all succeed: only failures slow an account down', async (t) => {
  const person = makePerson();
  await seedAccount(server.deps, person);
  const attempts = await Promise.all(Array.from({ length: 20 }, () => beginAuthorization(server.url, PORTAL)));
  const answers = await Promise.all(attempts.map((auth) => auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: person.phone, password: PASSWORD })));
  // At most the threshold are judged at one moment; the others wait for a place, and nobody is refused.
  t.deepEqual(answers.map((answer) => errorCode(answer.body)).filter(Boolean), []);
  t.is(answers.filter((answer) => answer.url.startsWith(PORTAL.redirect_uri)).length, 20);
});

test('fifty login-code sends at once from one address: exactly the captcha-free allowance goes out without a captcha, and refusals are not counted', async (t) => {
  const phones = await Promise.all(Array.from({ length: 50 }, async () => {
    const person = makePerson();
    await seedAccount(server.deps, person);
    return person.phone;
  }));
  const attempts = await Promise.all(phones.map(() => beginAuthorization(server.url, PORTAL)));
  const answers = await Promise.all(attempts.map((auth, i) => auth.browser.post(`/interaction/${auth.uid}/login/sms/send`, { csrf: auth.csrf, phone: phones[i]! })));
  const codes = answers.map((answer) => errorCode(answer.body) ?? 'sent');
  t.is(codes.filter((code) => code === 'sent').length, 3, codes.join());
  t.is(codes.filter((code) => code === 'captcha_required').length, 47);
  const ip = (await server.deps.cache.get('sms-ip:127.0.0.1:h')) ?? (await server.deps.cache.get('sms-ip:::1:h')) ?? (await server.deps.cache.get('sms-ip:::ffff:127.0.0.1:h'));
  t.is(ip, '3', 'the per-address count counts the three codes sent, not the refusals');
});

test('twenty wrong current passwords at once in the account API: five are judged, the rest refused unjudged', async (t) => {
  const person = makePerson();
  const id = await seedAccount(server.deps, person);
  const { accessToken } = await appToken(server, person.phone, PASSWORD);
  const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${server.url}/api/v1/account/password`, {
    method: 'POST', headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ current_password: 'Not-My-Password-1', new_password: 'Another-Strong-Pass-42' }),
  }).then(async (response) => (await response.json() as { error: string }).error)));
  t.is(answers.filter((code) => code === 'password_incorrect').length, 5, answers.join());
  t.is(answers.filter((code) => code === 'attempts_exceeded').length, 15);
  t.is((await auditOf(server.deps, 'password.change')).filter((r) => r.target_id === id && r.result === 'failure').length, 5);
});

test('twenty wrong staff passwords at once: no more than the staff lock threshold are judged', async (t) => {
  const staff = await createStaff(server.deps, 'burst.target', ['agent']);
  const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${server.url}/api/v1/admin/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: staff.username, password: 'Wrong-Password-123' }),
  }).then(async (response) => (await response.json() as { error: string }).error)));
  const judged = (await auditOf(server.deps, 'staff.login')).filter((r) => r.target_id === staff.id && r.result === 'failure').length;
  t.is(answers.filter((code) => code === 'login_failed').length, judged);
  t.true(judged <= 5, `${judged} judged`);
  t.is(answers.filter((code) => code === 'account_locked').length, 20 - judged);
  t.is((await auditOf(server.deps, 'staff.login')).filter((r) => r.target_id === staff.id && r.result === 'denied').length, 20 - judged, 'every refusal is audited');
});

test('one TOTP code sent by twenty paused logins at once completes exactly one of them', async (t) => {
  const person = makePerson();
  await seedAccount(server.deps, person);
  const { accessToken } = await appToken(server, person.phone, PASSWORD);
  const call = (path: string, body?: unknown) => fetch(`${server.url}/api/v1/account${path}`, {
    method: 'POST', headers: { authorization: `Bearer ${accessToken}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
  }).then(async (response) => await response.json() as Record<string, string>);
  const secret = (await call('/totp')).secret!;
  await call('/totp/confirm', { code: await totpCode(secret) });
  const paused = await Promise.all(Array.from({ length: 20 }, async () => {
    const auth = await beginAuthorization(server.url, PORTAL);
    const page = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: person.phone, password: PASSWORD });
    return { auth, csrf: hidden(page.body, 'csrf') };
  }));
  const code = await totpCode(secret, 1);
  const answers = await Promise.all(paused.map(({ auth, csrf }) => auth.browser.post(`/interaction/${auth.uid}/login/totp`, { csrf, code })));
  t.is(answers.filter((answer) => answer.url.startsWith(PORTAL.redirect_uri)).length, 1, answers.map((a) => errorCode(a.body)).join());
  t.true(answers.every((answer) => answer.url.startsWith(PORTAL.redirect_uri) || ['totp_invalid', 'login_throttled'].includes(errorCode(answer.body) ?? '')));
});
