import test from 'ava';
import { idNumberCheckCharacter } from '../../../src/identity/id-number.js';
import { ZHANG_SAN } from '../../helpers/accounts.js';
import { errorCode, HttpBrowser } from '../../helpers/http-browser.js';
import { jsonApi, type Answer } from '../../helpers/json-api.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { auditOf } from '../../helpers/staff.js';

/**
 * Real-name checks during registration are not an oracle: wrong answers are limited per
 * flow, per ID number and per address, each limit holds when fifty checks arrive at once,
 * a captcha comes before any limit, every answer is audited, and a deceased person's ID
 * number is answered exactly as a wrong name is. Defaults: 5 per flow, 10 per ID number a
 * day (and per person guessed at), 20 per address an hour (an IPv6 /64 is one address), a
 * captcha after 2.
 *
 * The server trusts one proxy hop, so each test can speak from addresses of its own.
 */

let server: TestServer;
test.before(async () => {
  server = await startServer({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '1' });
});
test.after.always(async () => { await server?.close(); });

const SOCIAL_SECURITY = { kind: 'social_security_card', number: '110105194912310021' };
const WANG_XIUYING_DECEASED = { name: '王秀英', idNumber: '350583195505060422' };

/** A valid citizen ID number the population registry does not know. */
function unknownIdNumber(seq: number): string {
  const first17 = `35010219900101${String(seq).padStart(3, '0')}`;
  return first17 + idNumberCheckCharacter(first17);
}

/** A made-up name for the made-up person `unknownIdNumber(seq)` stands for: each guess is at someone else. */
function strangerName(seq: number): string {
  return `路人${String.fromCodePoint(0x4e00 + seq)}`;
}

/** A registration flow started from `ip`, with its steps. */
async function flowFrom(ip: string) {
  const call = jsonApi(server, '/api/v1/registration');
  const from = { 'x-forwarded-for': ip };
  const started = await call('POST', '/', undefined, from);
  const headers = { ...from, 'x-flow-token': started.body.flow_token as string };
  const id = started.body.flow_id as string;
  return {
    identity: (name: string, idNumber: string, captcha: Record<string, string> = {}) => call('POST', `/${id}/identity`, { name, id_number: idNumber, ...captcha }, headers),
    factor: (factor: Record<string, string>, captcha: Record<string, string> = {}) => call('POST', `/${id}/factors`, { ...factor, ...captcha }, headers),
  };
}

/** A captcha from the API, already solved (its answer read from the store). */
async function solvedCaptcha(ip: string): Promise<Record<string, string>> {
  const captcha = await jsonApi(server, '/api/v1/captchas')('POST', '/', undefined, { 'x-forwarded-for': ip });
  const answer = await server.deps.cache.get(`captcha:${captcha.body.captcha_id}`);
  return { captcha_id: captcha.body.captcha_id, captcha_answer: answer ?? '' };
}

async function checks(idNumberMasked: string) {
  return (await auditOf(server.deps, 'realname.check')).filter((r) => r.details.id_number_masked === idNumberMasked);
}

const codes = (answers: Answer[]) => answers.map((a) => a.body.error ?? 'ok');
const count = (list: string[], code: string) => list.filter((c) => c === code).length;

test.serial('thirty wrong names for one ID number at once, from thirty addresses with solved captchas: exactly ten are judged, then even the right name waits', async (t) => {
  const attempts = await Promise.all(Array.from({ length: 30 }, async (_, i) => {
    const ip = `198.51.100.${i + 1}`;
    const flow = await flowFrom(ip);
    return flow.identity(`错名${i}`, ZHANG_SAN.idNumber, await solvedCaptcha(ip));
  }));
  const answered = codes(attempts);
  t.is(count(answered, 'identity_mismatch'), 10, answered.join());
  t.is(count(answered, 'realname_checks_exceeded'), 20, answered.join());
  t.true(attempts.filter((a) => a.body.error === 'realname_checks_exceeded').every((a) => a.status === 429 && /分钟/.test(a.body.message)));

  const right = await (await flowFrom('198.51.100.200')).identity(ZHANG_SAN.name, ZHANG_SAN.idNumber, await solvedCaptcha('198.51.100.200'));
  t.is(right.body.error, 'realname_checks_exceeded', 'the right name does not reveal itself once the ID number is used up');

  const records = await checks('110105********002X');
  t.is(records.filter((r) => r.result === 'failure').length, 10);
  t.is(records.filter((r) => r.result === 'denied').length, 21);
  t.true(records.every((r) => r.details.check === 'identity' && r.ip !== null));
  t.false(JSON.stringify(records).includes(ZHANG_SAN.idNumber), 'the audit log holds the ID number masked');
});

test.serial('from one address the first two wrong answers need no captcha; twenty more at once without one are refused before the registry and cost nothing', async (t) => {
  const ip = '203.0.113.10';
  const free = [];
  for (let i = 0; i < 2; i += 1) free.push(await (await flowFrom(ip)).identity(strangerName(i), unknownIdNumber(i)));
  t.deepEqual(codes(free), ['identity_mismatch', 'identity_mismatch']);

  const burst = await Promise.all(Array.from({ length: 20 }, async (_, i) => (await flowFrom(ip)).identity(strangerName(10 + i), unknownIdNumber(10 + i))));
  t.is(count(codes(burst), 'captcha_required'), 20, codes(burst).join());
  for (let i = 0; i < 20; i += 1) t.is((await checks(`350102********${unknownIdNumber(10 + i).slice(14)}`)).length, 0);

  const solved = await (await flowFrom(ip)).identity(strangerName(40), unknownIdNumber(40), await solvedCaptcha(ip));
  t.is(solved.body.error, 'identity_mismatch', 'with a captcha the check goes on');
  const wrongCaptcha = await (await flowFrom(ip)).identity(strangerName(41), unknownIdNumber(41), { ...await solvedCaptcha(ip), captcha_answer: 'zzzzz' });
  t.is(wrongCaptcha.body.error, 'captcha_invalid');
});

test.serial('one address may fail twenty checks an hour, whatever captchas it solves; fifty at once get no more', async (t) => {
  const ip = '203.0.113.20';
  // Captchas fetched from addresses of their own: the captcha endpoint has its own per-address limit.
  const burst = await Promise.all(Array.from({ length: 50 }, async (_, i) => (await flowFrom(ip)).identity(strangerName(100 + i), unknownIdNumber(100 + i), await solvedCaptcha(`192.0.2.${i + 1}`))));
  const answered = codes(burst);
  t.is(count(answered, 'identity_mismatch'), 20, answered.join());
  t.is(count(answered, 'realname_checks_exceeded'), 30);
  const flow = await flowFrom(ip);
  t.is((await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber, await solvedCaptcha(ip))).body.error, 'realname_checks_exceeded');
});

test.serial('one flow may fail five document checks; the sixth is refused even when right', async (t) => {
  const ip = '203.0.113.30';
  const flow = await flowFrom(ip);
  // 张三's ID number was used up above: a person of the fixtures this file has not touched.
  const identity = await flow.identity('李娜', '350102198503150241');
  t.is(identity.status, 200, JSON.stringify(identity.body));
  const answered: string[] = [];
  for (let i = 0; i < 5; i += 1) {
    const wrong = await flow.factor({ ...SOCIAL_SECURITY, number: `D0000000${i}` }, await solvedCaptcha(ip));
    answered.push(wrong.body.error);
  }
  t.deepEqual(answered, Array(5).fill('factor_mismatch'));
  const sixth = await flow.factor({ kind: 'bank_card', number: '6217001830001234569', reserved_phone: '13905910001' }, await solvedCaptcha(ip));
  t.is(sixth.body.error, 'realname_checks_exceeded');
  const records = await checks('350102********0241');
  t.deepEqual(records.map((r) => `${r.details.check}/${r.result}`), ['identity/success', ...Array(5).fill('social_security_card/failure'), 'bank_card/denied']);
});

test.serial('a deceased person\'s ID number is answered exactly as a wrong name; only the audit log knows why', async (t) => {
  const deceased = await (await flowFrom('203.0.113.40')).identity(WANG_XIUYING_DECEASED.name, WANG_XIUYING_DECEASED.idNumber);
  const wrongName = await (await flowFrom('203.0.113.41')).identity('王秀', WANG_XIUYING_DECEASED.idNumber);
  t.is(deceased.status, 400);
  const { request_id: _one, ...deceasedAnswer } = deceased.body;
  const { request_id: _other, ...wrongNameAnswer } = wrongName.body;
  t.deepEqual(deceasedAnswer, wrongNameAnswer);
  t.is(wrongName.status, 400);
  t.is(deceased.body.error, 'identity_mismatch');
  const reasons = (await checks('350583********0422')).map((r) => r.details.reason);
  t.deepEqual(reasons, ['not_eligible', 'mismatch']);
});

test.serial('the registration page shows a captcha with the identity form once the address has spent its free checks, and keeps what was typed', async (t) => {
  const ip = '203.0.113.50';
  const browser = new HttpBrowser(server.url);
  const from = (init: RequestInit = {}) => ({ ...init, headers: { ...init.headers as Record<string, string>, 'x-forwarded-for': ip } });
  const page = async () => {
    const flowUrl = (await browser.request('/register', from())).headers.get('location')!;
    return { flowUrl, html: await (await browser.request(flowUrl, from())).text() };
  };
  const submit = async (flowUrl: string, html: string, fields: Record<string, string>) => {
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const response = await browser.request(`${flowUrl}/identity`, from({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, ...fields }) }));
    return response.text();
  };
  const first = await page();
  t.false(first.html.includes('name="captcha_answer"'));
  for (let i = 0; i < 2; i += 1) {
    const again = await page();
    t.is(errorCode(await submit(again.flowUrl, again.html, { name: strangerName(300 + i), id_number: unknownIdNumber(300 + i) })), 'identity_mismatch');
  }
  const third = await page();
  t.true(third.html.includes('id="check_captcha"'), 'the captcha is shown ahead of the next check');
  const refused = await submit(third.flowUrl, third.html, { name: strangerName(302), id_number: unknownIdNumber(302) });
  t.is(errorCode(refused), 'captcha_required');
  t.true(refused.includes('id="check_captcha"'));
  t.true(refused.includes(`value="${unknownIdNumber(302)}"`), 'what was typed comes back');
});

test.serial('guessing the sequence number of a known person\'s ID number (name, region, birth date known) is one person\'s wrong answers, from any address', async (t) => {
  // 黄丽 is in the register as 310104200002290866; the guesser knows her name, region and birth date.
  const guesses = ['001', '002', '003', '004', '005', '006', '007', '008', '009', '010', '011'].map((seq) => {
    const first17 = `31010420000229${seq}`;
    return first17 + idNumberCheckCharacter(first17);
  });
  const answers: string[] = [];
  for (const [i, idNumber] of guesses.entries()) {
    const ip = `198.18.0.${i + 1}`;
    answers.push((await (await flowFrom(ip)).identity('黄丽', idNumber, i < 2 ? {} : await solvedCaptcha(`192.0.2.${100 + i}`))).body.error);
  }
  t.deepEqual(answers.slice(0, 10), Array(10).fill('identity_mismatch'));
  t.is(answers[10], 'realname_checks_exceeded');
  const withoutCaptcha = await (await flowFrom('198.18.1.1')).identity('黄丽', guesses[0]!);
  t.true(['captcha_required', 'realname_checks_exceeded'].includes(withoutCaptcha.body.error), 'a fresh address gets no free try at her');
  const right = await (await flowFrom('198.18.1.2')).identity('黄丽', '310104200002290866', await solvedCaptcha('192.0.2.200'));
  t.is(right.body.error, 'realname_checks_exceeded', 'the right number does not reveal itself either');
});

test.serial('addresses of one IPv6 /64 share one allowance: a subscriber cannot walk through its own prefix', async (t) => {
  const answers: string[] = [];
  for (let i = 0; i < 3; i += 1) {
    answers.push((await (await flowFrom(`2001:db8:aa:bb::${(i + 1).toString(16)}`)).identity(strangerName(500 + i), unknownIdNumber(500 + i))).body.error);
  }
  t.deepEqual(answers, ['identity_mismatch', 'identity_mismatch', 'captcha_required']);
  const elsewhere = await (await flowFrom('2001:db8:aa:bc::1')).identity(strangerName(510), unknownIdNumber(510));
  t.is(elsewhere.body.error, 'identity_mismatch', 'another /64 is another subscriber');
});
