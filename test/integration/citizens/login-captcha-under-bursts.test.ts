import test from 'ava';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { makePerson } from '../../helpers/account-centre.js';
import { errorCode } from '../../helpers/http-browser.js';
import { loginDelayOver, solvedCaptcha } from '../../helpers/login-limits.js';
import { PORTAL, beginAuthorization } from '../../helpers/oidc.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { auditOf } from '../../helpers/staff.js';

/**
 * On the shipped limits, the captcha before the password lock holds under a burst: the
 * captcha-free tries are places reserved before the password is judged, so thirty wrong
 * passwords at once meet the captcha, not the lock.
 */

let server: TestServer;
test.before(async () => {
  server = await startServer();
});
test.after.always(async () => { await server?.close(); });

const passwordAt = (auth: Awaited<ReturnType<typeof beginAuthorization>>, identifier: string, password: string, extra: Record<string, string> = {}) =>
  auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier, password, ...extra });

test('thirty wrong passwords at once: no more than the captcha-free allowance are judged, the rest must bring a captcha, and the account is not locked', async (t) => {
  const { captchaAfterFailures, lockThreshold } = server.deps.config.loginPolicy;
  t.true(captchaAfterFailures < lockThreshold, 'the shipped captcha comes before the shipped lock');
  const person = makePerson();
  const id = await seedAccount(server.deps, person);
  const attempts = await Promise.all(Array.from({ length: 30 }, () => beginAuthorization(server.url, PORTAL)));
  const answers = await Promise.all(attempts.map((auth) => passwordAt(auth, person.phone, 'Wrong-Password-123')));
  const codes = answers.map((answer) => errorCode(answer.body));

  const judged = (await auditOf(server.deps, 'login')).filter((r) => r.target_id === id && r.result === 'failure').length;
  t.true(judged >= 1 && judged <= captchaAfterFailures, `${judged} judged`);
  t.is(codes.filter((code) => code === 'login_failed').length, judged, codes.join());
  t.is(codes.filter((code) => code === 'captcha_required').length, 30 - judged, codes.join());
  t.is(Number(await server.deps.cache.get(`login-failed:account:${id}`)), judged, 'the throttle counted only the passwords judged');
  t.false((await auditOf(server.deps, 'login.locked')).some((r) => r.target_id === id), 'no lock');

  // Anyone refused sees the captcha; with it solved the right password signs in (after the delay the failures earned).
  const refused = codes.indexOf('captcha_required');
  await loginDelayOver(server, `account:${id}`);
  const right = await passwordAt(attempts[refused]!, person.phone, PASSWORD, await solvedCaptcha(server, answers[refused]!.body));
  t.true(right.url.startsWith(PORTAL.redirect_uri), `signed in: ${errorCode(right.body)}`);
});

test('twenty right passwords at once all sign in without a captcha: sign-ins in flight do not use up the captcha-free allowance', async (t) => {
  const person = makePerson();
  await seedAccount(server.deps, person);
  const attempts = await Promise.all(Array.from({ length: 20 }, () => beginAuthorization(server.url, PORTAL)));
  const answers = await Promise.all(attempts.map((auth) => passwordAt(auth, person.phone, PASSWORD)));
  t.deepEqual(answers.map((answer) => errorCode(answer.body)).filter(Boolean), []);
  t.is(answers.filter((answer) => answer.url.startsWith(PORTAL.redirect_uri)).length, 20);
});
