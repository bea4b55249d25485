import test, { type ExecutionContext } from 'ava';
import { decodeJwt } from 'jose';
import { idNumberCheckCharacter } from '../../../src/identity/id-number.js';
import { latestOutboxCode, readOutbox } from '../../../src/ports/sms/index.js';
import { seedAccount, ZHANG_SAN } from '../../helpers/accounts.js';
import { HttpBrowser } from '../../helpers/http-browser.js';
import { passwordLogin, PORTAL } from '../../helpers/oidc.js';
import { freePort, startServer, type TestServer } from '../../helpers/server.js';
import { jsonApi, type Answer } from '../../helpers/json-api.js';

/**
 * The registration flow through its JSON API (/api/v1/registration): the happy path with
 * the fixture person 张三, then every refusal with its code, each shown to change nothing.
 */

// Generous SMS limits, so one person can be sent many codes; the limits have a test of their own.
const ROOMY_SMS = {
  REALNAME_FAILURES_PER_IP_PER_HOUR: '1000', REALNAME_FAILURES_PER_ID_PER_DAY: '1000', REALNAME_CAPTCHA_AFTER_FAILURES: '1000',
  SMS_LIMIT_PER_MINUTE: '1000', SMS_LIMIT_PER_HOUR: '1000', SMS_LIMIT_PER_DAY: '1000', SMS_LIMIT_PER_IP_PER_HOUR: '10000', CAPTCHA_AFTER_SENDS_PER_IP: '10000',
};
const NEW_PASSWORD = 'Lantern-Harbour-73';
const BANK_CARD = { kind: 'bank_card', number: '6222020200112233445', reserved_phone: '13800138000' };
const SOCIAL_SECURITY = { kind: 'social_security_card', number: '110105194912310021' };
const HOUSING_FUND = { kind: 'housing_fund', number: '1100000012345' };
const DRIVING_LICENCE = { kind: 'driving_licence', number: '110012345678' };
const LI_NA = { idNumber: '350102198503150241', name: '李娜', phone: '13905910001', bankCard: '6217001830001234569' };
const LIN_JIANHUA = { idNumber: '350105197806200159', name: '林建华', phone: '13959112345', drivingLicence: '350100456789' };
const CHEN_WEI = { idNumber: '350203199207210138', name: '陈伟', phones: ['15859201234', '18650001122'], socialSecurity: 'D06512348', housingFund: '3502000087654321' };

let server: TestServer;
test.before(async () => {
  server = await startServer(ROOMY_SMS);
});
test.after.always(async () => { await server?.close(); });


function call(target: TestServer, method: 'GET' | 'POST', path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer> {
  return jsonApi(target, '/api/v1/registration')(method, path, body, headers);
}

/** One registration flow on a server, with its steps. */
function flowOn(target: TestServer) {
  return async () => {
    const started = await call(target, 'POST', '/');
    const id = started.body.flow_id as string;
    const holder = { 'x-flow-token': started.body.flow_token as string };
    return {
      id,
      holder,
      get: () => call(target, 'GET', `/${id}`, undefined, holder),
      identity: (name: string, idNumber: string) => call(target, 'POST', `/${id}/identity`, { name, id_number: idNumber }, holder),
      sendCode: (phone: string) => call(target, 'POST', `/${id}/phone/code`, { phone }, holder),
      verifyCode: (code: string) => call(target, 'POST', `/${id}/phone/verify`, { code }, holder),
      factor: (factor: Record<string, string>) => call(target, 'POST', `/${id}/factors`, factor, holder),
      complete: (password: string, accept = true, extra: Record<string, unknown> = {}) => call(target, 'POST', `/${id}/complete`, { password, accept_agreement: accept, ...extra }, holder),
    };
  };
}
const newFlow = () => flowOn(server)();

function outboxFile(target: TestServer): string {
  const sms = target.deps.config.sms;
  if (sms.kind !== 'outbox') throw new Error('tests need the SMS outbox');
  return sms.file;
}

async function codeFor(target: TestServer, phone: string, purpose: 'register' | 'login' = 'register'): Promise<string> {
  const code = await latestOutboxCode(outboxFile(target), phone, purpose);
  if (!code) throw new Error(`no ${purpose} code for ${phone} in the outbox`);
  return code;
}

async function accountCount(target: TestServer): Promise<number> {
  const row = await target.deps.database.db.selectFrom('accounts').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A code that is not `code`: the same six digits shifted by one. */
function otherThan(code: string): string {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}

/** Sends a code to the phone and verifies it with the one from the outbox. */
async function verifyPhone(flow: Awaited<ReturnType<typeof newFlow>>, target: TestServer, phone: string): Promise<Answer> {
  const sent = await flow.sendCode(phone);
  if (sent.status !== 200) throw new Error(`send failed: ${JSON.stringify(sent.body)}`);
  return flow.verifyCode(await codeFor(target, phone));
}

/** 张三 past the identity step, with the phone verified (which the carrier counts as a factor) and a bank card: ready to complete. */
async function readyZhangSan() {
  const flow = await newFlow();
  await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber);
  await verifyPhone(flow, server, ZHANG_SAN.phone);
  await flow.factor(BANK_CARD);
  return flow;
}

/** Asserts a refusal with its code, and that neither the flow nor the accounts changed. */
async function refusedUnchanged(t: ExecutionContext, flow: { get: () => Promise<Answer> }, attempt: () => Promise<Answer>, code: string, status = 400) {
  const before = await flow.get();
  const accounts = await accountCount(server);
  const answer = await attempt();
  t.is(answer.status, status, JSON.stringify(answer.body));
  t.is(answer.body.error, code);
  t.deepEqual((await flow.get()).body, before.body, 'the flow is unchanged');
  t.is(await accountCount(server), accounts, 'no account was created');
  return answer;
}

test.serial('happy path: 张三 registers through the API, then signs in with ID number and password', async (t) => {
  const flow = await newFlow();
  const identity = await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber);
  t.is(identity.status, 200);
  t.like(identity.body, { state: 'factors', channel: 'api', identity: { name_masked: '*三', id_number_masked: '110105********002X' }, factors_needed: 2, ready_to_complete: false });
  t.false(JSON.stringify(identity.body).includes(ZHANG_SAN.idNumber), 'the ID number is shown masked only');

  const sent = await flow.sendCode(ZHANG_SAN.phone);
  t.is(sent.status, 200);
  t.is(sent.body.ttl_seconds, server.deps.config.smsPolicy.codeTtlSeconds);
  const phone = await flow.verifyCode(await codeFor(server, ZHANG_SAN.phone));
  t.is(phone.status, 200);
  t.like(phone.body, { phone: { masked: '138****8000', verified: true }, factors_needed: 1 });
  t.deepEqual(phone.body.verified_factors, [{ kind: 'phone', masked: '138****8000' }]);

  const card = await flow.factor(BANK_CARD);
  t.is(card.status, 200);
  t.like(card.body, { factors_needed: 0, ready_to_complete: true });
  t.deepEqual(card.body.verified_factors[1], { kind: 'bank_card', masked: '6222 **** **** 3445' });

  const accounts = await accountCount(server);
  const done = await flow.complete(NEW_PASSWORD);
  t.is(done.status, 200);
  t.is(done.body.state, 'complete');
  t.regex(done.body.account_id, /^[0-9a-f-]{36}$/);
  t.is(await accountCount(server), accounts + 1);
  t.false('identity' in done.body, 'personal data leaves the flow once the account holds it');

  const { tokens } = await passwordLogin(server.url, PORTAL, ZHANG_SAN.idNumber, NEW_PASSWORD);
  t.is(tokens.status, 200);
  t.is(decodeJwt(tokens.body.id_token!).sub, done.body.account_id);
});

test.serial('a wrong ID number checksum is refused as invalid_id_number', async (t) => {
  const flow = await newFlow();
  const wrongCheck = ZHANG_SAN.idNumber.slice(0, 17) + (ZHANG_SAN.idNumber[17] === '1' ? '2' : '1');
  await refusedUnchanged(t, flow, () => flow.identity(ZHANG_SAN.name, wrongCheck), 'invalid_id_number');
  t.is((await flow.get()).body.state, 'identity');
});

test.serial('an impossible birth date (30 February) is refused as invalid_id_number, whatever the check character', async (t) => {
  const flow = await newFlow();
  const first17 = '11010519490230002';
  await refusedUnchanged(t, flow, () => flow.identity(ZHANG_SAN.name, first17 + idNumberCheckCharacter(first17)), 'invalid_id_number');
});

test.serial('a name that does not fit the ID number is refused as identity_mismatch', async (t) => {
  const flow = await newFlow();
  await refusedUnchanged(t, flow, () => flow.identity('李四', ZHANG_SAN.idNumber), 'identity_mismatch');
});

test.serial('deceased and cancelled persons cannot register online, and a stranger is not told why (identity_mismatch)', async (t) => {
  for (const person of [{ name: '王秀英', idNumber: '350583195505060422' }, { name: '刘洋', idNumber: '350121198811110574' }]) {
    const flow = await newFlow();
    await refusedUnchanged(t, flow, () => flow.identity(person.name, person.idNumber), 'identity_mismatch');
  }
});

test.serial('a factor that fails its registry is refused as factor_mismatch and not counted', async (t) => {
  const flow = await newFlow();
  await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber);
  await refusedUnchanged(t, flow, () => flow.factor({ ...SOCIAL_SECURITY, number: '110105194912310099' }), 'factor_mismatch');
  await refusedUnchanged(t, flow, () => flow.factor({ ...BANK_CARD, reserved_phone: '13905910001' }), 'factor_mismatch');
  await refusedUnchanged(t, flow, () => flow.factor({ ...DRIVING_LICENCE, number: '350100456789' }), 'factor_mismatch');
  t.deepEqual((await flow.get()).body.verified_factors, []);
});

test.serial('the same kind of factor twice is refused as factor_duplicate', async (t) => {
  const flow = await newFlow();
  await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber);
  t.is((await flow.factor(SOCIAL_SECURITY)).status, 200);
  await refusedUnchanged(t, flow, () => flow.factor(SOCIAL_SECURITY), 'factor_duplicate');
  t.is((await flow.get()).body.verified_factors.length, 1);
});

test.serial('completing with only one factor is refused as factors_insufficient', async (t) => {
  const flow = await newFlow();
  await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber);
  await flow.factor(HOUSING_FUND);
  // A phone the carrier does not register to 张三: bound, but no factor.
  const phone = await verifyPhone(flow, server, '13905910001');
  t.like(phone.body, { phone: { verified: true }, factors_needed: 1, ready_to_complete: false });
  await refusedUnchanged(t, flow, () => flow.complete(NEW_PASSWORD), 'factors_insufficient');
});

test.serial('completing without a verified phone is refused as phone_required', async (t) => {
  const flow = await newFlow();
  await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber);
  await flow.factor(HOUSING_FUND);
  await flow.factor(DRIVING_LICENCE);
  await refusedUnchanged(t, flow, () => flow.complete(NEW_PASSWORD), 'phone_required');
  // A code sent but never entered binds nothing either.
  t.is((await flow.sendCode(ZHANG_SAN.phone)).status, 200);
  await refusedUnchanged(t, flow, () => flow.complete(NEW_PASSWORD), 'phone_required');
});

test.serial('an SMS code is single-use: after a fresh code is sent to the same phone, the used one is refused', async (t) => {
  const flow = await newFlow();
  await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber);
  await flow.sendCode(ZHANG_SAN.phone);
  const used = await codeFor(server, ZHANG_SAN.phone);
  t.is((await flow.verifyCode(used)).status, 200);
  t.is((await flow.sendCode(ZHANG_SAN.phone)).status, 200);
  const fresh = await codeFor(server, ZHANG_SAN.phone);
  t.not(fresh, used);
  await refusedUnchanged(t, flow, () => flow.verifyCode(used), 'code_invalid');
  t.is((await flow.verifyCode(fresh)).status, 200, 'the fresh code still works');
});

test.serial('a code sent for another purpose, another phone or another flow is refused as code_invalid', async (t) => {
  const flow = await newFlow();
  await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber);

  // Another purpose: a login code for the same phone and even the same flow id.
  await flow.sendCode(ZHANG_SAN.phone);
  await server.deps.smsCodes.send({ purpose: 'login', phone: ZHANG_SAN.phone, flowId: flow.id, ip: '192.0.2.1' });
  const loginCode = await codeFor(server, ZHANG_SAN.phone, 'login');
  t.not(loginCode, await codeFor(server, ZHANG_SAN.phone));
  await refusedUnchanged(t, flow, () => flow.verifyCode(loginCode), 'code_invalid');

  // Another phone: the code sent to the first number, after the flow moved on to a second.
  const firstPhoneCode = await codeFor(server, ZHANG_SAN.phone);
  await flow.sendCode('13905910001');
  t.not(firstPhoneCode, await codeFor(server, '13905910001'));
  await refusedUnchanged(t, flow, () => flow.verifyCode(firstPhoneCode), 'code_invalid');

  // Another flow: a code another flow sent to the very phone this one waits on.
  const other = await newFlow();
  await other.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber);
  await other.sendCode('13905910001');
  const othersCode = await codeFor(server, '13905910001');
  await refusedUnchanged(t, flow, () => flow.verifyCode(othersCode), 'code_invalid');
  t.is((await other.verifyCode(othersCode)).status, 200, 'it still works in its own flow');
});

test.serial('an expired SMS code is refused as code_invalid', async (t) => {
  const shortLived = await startServer({ ...ROOMY_SMS, SMS_CODE_TTL_SECONDS: '1' });
  t.teardown(() => shortLived.close());
  const flow = await flowOn(shortLived)();
  await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber);
  await flow.sendCode(ZHANG_SAN.phone);
  const code = await codeFor(shortLived, ZHANG_SAN.phone);
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  const answer = await flow.verifyCode(code);
  t.is(answer.status, 400);
  t.is(answer.body.error, 'code_invalid');
  t.like((await flow.get()).body, { phone: { verified: false }, verified_factors: [] });
});

test.serial('three wrong codes void the code (code_attempts_exceeded); the right one is then refused too', async (t) => {
  const flow = await newFlow();
  await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber);
  await flow.sendCode(ZHANG_SAN.phone);
  const right = await codeFor(server, ZHANG_SAN.phone);
  const wrong = otherThan(right);
  t.is(server.deps.config.smsPolicy.maxAttempts, 3);
  await refusedUnchanged(t, flow, () => flow.verifyCode(wrong), 'code_invalid');
  await refusedUnchanged(t, flow, () => flow.verifyCode(wrong), 'code_invalid');
  await refusedUnchanged(t, flow, () => flow.verifyCode(wrong), 'code_attempts_exceeded');
  await refusedUnchanged(t, flow, () => flow.verifyCode(right), 'code_invalid');
  t.like((await flow.get()).body, { phone: { verified: false } });
});

test.serial('too many sends to one phone are refused as sms_rate_limited and send nothing', async (t) => {
  const strict = await startServer({ SMS_LIMIT_PER_MINUTE: '1', SMS_LIMIT_PER_HOUR: '5', SMS_LIMIT_PER_DAY: '10', CAPTCHA_AFTER_SENDS_PER_IP: '100' });
  t.teardown(() => strict.close());
  const flow = await flowOn(strict)();
  await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber);
  t.is((await flow.sendCode(ZHANG_SAN.phone)).status, 200);
  const before = await flow.get();
  const again = await flow.sendCode(ZHANG_SAN.phone);
  t.is(again.status, 429);
  t.is(again.body.error, 'sms_rate_limited');
  // Another flow does not get round the limit: it is per phone.
  const second = await flowOn(strict)();
  await second.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber);
  t.is((await second.sendCode(ZHANG_SAN.phone)).body.error, 'sms_rate_limited');
  t.deepEqual((await flow.get()).body, before.body);
  t.is((await readOutbox(outboxFile(strict))).filter((m) => m.to === ZHANG_SAN.phone).length, 1);
});

test.serial('a weak password is refused as weak_password with its reason', async (t) => {
  const flow = await readyZhangSan();
  const cases: Array<[string, string]> = [
    ['short1', 'too_short'],
    ['qwerty123', 'common'],
    ['Zhang-11010519491231002X', 'contains_personal_data'],
    ['Hello-13800138000', 'contains_personal_data'],
    ['Born-1949-12-31!', 'contains_personal_data'],
  ];
  for (const [password, reason] of cases) {
    const answer = await refusedUnchanged(t, flow, () => flow.complete(password), 'weak_password');
    t.is(answer.body.reason, reason, password);
  }
});

test.serial('completing without accepting the agreement is refused as agreement_required', async (t) => {
  const flow = await readyZhangSan();
  await refusedUnchanged(t, flow, () => flow.complete(NEW_PASSWORD, false), 'agreement_required');
});

test.serial('a replayed step and a step out of order are refused as flow_step_invalid', async (t) => {
  const flow = await newFlow();
  // Out of order: nothing but the identity step is open on a new flow.
  await refusedUnchanged(t, flow, () => flow.factor(SOCIAL_SECURITY), 'flow_step_invalid');
  await refusedUnchanged(t, flow, () => flow.sendCode(ZHANG_SAN.phone), 'flow_step_invalid');
  await refusedUnchanged(t, flow, () => flow.complete(NEW_PASSWORD), 'flow_step_invalid');
  t.is((await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber)).status, 200);
  // Replayed: the identity step again, even with another person.
  await refusedUnchanged(t, flow, () => flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber), 'flow_step_invalid');
  await refusedUnchanged(t, flow, () => flow.identity(LI_NA.name, LI_NA.idNumber), 'flow_step_invalid');
  // Out of order: verifying a phone before any code was sent.
  await refusedUnchanged(t, flow, () => flow.verifyCode('123456'), 'flow_step_invalid');
  // Replayed: a phone verification once the phone is verified.
  const phone = await verifyPhone(flow, server, ZHANG_SAN.phone);
  t.is(phone.status, 200);
  const used = await codeFor(server, ZHANG_SAN.phone);
  await refusedUnchanged(t, flow, () => flow.verifyCode(used), 'flow_step_invalid');
});

test.serial('a completed flow takes no further step', async (t) => {
  const flow = await newFlow();
  await flow.identity(LIN_JIANHUA.name, LIN_JIANHUA.idNumber);
  await verifyPhone(flow, server, LIN_JIANHUA.phone);
  await flow.factor({ kind: 'driving_licence', number: LIN_JIANHUA.drivingLicence });
  t.is((await flow.complete(NEW_PASSWORD)).status, 200);
  await refusedUnchanged(t, flow, () => flow.complete(NEW_PASSWORD), 'flow_step_invalid');
  await refusedUnchanged(t, flow, () => flow.identity(LIN_JIANHUA.name, LIN_JIANHUA.idNumber), 'flow_step_invalid');
  await refusedUnchanged(t, flow, () => flow.factor(SOCIAL_SECURITY), 'flow_step_invalid');
  await refusedUnchanged(t, flow, () => flow.sendCode(LIN_JIANHUA.phone), 'flow_step_invalid');
});

test.serial('a flow begun in the browser cannot be continued through the API (flow_expired)', async (t) => {
  const browser = new HttpBrowser(server.url);
  const started = await browser.request('/register');
  t.is(started.status, 303);
  const flowId = /\/register\/([A-Za-z0-9_-]+)/.exec(started.headers.get('location') ?? '')?.[1];
  t.truthy(flowId);
  const read = await call(server, 'GET', `/${flowId}`);
  t.is(read.status, 400);
  t.is(read.body.error, 'flow_expired');
  const step = await call(server, 'POST', `/${flowId}/identity`, { name: ZHANG_SAN.name, id_number: ZHANG_SAN.idNumber });
  t.is(step.body.error, 'flow_expired');
  // The browser flow itself is untouched: its page still shows the identity step.
  const page = await browser.get(`/register/${flowId}`);
  t.is(page.response.status, 200);
  t.regex(page.body, /action="\/register\/[A-Za-z0-9_-]+\/identity"/);
});

test.serial('an unknown or expired flow id is refused as flow_expired', async (t) => {
  const flow = await newFlow();
  await server.deps.cache.delete(`flow:registration:${flow.id}`);
  const answer = await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber);
  t.is(answer.status, 400);
  t.is(answer.body.error, 'flow_expired');
  t.is((await call(server, 'GET', '/AAAAAAAAAAAAAAAAAAAAAAAA')).body.error, 'flow_expired');
});

test.serial('an ID number already registered is told only at completion, after the factors (already_registered)', async (t) => {
  await seedAccount(server.deps, LI_NA);
  const flow = await newFlow();
  const identity = await flow.identity(LI_NA.name, LI_NA.idNumber);
  t.is(identity.status, 200, 'the identity step does not reveal the registration');
  t.is((await verifyPhone(flow, server, LI_NA.phone)).status, 200);
  t.is((await flow.factor({ kind: 'bank_card', number: LI_NA.bankCard, reserved_phone: LI_NA.phone })).status, 200);
  await refusedUnchanged(t, flow, () => flow.complete(NEW_PASSWORD), 'already_registered', 409);
});

test.serial('two simultaneous completions for one ID number make exactly one account', async (t) => {
  const ready = async (phone: string) => {
    const flow = await newFlow();
    await flow.identity(CHEN_WEI.name, CHEN_WEI.idNumber);
    await flow.factor({ kind: 'social_security_card', number: CHEN_WEI.socialSecurity });
    await flow.factor({ kind: 'housing_fund', number: CHEN_WEI.housingFund });
    // Each flow binds its own phone, so only the ID number can collide.
    await verifyPhone(flow, server, phone);
    t.true((await flow.get()).body.ready_to_complete);
    return flow;
  };
  const flows = [await ready(CHEN_WEI.phones[0]!), await ready(CHEN_WEI.phones[1]!)];
  const before = await accountCount(server);
  const results = await Promise.all(flows.map((flow) => flow.complete(NEW_PASSWORD)));
  t.deepEqual(results.map((r) => r.status).sort(), [200, 409]);
  t.is(results.find((r) => r.status === 409)!.body.error, 'already_registered');
  t.is(await accountCount(server), before + 1);
  const row = await server.deps.accounts.byIdNumber(CHEN_WEI.idNumber);
  t.is(row?.id, results.find((r) => r.status === 200)!.body.account_id);
});

test.serial('a registry outage answers registry_unavailable (503) and the flow stays where it was', async (t) => {
  const closedPort = await freePort();
  const cut = await startServer({ REGISTRIES: 'http', REGISTRY_BASE_URL: `http://127.0.0.1:${closedPort}`, REGISTRY_TIMEOUT_MS: '1000' });
  t.teardown(() => cut.close());
  const flow = await flowOn(cut)();
  const before = await flow.get();
  const answer = await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber);
  t.is(answer.status, 503);
  t.is(answer.body.error, 'registry_unavailable');
  t.deepEqual((await flow.get()).body, before.body);
  t.is((await flow.get()).body.state, 'identity');
  // Nothing was locked or spent: the same step may simply be tried again.
  t.is((await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber)).body.error, 'registry_unavailable');
});

test.serial('an SMS gateway outage answers sms_unavailable (503), stores no code and leaves the flow as it was', async (t) => {
  const closedPort = await freePort();
  const cut = await startServer({ SMS_GATEWAY: 'http', SMS_GATEWAY_URL: `http://127.0.0.1:${closedPort}/send` });
  t.teardown(() => cut.close());
  const flow = await flowOn(cut)();
  t.is((await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber)).status, 200);
  const before = await flow.get();
  const answer = await flow.sendCode(ZHANG_SAN.phone);
  t.is(answer.status, 503);
  t.is(answer.body.error, 'sms_unavailable');
  t.deepEqual((await flow.get()).body, before.body);
  t.is((await flow.verifyCode('000000')).body.error, 'flow_step_invalid');
});

test.serial('a person without a mobile phone registers with two other factors by saying so, and signs in by ID number and password', async (t) => {
  const other = await startServer(ROOMY_SMS);
  t.teardown(() => other.close());
  const flow = await flowOn(other)();
  await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber);
  await flow.factor(SOCIAL_SECURITY);
  // A number typed but never verified: not bound, and completing needs the person's say-so.
  t.is((await flow.sendCode('13905910001')).status, 200);
  const ready = await flow.factor(HOUSING_FUND);
  t.like(ready.body, { ready_to_complete: false, ready_without_phone: true, factors_needed: 0 });
  const unsaid = await flow.complete(NEW_PASSWORD);
  t.is(unsaid.body.error, 'phone_required');

  const done = await flow.complete(NEW_PASSWORD, true, { without_phone: true });
  t.is(done.status, 200, JSON.stringify(done.body));
  const row = await other.deps.accounts.byIdNumber(ZHANG_SAN.idNumber);
  t.is(row?.phone_enc, null);
  t.is(await other.deps.accounts.byPhone('13905910001'), undefined);
  t.deepEqual((await other.deps.database.db.selectFrom('account_factors').select('kind').where('account_id', '=', row!.id).orderBy('kind').execute()).map((f) => f.kind), ['housing_fund', 'social_security_card']);
  const { tokens } = await passwordLogin(other.url, PORTAL, ZHANG_SAN.idNumber, NEW_PASSWORD);
  t.is(tokens.status, 200);
});

test.serial('the registration page offers completing without a phone once two other factors are verified, and says what that means', async (t) => {
  const other = await startServer(ROOMY_SMS);
  t.teardown(() => other.close());
  const browser = new HttpBrowser(other.url);
  const page = await browser.get('/register');
  const form = async (html: string, step: string, fields: Record<string, string>) => browser.post(`${new URL(page.url).pathname}/${step}`, { csrf: /name="csrf" value="([^"]+)"/.exec(html)![1]!, ...fields });
  let now = await form(page.body, 'identity', { name: ZHANG_SAN.name, id_number: ZHANG_SAN.idNumber });
  t.true(now.body.includes('data-phone-optional'));
  now = await form(now.body, 'factors', { kind: 'social_security_card', number: SOCIAL_SECURITY.number });
  t.false(now.body.includes('data-without-phone'), 'one factor is not enough');
  now = await form(now.body, 'factors', { kind: 'housing_fund', number: HOUSING_FUND.number });
  t.true(now.body.includes('data-without-phone'));
  t.true(now.body.includes('name="without_phone" value="yes"'));
  now = await form(now.body, 'complete', { password: NEW_PASSWORD, confirm: NEW_PASSWORD, accept_agreement: 'yes', without_phone: 'yes' });
  t.true(now.body.includes('data-registered'), now.body.slice(0, 500));
  t.is((await other.deps.accounts.byIdNumber(ZHANG_SAN.idNumber))?.phone_enc, null);
});

test.serial('a verified phone stops counting as a factor once another number is started, so without_phone cannot keep it', async (t) => {
  const flow = await newFlow();
  await flow.identity(ZHANG_SAN.name, ZHANG_SAN.idNumber);
  const verified = await verifyPhone(flow, server, ZHANG_SAN.phone);
  t.deepEqual(verified.body.verified_factors.map((f: { kind: string }) => f.kind), ['phone']);
  t.is((await flow.sendCode('13905910001')).status, 200);
  t.deepEqual((await flow.get()).body.verified_factors, [], 'the phone factor went with the verified phone');
  await flow.factor(SOCIAL_SECURITY);
  await refusedUnchanged(t, flow, () => flow.complete(NEW_PASSWORD, true, { without_phone: true }), 'factors_insufficient');
});
