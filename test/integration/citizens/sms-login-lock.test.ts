import test from 'ava';
import { seedAccount } from '../../helpers/accounts.js';
import { GENEROUS_SMS, latestCode, makePerson, otherCode } from '../../helpers/account-centre.js';
import { errorCode } from '../../helpers/http-browser.js';
import { PORTAL, beginAuthorization } from '../../helpers/oidc.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { auditOf } from '../../helpers/staff.js';

/**
 * SMS login locks only on wrong tries at a code that was sent to the phone: a stranger who
 * posts made-up codes for someone's number, with no code ever sent, guesses at nothing and
 * must not lock its holder out of the way in that proves the phone.
 */

let server: TestServer;
test.before(async () => {
  // One code's tries (SMS_CODE_MAX_ATTEMPTS) are enough to reach the lock.
  server = await startServer({ ...GENEROUS_SMS, LOGIN_LOCK_THRESHOLD: '3', SMS_CODE_MAX_ATTEMPTS: '3' });
});
test.after.always(async () => { await server?.close(); });

type Auth = Awaited<ReturnType<typeof beginAuthorization>>;
const sendCode = (auth: Auth, phone: string) => auth.browser.post(`/interaction/${auth.uid}/login/sms/send`, { csrf: auth.csrf, phone });
const tryCode = (auth: Auth, phone: string, code: string) => auth.browser.post(`/interaction/${auth.uid}/login/sms`, { csrf: auth.csrf, phone, code });

test('twenty made-up codes at once for a phone that was sent none count for nothing: every one is refused and audited, and SMS login still works', async (t) => {
  const victim = makePerson();
  const id = await seedAccount(server.deps, victim);
  const attempts = await Promise.all(Array.from({ length: 20 }, () => beginAuthorization(server.url, PORTAL)));
  const answers = await Promise.all(attempts.map((auth, i) => tryCode(auth, victim.phone, String(100_000 + i * 4_321))));
  const codes = answers.map((answer) => errorCode(answer.body));
  t.deepEqual(codes.filter((code) => code !== 'code_invalid'), [], codes.join());
  const refused = (await auditOf(server.deps, 'login')).filter((r) => r.target_id === id && r.result === 'failure');
  t.is(refused.length, 20, 'every refusal is audited');
  t.true(refused.every((r) => r.details.method === 'sms' && r.details.reason === 'no_code'));
  t.is(await server.deps.cache.get(`login-failed:account:${id}:sms`), null, 'none counted towards the lock');

  const auth = await beginAuthorization(server.url, PORTAL);
  await sendCode(auth, victim.phone);
  const done = await tryCode(auth, victim.phone, await latestCode(server, victim.phone, 'login'));
  t.true(done.url.startsWith(PORTAL.redirect_uri), `SMS login still works: ${errorCode(done.body)}`);
});

test('wrong tries at a code that was sent still lock SMS login, audited, and then even the right code is refused', async (t) => {
  const person = makePerson();
  const id = await seedAccount(server.deps, person);
  const threshold = server.deps.config.loginPolicy.lockThreshold;
  const guesser = await beginAuthorization(server.url, PORTAL);
  await sendCode(guesser, person.phone);
  const wrong = otherCode(await latestCode(server, person.phone, 'login'));
  const answers: Array<string | undefined> = [];
  for (let i = 0; i < threshold; i += 1) answers.push(errorCode((await tryCode(guesser, person.phone, wrong)).body));
  t.deepEqual(answers, [...Array.from({ length: threshold - 1 }, () => 'code_invalid'), 'code_attempts_exceeded']);
  const locked = (await auditOf(server.deps, 'login.locked')).filter((r) => r.target_id === id);
  t.is(locked.length, 1);
  t.is(locked[0]!.details.method, 'sms');

  const holder = await beginAuthorization(server.url, PORTAL);
  await sendCode(holder, person.phone);
  const refused = await tryCode(holder, person.phone, await latestCode(server, person.phone, 'login'));
  t.is(errorCode(refused.body), 'account_locked');
});
