import test, { type ExecutionContext } from 'ava';
import { AppError } from '../../../src/errors.js';
import { Recovery } from '../../../src/flows/recovery.js';
import { idNumberCheckCharacter } from '../../../src/identity/id-number.js';
import { UpstreamUnavailableError } from '../../../src/ports/errors.js';
import { latestOutboxCode, readOutbox, type SmsGateway } from '../../../src/ports/sms/index.js';
import { LoginThrottle } from '../../../src/verification/login-throttle.js';
import type { SmsCodes } from '../../../src/verification/sms-codes.js';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { errorCode, hidden, HttpBrowser } from '../../helpers/http-browser.js';
import { APP, beginAuthorization, PORTAL, passwordLogin } from '../../helpers/oidc.js';
import { freePort, startServer, type TestServer } from '../../helpers/server.js';
import { jsonApi, type Answer, type Json } from '../../helpers/json-api.js';

/**
 * Password recovery (/recovery pages, /api/v1/recovery): the happy path and what it ends,
 * identical answers whether or not the identity matches an account, and every refusal.
 */

const ROOMY_SMS = {
  SMS_LIMIT_PER_MINUTE: '1000', SMS_LIMIT_PER_HOUR: '1000', SMS_LIMIT_PER_DAY: '1000', SMS_LIMIT_PER_IP_PER_HOUR: '10000', CAPTCHA_AFTER_SENDS_PER_IP: '10000',
};
const NEW_PASSWORD = 'Camellia-Bridge-58';
const RETURN_TO = '/interaction/recoveryTestUid1';

let server: TestServer;
test.before(async () => {
  server = await startServer({ ...ROOMY_SMS, LOGIN_LOCK_THRESHOLD: '3' });
});
test.after.always(async () => { await server?.close(); });

interface Person { idNumber: string; name: string; phone: string }

const NAMES = ['赵一', '钱二', '孙三', '李四', '周五', '吴六', '郑七', '王八', '冯九', '陈十', '褚十一', '卫十二', '蒋十三', '沈十四', '韩十五', '杨十六', '朱十七', '秦十八'];
let nextPerson = 0;
/** A person of our own (valid ID number, unique phone), so tests never share an account. */
function person(): Person {
  const n = nextPerson++;
  const first17 = `35010219900101${String(n).padStart(3, '0')}`;
  return { idNumber: first17 + idNumberCheckCharacter(first17), name: NAMES[n % NAMES.length]!, phone: `139${String(70_000_000 + n).padStart(8, '0')}` };
}

function call(target: TestServer, method: 'GET' | 'POST', path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer> {
  return jsonApi(target, '/api/v1/recovery')(method, path, body, headers);
}

function flowOn(target: TestServer) {
  return async () => {
    const started = await call(target, 'POST', '/');
    const id = started.body.flow_id as string;
    const holder = { 'x-flow-token': started.body.flow_token as string };
    return {
      id,
      started,
      get: () => call(target, 'GET', `/${id}`, undefined, holder),
      identity: (name: string, idNumber: string, captcha: Record<string, string> = {}) => call(target, 'POST', `/${id}/identity`, { name, id_number: idNumber, ...captcha }, holder),
      resend: () => call(target, 'POST', `/${id}/code/resend`, {}, holder),
      code: (code: string) => call(target, 'POST', `/${id}/code`, { code }, holder),
      password: (password: string) => call(target, 'POST', `/${id}/password`, { password }, holder),
    };
  };
}
const newFlow = () => flowOn(server)();

function outboxFile(target: TestServer = server): string {
  const sms = target.deps.config.sms;
  if (sms.kind !== 'outbox') throw new Error('tests need the SMS outbox');
  return sms.file;
}

async function messagesTo(phone: string, target: TestServer = server) {
  return (await readOutbox(outboxFile(target))).filter((m) => m.to === phone);
}

async function resetCode(phone: string, target: TestServer = server): Promise<string> {
  const code = await latestOutboxCode(outboxFile(target), phone, 'reset');
  if (!code) throw new Error(`no reset code for ${phone}`);
  return code;
}

function otherThan(code: string): string {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}

/** The view without what differs between any two flows. */
function shape(answer: Answer) {
  const { flow_id: _id, expires_at: _expires, request_id: _request, ...rest } = answer.body;
  return { status: answer.status, body: rest };
}

/** A failed password sign-in's error code, or undefined when it got through. */
async function passwordLoginError(identifier: string, password: string): Promise<string | undefined> {
  const auth = await beginAuthorization(server.url, PORTAL);
  const answer = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier, password });
  return errorCode(answer.body);
}

async function refresh(token: string) {
  const response = await fetch(`${server.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, client_id: APP.client_id }) });
  return { status: response.status, body: await response.json() as Json };
}

async function refused(t: ExecutionContext, flow: { get: () => Promise<Answer> }, attempt: () => Promise<Answer>, code: string, status = 400): Promise<Answer> {
  const before = await flow.get();
  const answer = await attempt();
  t.is(answer.status, status, JSON.stringify(answer.body));
  t.is(answer.body.error, code);
  t.deepEqual((await flow.get()).body, before.body, 'the flow is unchanged');
  return answer;
}

test.serial('API happy path: the new password works, the old one and every old token are dead, the phone is told', async (t) => {
  const p = person();
  const accountId = await seedAccount(server.deps, p);
  const old = await passwordLogin(server.url, APP, p.idNumber, PASSWORD);
  t.truthy(old.tokens.body.refresh_token);

  const flow = await newFlow();
  t.is(flow.started.status, 201);
  t.like(flow.started.body, { state: 'identity', channel: 'api' });
  const identity = await flow.identity(p.name, p.idNumber);
  t.is(identity.status, 200);
  t.deepEqual(Object.keys(identity.body).sort(), ['channel', 'expires_at', 'flow_id', 'state']);
  t.is(identity.body.state, 'code_sent');
  t.false(/\*/.test(JSON.stringify(identity.body)), 'no phone number, not even masked');
  const sent = await messagesTo(p.phone);
  t.is(sent.length, 1);
  t.is(sent[0]!.purpose, 'reset');

  const code = await flow.code(await resetCode(p.phone));
  t.is(code.status, 200);
  t.is(code.body.state, 'password');
  const done = await flow.password(NEW_PASSWORD);
  t.is(done.status, 200);
  t.is(done.body.state, 'complete');

  t.is(await passwordLoginError(p.idNumber, PASSWORD), 'login_failed', 'the old password is refused');
  const fresh = await passwordLogin(server.url, PORTAL, p.idNumber, NEW_PASSWORD);
  t.is(fresh.tokens.status, 200, 'the new password works');
  t.is((await refresh(old.tokens.body.refresh_token!)).body.error, 'invalid_grant', 'the old refresh token is dead');
  const me = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${old.tokens.body.access_token}` } });
  t.is(me.status, 401, 'the old access token is dead');

  const notices = (await messagesTo(p.phone)).filter((m) => m.purpose === 'notice');
  t.is(notices.length, 1);
  t.true(notices[0]!.text.includes('重置成功'));
  const audit = await server.deps.database.db.selectFrom('audit_log').selectAll().where('action', '=', 'password.recover').where('target_id', '=', accountId).execute();
  t.is(audit.length, 1);
  t.is(audit[0]!.result, 'success');
});

test.serial('the old browser session is ended: the next authorization asks for a login again', async (t) => {
  const p = person();
  await seedAccount(server.deps, p);
  const old = await passwordLogin(server.url, PORTAL, p.idNumber, PASSWORD);
  const again = await beginAuthorization(server.url, PORTAL, {}, old.auth.browser);
  t.is(again.uid, '', 'before recovery the SSO session signs in without a login page');

  const flow = await newFlow();
  await flow.identity(p.name, p.idNumber);
  await flow.code(await resetCode(p.phone));
  t.is((await flow.password(NEW_PASSWORD)).status, 200);

  const after = await beginAuthorization(server.url, PORTAL, {}, old.auth.browser);
  t.not(after.uid, '');
  t.regex(after.page, /login\/password/);
});

test.serial('an identity that matches nothing gets the same answers as one that matches, and no SMS', async (t) => {
  const match = person();
  await seedAccount(server.deps, match);
  const wrongName = person();
  await seedAccount(server.deps, wrongName);
  const unregistered = person();
  const banned = person();
  await server.deps.accounts.update(await seedAccount(server.deps, banned), { status: 'banned' });
  const deregistered = person();
  await server.deps.accounts.update(await seedAccount(server.deps, deregistered), { status: 'deregistered' });

  const outboxBefore = (await readOutbox(outboxFile())).length;
  const cases = [
    { label: 'match', name: match.name, idNumber: match.idNumber },
    { label: 'wrong name', name: '欧阳娜娜', idNumber: wrongName.idNumber },
    { label: 'unregistered', name: unregistered.name, idNumber: unregistered.idNumber },
    { label: 'banned', name: banned.name, idNumber: banned.idNumber },
    { label: 'deregistered', name: deregistered.name, idNumber: deregistered.idNumber },
  ];
  const flows = await Promise.all(cases.map(() => newFlow()));
  const answers = [];
  for (const [i, c] of cases.entries()) answers.push(await flows[i]!.identity(c.name, c.idNumber));
  for (const [i, answer] of answers.entries()) t.deepEqual(shape(answer), shape(answers[0]!), cases[i]!.label);
  t.is(answers[0]!.body.state, 'code_sent');

  // Exactly one message went out, to the match; none to the others' phones.
  const outbox = await readOutbox(outboxFile());
  t.is(outbox.length, outboxBefore + 1);
  t.is(outbox.at(-1)!.to, match.phone);
  for (const p of [wrongName, banned, deregistered]) t.deepEqual(await messagesTo(p.phone), [], p.name);

  // Resending looks alike too, and still sends only to the match.
  const resent = [];
  for (const flow of flows) resent.push(await flow.resend());
  for (const answer of resent) t.deepEqual(answer, resent[0]);
  t.is((await readOutbox(outboxFile())).length, outboxBefore + 2);

  // Wrong codes run out alike; for the others, even the match's real code is wrong.
  const real = await resetCode(match.phone);
  const sequences = [];
  for (const [i, flow] of flows.entries()) {
    const tries = i === 0 ? [otherThan(real), otherThan(real), otherThan(real), real] : [real, real, real, real];
    const errors = [];
    for (const code of tries) {
      const answer = await flow.code(code);
      errors.push(`${answer.status} ${answer.body.error} ${(await flow.get()).body.state}`);
    }
    sequences.push(errors);
  }
  for (const [i, sequence] of sequences.entries()) t.deepEqual(sequence, sequences[0], cases[i]!.label);
  const lastErrors = await Promise.all(flows.map((flow) => flow.code('000000').then((a) => a.body.error)));
  t.deepEqual(new Set(lastErrors), new Set(['code_invalid']));
  // And no flow may skip to the password step.
  for (const flow of flows.slice(1)) t.is((await flow.password(NEW_PASSWORD)).body.error, 'flow_step_invalid');
});

test.serial('non-matching flows refuse every code with code_invalid, then code_attempts_exceeded, like matching ones', async (t) => {
  const flow = await newFlow();
  const nobody = person();
  await flow.identity(nobody.name, nobody.idNumber);
  await refused(t, flow, () => flow.code('123456'), 'code_invalid');
  await refused(t, flow, () => flow.code('654321'), 'code_invalid');
  await refused(t, flow, () => flow.code('111111'), 'code_attempts_exceeded');
  t.is((await flow.get()).body.state, 'code_sent');
});

test.serial('wrong codes: code_invalid, three make code_attempts_exceeded and void the code; a resent code works', async (t) => {
  const p = person();
  await seedAccount(server.deps, p);
  const flow = await newFlow();
  await flow.identity(p.name, p.idNumber);
  const right = await resetCode(p.phone);
  await refused(t, flow, () => flow.code(otherThan(right)), 'code_invalid');
  // Not a code at all: refused without costing a try.
  await refused(t, flow, () => flow.code('12ab56'), 'code_invalid');
  await refused(t, flow, () => flow.code(otherThan(right)), 'code_invalid');
  await refused(t, flow, () => flow.code(otherThan(right)), 'code_attempts_exceeded');
  await refused(t, flow, () => flow.code(right), 'code_invalid');
  const resent = await flow.resend();
  t.is(resent.status, 200);
  t.is(resent.body.ttl_seconds, server.deps.config.smsPolicy.codeTtlSeconds);
  const fresh = await resetCode(p.phone);
  t.not(fresh, right);
  t.is((await flow.code(fresh)).body.state, 'password');
});

test.serial('a weak password is refused as weak_password with its reason, and the old password keeps working', async (t) => {
  const p = person();
  await seedAccount(server.deps, p);
  const flow = await newFlow();
  await flow.identity(p.name, p.idNumber);
  await flow.code(await resetCode(p.phone));
  const cases: Array<[string, string]> = [
    ['short1', 'too_short'],
    ['12345678', 'common'],
    [`Me-${p.idNumber}`, 'contains_personal_data'],
    [`Call-${p.phone}`, 'contains_personal_data'],
    ['Birthday-19900101', 'contains_personal_data'],
  ];
  for (const [password, reason] of cases) {
    const answer = await refused(t, flow, () => flow.password(password), 'weak_password');
    t.is(answer.body.reason, reason, password);
  }
  t.is((await flow.get()).body.state, 'password');
  t.is(await passwordLoginError(p.idNumber, PASSWORD), undefined, 'the old password still works');
  t.deepEqual((await messagesTo(p.phone)).filter((m) => m.purpose === 'notice'), []);
  t.is((await flow.password(NEW_PASSWORD)).body.state, 'complete');
});

test.serial('replayed and out-of-order steps are refused as flow_step_invalid; a gone flow as flow_expired', async (t) => {
  const p = person();
  await seedAccount(server.deps, p);
  const flow = await newFlow();
  await refused(t, flow, () => flow.code('123456'), 'flow_step_invalid');
  await refused(t, flow, () => flow.resend(), 'flow_step_invalid');
  await refused(t, flow, () => flow.password(NEW_PASSWORD), 'flow_step_invalid');
  t.is((await flow.identity(p.name, p.idNumber)).status, 200);
  await refused(t, flow, () => flow.identity(p.name, p.idNumber), 'flow_step_invalid');
  await refused(t, flow, () => flow.password(NEW_PASSWORD), 'flow_step_invalid');
  const code = await resetCode(p.phone);
  t.is((await flow.code(code)).status, 200);
  await refused(t, flow, () => flow.code(code), 'flow_step_invalid');
  await refused(t, flow, () => flow.resend(), 'flow_step_invalid');
  t.is((await flow.password(NEW_PASSWORD)).status, 200);
  await refused(t, flow, () => flow.password('Another-Passphrase-91'), 'flow_step_invalid');
  await refused(t, flow, () => flow.identity(p.name, p.idNumber), 'flow_step_invalid');
  t.is(await passwordLoginError(p.idNumber, NEW_PASSWORD), undefined, 'the replayed password did not replace the new one');

  await server.deps.cache.delete(`flow:recovery:${flow.id}`);
  const gone = await flow.get();
  t.is(gone.status, 400);
  t.is(gone.body.error, 'flow_expired');
  t.is((await flow.password(NEW_PASSWORD)).body.error, 'flow_expired');
});

test.serial('a flow begun in the browser cannot be continued through the API (flow_expired)', async (t) => {
  const browser = new HttpBrowser(server.url);
  const started = await browser.request('/recovery');
  t.is(started.status, 303);
  const flowId = /\/recovery\/([A-Za-z0-9_-]+)/.exec(started.headers.get('location') ?? '')?.[1];
  t.truthy(flowId);
  t.is((await call(server, 'GET', `/${flowId}`)).body.error, 'flow_expired');
  const p = person();
  t.is((await call(server, 'POST', `/${flowId}/identity`, { name: p.name, id_number: p.idNumber })).body.error, 'flow_expired');
});

test.serial('an invalid ID number is refused as invalid_id_number and sends nothing', async (t) => {
  const p = person();
  await seedAccount(server.deps, p);
  const flow = await newFlow();
  const wrongCheck = p.idNumber.slice(0, 17) + (p.idNumber[17] === '1' ? '2' : '1');
  await refused(t, flow, () => flow.identity(p.name, wrongCheck), 'invalid_id_number');
  t.deepEqual(await messagesTo(p.phone), []);
});

test.serial('recovery lifts the login lock that failed sign-ins put on the account', async (t) => {
  const p = person();
  await seedAccount(server.deps, p);
  for (let i = 0; i < 3; i += 1) t.is(await passwordLoginError(p.idNumber, 'not-the-password'), 'login_failed');
  t.is(await passwordLoginError(p.idNumber, PASSWORD), 'account_locked');
  const flow = await newFlow();
  await flow.identity(p.name, p.idNumber);
  await flow.code(await resetCode(p.phone));
  await flow.password(NEW_PASSWORD);
  t.is(await passwordLoginError(p.idNumber, NEW_PASSWORD), undefined);
});

/** Every visible input has a label pointing at it. */
function assertLabelled(t: ExecutionContext, html: string) {
  const inputs = [...html.matchAll(/<input\b[^>]*>/g)].map((m) => m[0]).filter((tag) => !/type="hidden"/.test(tag));
  t.true(inputs.length > 0);
  for (const tag of inputs) {
    const id = /\bid="([^"]+)"/.exec(tag)?.[1];
    t.truthy(id, tag);
    t.true(html.includes(`<label for="${id}"`), `no label for ${id}`);
  }
  // The form needs no script; the only one is the optional aids (show password, code countdown).
  t.deepEqual([...html.matchAll(/<script[^>]*src="([^"]+)"/gi)].map((m) => m[1]), ['/static/forms.js']);
  t.is((html.match(/<script/gi) ?? []).length, 1, 'no inline script');
}

test.serial('pages: the whole recovery in the browser, back to the login it came from', async (t) => {
  const p = person();
  await seedAccount(server.deps, p);
  const browser = new HttpBrowser(server.url);
  const start = await browser.get(`/recovery?return_to=${encodeURIComponent(RETURN_TO)}`);
  t.is(start.response.status, 200);
  t.is(start.response.headers.get('cache-control'), 'no-store');
  const path = new URL(start.url).pathname;
  t.regex(path, /^\/recovery\/[A-Za-z0-9_-]+$/);
  t.regex(start.body, /<html lang="zh-CN">/);
  t.regex(start.body, /找回密码/);
  t.regex(start.body, /data-recovery-state="identity"/);
  assertLabelled(t, start.body);
  t.true(start.body.includes(`href="${RETURN_TO}"`), 'a way back to the login');
  const csrf = hidden(start.body, 'csrf');
  const action = (step: string) => `${path}/${step}?return_to=${encodeURIComponent(RETURN_TO)}`;

  const sent = await browser.post(action('identity'), { csrf, name: p.name, id_number: p.idNumber });
  t.regex(sent.body, /data-code-sent/);
  t.false(/1\d{2}\*{4}\d{4}/.test(sent.body), 'no phone number on the page, not even masked');
  assertLabelled(t, sent.body);

  const wrong = await browser.post(action('code'), { csrf, code: otherThan(await resetCode(p.phone)) });
  t.is(wrong.response.status, 400);
  t.is(errorCode(wrong.body), 'code_invalid');

  const coded = await browser.post(action('code'), { csrf, code: await resetCode(p.phone) });
  t.regex(coded.body, /data-recovery-state="password"/);
  assertLabelled(t, coded.body);

  const mismatch = await browser.post(action('password'), { csrf, password: NEW_PASSWORD, confirm: `${NEW_PASSWORD}x` });
  t.is(errorCode(mismatch.body), 'invalid_input');
  const weak = await browser.post(action('password'), { csrf, password: '12345678', confirm: '12345678' });
  t.is(errorCode(weak.body), 'weak_password');
  t.regex(weak.body, /过于常见/);

  const done = await browser.post(action('password'), { csrf, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
  t.regex(done.body, /data-recovered/);
  t.true(done.body.includes(`href="${RETURN_TO}"`));
  const replay = await browser.post(action('password'), { csrf, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
  t.is(errorCode(replay.body), 'flow_step_invalid');
  t.is(await passwordLoginError(p.idNumber, NEW_PASSWORD), undefined);
});

test.serial('pages: a match and a non-match get the same page, and only the match an SMS', async (t) => {
  const match = person();
  await seedAccount(server.deps, match);
  const stranger = person();
  const pages = [];
  for (const p of [match, { ...stranger, name: '陌生人' }]) {
    const browser = new HttpBrowser(server.url);
    const start = await browser.get('/recovery');
    const path = new URL(start.url).pathname;
    const csrf = hidden(start.body, 'csrf');
    const page = await browser.post(`${path}/identity`, { csrf, name: p.name, id_number: p.idNumber });
    t.is(page.response.status, 200);
    pages.push(page.body.replaceAll(path, '/recovery/FLOW').replaceAll(csrf, 'CSRF').replace(/name="captcha_id" value="[^"]*"/g, ''));
  }
  t.is(pages[1], pages[0]);
  t.is((await messagesTo(match.phone)).length, 1);
  t.is((await messagesTo(stranger.phone)).length, 0);
});

test.serial('pages: a forged form changes nothing, a bad return_to is dropped, English by the switch', async (t) => {
  const browser = new HttpBrowser(server.url);
  const start = await browser.get('/recovery?return_to=https://evil.example/');
  const path = new URL(start.url).pathname;
  t.false(start.url.includes('evil'), 'only /interaction/<uid> may be returned to');
  const p = person();
  await seedAccount(server.deps, p);
  const forged = await browser.post(`${path}/identity`, { csrf: 'forged', name: p.name, id_number: p.idNumber });
  t.is(forged.response.status, 403);
  t.deepEqual(await messagesTo(p.phone), []);
  const stranger = new HttpBrowser(server.url);
  const elsewhere = await stranger.post(`${path}/identity`, { csrf: hidden(start.body, 'csrf'), name: p.name, id_number: p.idNumber });
  t.is(elsewhere.response.status, 403, 'the CSRF token is bound to the browser that began the flow');
  t.regex((await browser.get(path)).body, /data-recovery-state="identity"/);

  const english = await browser.get(`${path}?lang=en`);
  t.regex(english.body, /<html lang="en">/);
  t.regex(english.body, /Reset your password/);
  const invalid = await browser.post(`${path}/identity`, { csrf: hidden(english.body, 'csrf'), name: p.name, id_number: '110105194912310021' });
  t.is(errorCode(invalid.body), 'invalid_id_number');
  t.regex(invalid.body, /The citizen ID number is not valid/);
});

test.serial('twenty recovery starts at once for one ID number: the per-ID limit lets exactly one code out', async (t) => {
  const strict = await startServer({ SMS_LIMIT_PER_MINUTE: '1', CAPTCHA_AFTER_SENDS_PER_IP: '100', SMS_LIMIT_PER_IP_PER_HOUR: '1000' });
  t.teardown(() => strict.close());
  const strictFlow = flowOn(strict);
  const p = person();
  await seedAccount(strict.deps, p);
  const flows = await Promise.all(Array.from({ length: 20 }, () => strictFlow()));
  const answers = await Promise.all(flows.map((flow) => flow.identity(p.name, p.idNumber)));
  t.is(answers.filter((answer) => answer.status === 200).length, 1, answers.map((a) => a.status).join());
  t.true(answers.filter((answer) => answer.status !== 200).every((answer) => answer.body.error === 'sms_rate_limited'));
  t.is((await messagesTo(p.phone, strict)).length, 1);
});

test.serial('sends are limited per ID number alike for matching and non-matching names, so a limit reveals no match', async (t) => {
  const strict = await startServer({ SMS_LIMIT_PER_MINUTE: '1', CAPTCHA_AFTER_SENDS_PER_IP: '100' });
  t.teardown(() => strict.close());
  const strictFlow = flowOn(strict);
  const p = person();
  await seedAccount(strict.deps, p);
  const nobody = person();

  // A wrong name first, then the right one: the second is limited although it matches.
  const first = await strictFlow();
  t.is((await first.identity('欧阳娜娜', p.idNumber)).status, 200);
  const second = await strictFlow();
  const limited = await second.identity(p.name, p.idNumber);
  t.is(limited.status, 429);
  t.is(limited.body.error, 'sms_rate_limited');
  t.is((await second.get()).body.state, 'identity', 'the flow stays where it was');
  t.deepEqual(await messagesTo(p.phone, strict), [], 'no SMS was sent');

  // The same two tries for an ID number with no account: the same answers.
  const third = await strictFlow();
  t.is((await third.identity('欧阳娜娜', nobody.idNumber)).status, 200);
  const fourth = await strictFlow();
  t.deepEqual(shape(await fourth.identity(nobody.name, nobody.idNumber)), shape(limited));

  // Resending within the minute is limited the same way.
  t.deepEqual(shape(await first.resend()), shape(limited));
  t.deepEqual(shape(await third.resend()), shape(limited));
});

test.serial('the identity page shows a captcha once the address has sent enough, and the send needs it', async (t) => {
  const guarded = await startServer({ ...ROOMY_SMS, CAPTCHA_AFTER_SENDS_PER_IP: '0' });
  t.teardown(() => guarded.close());
  const p = person();
  await seedAccount(guarded.deps, p);
  const browser = new HttpBrowser(guarded.url);
  const start = await browser.get('/recovery');
  const path = new URL(start.url).pathname;
  t.regex(start.body, /<img class="captcha"/);
  t.regex(start.body, /<label for="captcha"/);
  const csrf = hidden(start.body, 'csrf');
  const missing = await browser.post(`${path}/identity`, { csrf, name: p.name, id_number: p.idNumber });
  t.is(errorCode(missing.body), 'captcha_required');
  t.regex(missing.body, /data-recovery-state="identity"/);

  const captchaId = hidden(missing.body, 'captcha_id');
  const wrong = await browser.post(`${path}/identity`, { csrf, name: p.name, id_number: p.idNumber, captcha_id: captchaId, captcha_answer: 'zzzzz' });
  t.is(errorCode(wrong.body), 'captcha_invalid');
  t.deepEqual(await messagesTo(p.phone, guarded), []);

  const nextId = hidden(wrong.body, 'captcha_id');
  const answer = await guarded.deps.cache.get(`captcha:${nextId}`);
  t.truthy(answer);
  const sent = await browser.post(`${path}/identity`, { csrf, name: p.name, id_number: p.idNumber, captcha_id: nextId, captcha_answer: answer! });
  t.regex(sent.body, /data-code-sent/);
  t.regex(sent.body, /<img class="captcha"/, 'the resend form asks for one too');
  t.is((await messagesTo(p.phone, guarded)).length, 1);

  const api = await flowOn(guarded)();
  t.is((await api.identity(p.name, p.idNumber)).body.error, 'captcha_required');
});

test.serial('an SMS gateway outage answers like success, so it cannot tell a match from a non-match', async (t) => {
  const closedPort = await freePort();
  const cut = await startServer({ ...ROOMY_SMS, SMS_GATEWAY: 'http', SMS_GATEWAY_URL: `http://127.0.0.1:${closedPort}/sms` });
  t.teardown(() => cut.close());
  const p = person();
  const accountId = await seedAccount(cut.deps, p);
  const matched = await (await flowOn(cut)()).identity(p.name, p.idNumber);
  const stranger = person();
  const unmatched = await (await flowOn(cut)()).identity(stranger.name, stranger.idNumber);
  t.is(matched.status, 200);
  t.deepEqual(shape(matched), shape(unmatched));
  const failures = await cut.deps.database.db.selectFrom('audit_log').selectAll().where('action', '=', 'sms.send').where('target_id', '=', accountId).execute();
  t.is(failures.length, 1, 'the operators still learn of it');
  t.is(failures[0]!.result, 'failure');
});

/** The flow service itself, with the SMS codes and gateway replaced where a test needs what HTTP cannot reach. */
function recoveryWith(overrides: { verify?: () => Promise<void>; sms?: SmsGateway }) {
  const { deps } = server;
  const smsCodes = Object.create(deps.smsCodes) as SmsCodes;
  if (overrides.verify) smsCodes.verify = overrides.verify;
  return new Recovery({
    flows: deps.flows, accounts: deps.accounts, passwords: deps.passwords, smsCodes, sms: overrides.sms ?? deps.sms,
    logouts: deps.logouts, audit: deps.audit, cache: deps.cache, smsPolicy: deps.config.smsPolicy,
    throttle: new LoginThrottle(deps.cache, deps.config.loginPolicy),
  });
}

test.serial('even a right guess of the never-delivered code leads a non-match nowhere', async (t) => {
  const recovery = recoveryWith({ verify: async () => {} });
  const meta = { ip: '192.0.2.7' };
  const stranger = person();
  const lost = await recovery.start({ channel: 'api', bind: 'new' });
  const lostAt = { id: lost.flow_id, channel: 'api' as const, holder: lost.flow_token! };
  await recovery.submitIdentity(lostAt, { name: stranger.name, idNumber: stranger.idNumber }, meta);
  const guessed = await t.throwsAsync(recovery.verifyCode(lostAt, { code: '123456' }));
  t.is((guessed as AppError).code, 'code_invalid');
  t.is((await recovery.get(lostAt)).state, 'code_sent');
  // The same accepted code does open the password step for a real match.
  const p = person();
  await seedAccount(server.deps, p);
  const found = await recovery.start({ channel: 'api', bind: 'new' });
  const foundAt = { id: found.flow_id, channel: 'api' as const, holder: found.flow_token! };
  await recovery.submitIdentity(foundAt, { name: p.name, idNumber: p.idNumber }, meta);
  t.is((await recovery.verifyCode(foundAt, { code: '123456' })).state, 'password');
});

test.serial('a password notice the gateway cannot take is recorded, and the reset still completes', async (t) => {
  const down: SmsGateway = { kind: 'http', send: async () => { throw new UpstreamUnavailableError('sms', 'unreachable'); } };
  const recovery = recoveryWith({ verify: async () => {}, sms: down });
  const p = person();
  const accountId = await seedAccount(server.deps, p);
  const flow = await recovery.start({ channel: 'api', bind: 'new' });
  const at = { id: flow.flow_id, channel: 'api' as const, holder: flow.flow_token! };
  // The code goes out through the real gateway (SmsCodes); only the notice meets the broken one.
  await recovery.submitIdentity(at, { name: p.name, idNumber: p.idNumber }, {});
  await recovery.verifyCode(at, { code: '000000' });
  t.is((await recovery.setPassword(at, { password: NEW_PASSWORD }, {})).state, 'complete');
  t.is(await passwordLoginError(p.idNumber, NEW_PASSWORD), undefined);
  const notices = await server.deps.database.db.selectFrom('audit_log').selectAll().where('action', '=', 'sms.notice').where('target_id', '=', accountId).execute();
  t.is(notices.length, 1);
  t.is(notices[0]!.result, 'failure');
});

test.serial('a recovery run by a stranger neither uses up the bound phone\'s login codes nor tells which number is bound', async (t) => {
  const strict = await startServer({ SMS_LIMIT_PER_MINUTE: '1', CAPTCHA_AFTER_SENDS_PER_IP: '100', SMS_LIMIT_PER_IP_PER_HOUR: '1000' });
  t.teardown(() => strict.close());
  const p = person();
  await seedAccount(strict.deps, p);
  t.is((await (await flowOn(strict)()).identity(p.name, p.idNumber)).status, 200, 'a reset code goes to the bound phone');
  t.is((await messagesTo(p.phone, strict)).length, 1);

  // SMS-login sends to candidate numbers: the bound one answers exactly as one nobody has.
  const sendLoginCode = async (phone: string) => {
    const auth = await beginAuthorization(strict.url, APP);
    const page = await auth.browser.post(`/interaction/${auth.uid}/login/sms/send`, { csrf: auth.csrf, phone });
    return errorCode(page.body) ?? 'sent';
  };
  t.deepEqual([await sendLoginCode(p.phone), await sendLoginCode(person().phone)], ['sent', 'sent']);
  t.is((await messagesTo(p.phone, strict)).length, 2, 'and the person can still sign in by SMS');
});
