import test from 'ava';
import { latestOutboxCode } from '../../../src/ports/sms/index.js';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { makePerson } from '../../helpers/account-centre.js';
import { errorCode, hidden } from '../../helpers/http-browser.js';
import { PORTAL, beginAuthorization } from '../../helpers/oidc.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { auditOf } from '../../helpers/staff.js';

/**
 * A stranger guessing someone's password meets an image captcha before any lock, and even
 * a locked password leaves the person the way in that proves their phone.
 */

let server: TestServer;
test.before(async () => {
  server = await startServer({ LOGIN_CAPTCHA_AFTER_FAILURES: '2', LOGIN_LOCK_THRESHOLD: '3', CAPTCHA_AFTER_SENDS_PER_IP: '100', SMS_LIMIT_PER_MINUTE: '10' });
});
test.after.always(async () => { await server?.close(); });

async function tryPassword(phone: string, password: string, captcha?: { captcha_id: string; captcha_answer: string }) {
  const auth = await beginAuthorization(server.url, PORTAL);
  return auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: phone, password, ...captcha });
}

async function solved(body: string) {
  const id = hidden(body, 'captcha_id');
  return { captcha_id: id, captcha_answer: (await server.deps.cache.get(`captcha:${id}`))! };
}

test.serial('after two failures the password needs a captcha: asked, then checked, never counted as a failure; a solved one lets the right password in', async (t) => {
  const person = makePerson();
  const id = await seedAccount(server.deps, person);
  const first = await tryPassword(person.phone, 'Wrong-Password-1');
  t.is(errorCode(first.body), 'login_failed');
  t.regex(first.body, /data-attempts-left="2"[^>]*>再输错 2 次，密码登录将锁定 30 分钟/, 'the page says how many tries remain before the lock');
  const stranger = await tryPassword('13900009999', 'Wrong-Password-1');
  t.regex(stranger.body, /data-attempts-left="2"/, 'an unknown number is warned alike');
  const second = await tryPassword(person.phone, 'Wrong-Password-1');
  t.is(errorCode(second.body), 'login_failed');
  t.regex(second.body, /name="captcha_answer"/, 'the refusal already shows the captcha');

  const without = await tryPassword(person.phone, PASSWORD);
  t.is(errorCode(without.body), 'captcha_required');
  const wrongCaptcha = await tryPassword(person.phone, PASSWORD, { captcha_id: hidden(without.body, 'captcha_id'), captcha_answer: 'zzzzz' });
  t.is(errorCode(wrongCaptcha.body), 'captcha_invalid');
  t.is((await auditOf(server.deps, 'login')).filter((r) => r.target_id === id && r.result === 'failure').length, 2, 'captcha refusals judge nothing');

  const right = await tryPassword(person.phone, PASSWORD, await solved(wrongCaptcha.body));
  t.true(right.url.startsWith(PORTAL.redirect_uri), right.url);
});

test.serial('a password locked by a stranger\'s guesses leaves SMS login open to the phone\'s holder', async (t) => {
  const person = makePerson();
  await seedAccount(server.deps, person);
  await tryPassword(person.phone, 'Wrong-Password-1');
  const second = await tryPassword(person.phone, 'Wrong-Password-1');
  const third = await tryPassword(person.phone, 'Wrong-Password-1', await solved(second.body));
  t.is(errorCode(third.body), 'login_failed');
  const locked = await tryPassword(person.phone, PASSWORD, await solved(third.body));
  t.is(errorCode(locked.body), 'account_locked', 'even the right password, with the captcha solved');

  const auth = await beginAuthorization(server.url, PORTAL);
  await auth.browser.post(`/interaction/${auth.uid}/login/sms/send`, { csrf: auth.csrf, phone: person.phone });
  const outbox = server.deps.config.sms.kind === 'outbox' ? server.deps.config.sms.file : '';
  const code = await latestOutboxCode(outbox, person.phone, 'login');
  const done = await auth.browser.post(`/interaction/${auth.uid}/login/sms`, { csrf: auth.csrf, phone: person.phone, code: code! });
  t.true(done.url.startsWith(PORTAL.redirect_uri), `SMS login still works: ${errorCode(done.body)}`);
});
