import test from 'ava';
import { readOutbox } from '../../../src/ports/sms/index.js';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { makePerson, outboxFile } from '../../helpers/account-centre.js';
import { errorCode } from '../../helpers/http-browser.js';
import { PORTAL, beginAuthorization } from '../../helpers/oidc.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { auditOf } from '../../helpers/staff.js';

/**
 * The per-address limits hold under a burst: thirty requests at once from one address get
 * exactly what SMS_LIMIT_PER_IP_PER_HOUR and LOGIN_IP_LIMIT_PER_HOUR allow, and the
 * counters count what they say they count.
 */

const LIMIT = 5;
let server: TestServer;
test.before(async () => {
  // The captcha after a few sends is tested elsewhere: here it must not hide the limit.
  server = await startServer({ SMS_LIMIT_PER_IP_PER_HOUR: String(LIMIT), CAPTCHA_AFTER_SENDS_PER_IP: '1000', LOGIN_IP_LIMIT_PER_HOUR: String(LIMIT) });
});
test.after.always(async () => { await server?.close(); });

/** Thirty people with accounts, each in a login of their own from this one address. */
async function thirtyLogins() {
  return Promise.all(Array.from({ length: 30 }, async () => {
    const person = makePerson();
    const id = await seedAccount(server.deps, person);
    return { person, id, auth: await beginAuthorization(server.url, PORTAL) };
  }));
}

test('thirty login codes at once from one address, to thirty phones: exactly SMS_LIMIT_PER_IP_PER_HOUR are sent', async (t) => {
  const logins = await thirtyLogins();
  const answers = await Promise.all(logins.map(({ person, auth }) => auth.browser.post(`/interaction/${auth.uid}/login/sms/send`, { csrf: auth.csrf, phone: person.phone })));
  const codes = answers.map((answer) => errorCode(answer.body) ?? 'sent');
  t.is(codes.filter((code) => code === 'sent').length, LIMIT, codes.join());
  t.is(codes.filter((code) => code === 'sms_rate_limited').length, 30 - LIMIT);
  const phones = new Set(logins.map(({ person }) => person.phone));
  t.is((await readOutbox(outboxFile(server))).filter((m) => phones.has(m.to) && m.purpose === 'login').length, LIMIT, 'only the codes answered as sent went out');
});

test.serial('successful sign-ins give their place back: more than LOGIN_IP_LIMIT_PER_HOUR of them from one address all get in', async (t) => {
  const person = makePerson();
  await seedAccount(server.deps, person);
  for (let i = 0; i < LIMIT * 2; i += 1) {
    const auth = await beginAuthorization(server.url, PORTAL);
    const done = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: person.phone, password: PASSWORD });
    t.true(done.url.startsWith(PORTAL.redirect_uri), `sign-in ${i + 1}: ${errorCode(done.body)}`);
  }
});

test.serial('thirty wrong passwords at once from one address, for thirty accounts: exactly LOGIN_IP_LIMIT_PER_HOUR are judged, then even a right one waits', async (t) => {
  const logins = await thirtyLogins();
  const answers = await Promise.all(logins.map(({ person, auth }) => auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: person.phone, password: 'Wrong-Password-123' })));
  const codes = answers.map((answer) => errorCode(answer.body));
  t.is(codes.filter((code) => code === 'login_failed').length, LIMIT, codes.join());
  t.is(codes.filter((code) => code === 'login_throttled').length, 30 - LIMIT);
  const ids = new Set(logins.map(({ id }) => id));
  t.is((await auditOf(server.deps, 'login')).filter((r) => ids.has(r.target_id ?? '') && r.result === 'failure').length, LIMIT, 'only the judged are failures');

  const right = await beginAuthorization(server.url, PORTAL);
  const refused = await right.browser.post(`/interaction/${right.uid}/login/password`, { csrf: right.csrf, identifier: logins[0]!.person.phone, password: PASSWORD });
  t.is(errorCode(refused.body), 'login_throttled', 'the address has used its failures for the hour');
});
