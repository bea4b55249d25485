import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { GENEROUS_SMS, latestCode, otherCode, totpCode } from '../../helpers/account-centre.js';
import { ENTERPRISES, PERSONS, auditOf, citizen, registerAsRepresentative, type Api } from '../../helpers/enterprises.js';
import { errorCode, hidden } from '../../helpers/http-browser.js';
import { loginDelayOver, solvedCaptcha } from '../../helpers/login-limits.js';
import { APP, PORTAL, beginAuthorization, codeFrom, exchangeCode } from '../../helpers/oidc.js';
import { registerClient } from '../../helpers/policy.js';
import { startServer, type TestServer } from '../../helpers/server.js';

const ENTERPRISE_PASSWORD = 'Enterprise-Pass-2026';

/** The shipped clients, with enterprise-account login allowed for the portal only. */
function clientsFile(dir: string): string {
  const clients = JSON.parse(readFileSync('config/clients.json', 'utf8')) as Array<{ client_id: string; access_policy?: Record<string, unknown> }>;
  for (const client of clients) {
    if (client.client_id === 'portal') client.access_policy = { ...client.access_policy, enterprise_account_login: true };
  }
  const file = join(dir, 'clients.json');
  writeFileSync(file, JSON.stringify(clients));
  return file;
}

let scratch: string;
let server: TestServer;
let zhang: { id: string; api: Api };
let enterpriseId: string;

test.before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'civic-idp-clients-'));
  server = await startServer({ ...GENEROUS_SMS, ENTERPRISE_ACCOUNT_LOGIN: 'on', CLIENTS_FILE: clientsFile(scratch) });
  zhang = await citizen(server, PERSONS.zhangSan);
  enterpriseId = await registerAsRepresentative(server, zhang.api, ENTERPRISES.fuzhouTech, PERSONS.zhangSan.phone);
});
test.after.always(async () => {
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

test.serial('the representative sets the enterprise password with a code to their own phone; anyone else cannot', async (t) => {
  const noCode = await zhang.api('POST', `/enterprises/${enterpriseId}/password`, { password: ENTERPRISE_PASSWORD, code: '000000' });
  t.is(noCode.status, 400);
  t.is(noCode.body.error, 'code_invalid');
  const li = await citizen(server, PERSONS.liNa);
  const notMine = await li.api('POST', `/enterprises/${enterpriseId}/password`, { password: ENTERPRISE_PASSWORD, code: '000000' });
  t.is(notMine.status, 403);
  t.is(notMine.body.error, 'enterprise_not_representative');

  await zhang.api('POST', '/account/codes', { operation: 'enterprise_password' });
  const code = await latestCode(server, PERSONS.zhangSan.phone, 'verify');
  const weak = await zhang.api('POST', `/enterprises/${enterpriseId}/password`, { password: 'short', code });
  t.is(weak.body.error, 'weak_password');
  const set = await zhang.api('POST', `/enterprises/${enterpriseId}/password`, { password: ENTERPRISE_PASSWORD, code });
  t.is(set.status, 204);
  t.true((await zhang.api('GET', `/enterprises/${enterpriseId}`)).body.enterprise_password_set);
  t.true((await auditOf(server, enterpriseId)).includes('enterprise.password.set:success'));
});

test.serial('a client that does not allow it offers no enterprise login, and its page refuses', async (t) => {
  const app = await beginAuthorization(server.url, APP);
  t.false(app.page.includes('data-enterprise-login'));
  const page = await app.browser.get(`/interaction/${app.uid}/enterprise`);
  t.is(page.response.status, 403);
  t.is(errorCode(page.body), 'enterprise_login_disabled');
  const post = await app.browser.post(`/interaction/${app.uid}/enterprise/password`, { csrf: app.csrf, uscc: ENTERPRISES.fuzhouTech.uscc, password: ENTERPRISE_PASSWORD });
  t.is(post.response.status, 403);
});

test.serial('USCC + enterprise password + SMS to the representative\'s phone logs the representative in, acting as the enterprise', async (t) => {
  const auth = await beginAuthorization(server.url, PORTAL);
  t.true(auth.page.includes(`/interaction/${auth.uid}/enterprise`));
  const page = await auth.browser.get(`/interaction/${auth.uid}/enterprise`);
  t.is(page.response.status, 200);
  const csrf = hidden(page.body, 'csrf');

  const badCode = await auth.browser.post(`/interaction/${auth.uid}/enterprise/password`, { csrf, uscc: `${ENTERPRISES.fuzhouTech.uscc.slice(0, 17)}Y`, password: ENTERPRISE_PASSWORD });
  t.is(errorCode(badCode.body), 'invalid_uscc');
  const wrong = await auth.browser.post(`/interaction/${auth.uid}/enterprise/password`, { csrf, uscc: ENTERPRISES.fuzhouTech.uscc, password: 'Not-The-Password-1' });
  t.is(wrong.response.status, 401);
  t.is(errorCode(wrong.body), 'enterprise_login_failed');
  const unknown = await auth.browser.post(`/interaction/${auth.uid}/enterprise/password`, { csrf, uscc: ENTERPRISES.logistics.uscc, password: ENTERPRISE_PASSWORD });
  t.is(errorCode(unknown.body), 'enterprise_login_failed', 'an enterprise without an account looks the same');
  t.true((await auditOf(server, enterpriseId)).includes('enterprise.login:failure'));

  const right = await auth.browser.post(`/interaction/${auth.uid}/enterprise/password`, { csrf, uscc: ENTERPRISES.fuzhouTech.uscc, password: ENTERPRISE_PASSWORD });
  t.is(right.response.status, 200);
  t.true(right.body.includes(`/interaction/${auth.uid}/enterprise/code`));
  const code = await latestCode(server, PERSONS.zhangSan.phone, 'login');

  const wrongCode = await auth.browser.post(`/interaction/${auth.uid}/enterprise/code`, { csrf, code: otherCode(code) });
  t.is(errorCode(wrongCode.body), 'code_invalid');

  const done = await auth.browser.post(`/interaction/${auth.uid}/enterprise/code`, { csrf, code });
  const tokens = await exchangeCode(server.url, PORTAL, codeFrom(done.url, auth.state), auth.verifier);
  t.is(tokens.status, 200);
  const claims = JSON.parse(Buffer.from(tokens.body.id_token!.split('.')[1]!, 'base64url').toString()) as Record<string, any>;
  t.is(claims.sub, zhang.id, 'the login is the representative\'s own account');
  t.deepEqual(claims.amr, ['pwd', 'sms']);
  t.is(claims.entity_type, 'legal', 'acting as the enterprise, without a second choice');
  t.like(claims.org, { uscc: ENTERPRISES.fuzhouTech.uscc });
  t.like(claims.authority, { role: 'legal_representative', level: 0 });
  t.true((await auditOf(server, enterpriseId)).includes('enterprise.login:success'));
});

test.serial('a client only for legal persons takes the enterprise-account login, which acts for the enterprise', async (t) => {
  const legalOnly = await registerClient(server, 'legal-only-counter', { entity_types: ['legal'], enterprise_account_login: true, service_items: [{ code: 'filing.annual', name: '企业年报' }] });
  const auth = await beginAuthorization(server.url, legalOnly, { scope: 'openid' });
  const page = await auth.browser.get(`/interaction/${auth.uid}/enterprise`);
  const csrf = hidden(page.body, 'csrf');
  await auth.browser.post(`/interaction/${auth.uid}/enterprise/password`, { csrf, uscc: ENTERPRISES.fuzhouTech.uscc, password: ENTERPRISE_PASSWORD });
  const done = await auth.browser.post(`/interaction/${auth.uid}/enterprise/code`, { csrf, code: await latestCode(server, PERSONS.zhangSan.phone, 'login') });
  t.true(done.url.startsWith(legalOnly.redirect_uri), `not refused as a natural person: ${done.url}`);
  const tokens = await exchangeCode(server.url, legalOnly, codeFrom(done.url, auth.state), auth.verifier);
  const claims = JSON.parse(Buffer.from(tokens.body.id_token!.split('.')[1]!, 'base64url').toString()) as Record<string, any>;
  t.is(claims.entity_type, 'legal');
  t.like(claims.authority, { role: 'legal_representative', level: 0, service_items: ['filing.annual'] });
});

test.serial('the code step cannot be reached without the password step', async (t) => {
  const auth = await beginAuthorization(server.url, PORTAL);
  const page = await auth.browser.get(`/interaction/${auth.uid}/enterprise`);
  const skip = await auth.browser.post(`/interaction/${auth.uid}/enterprise/code`, { csrf: hidden(page.body, 'csrf'), code: '123456' });
  t.is(errorCode(skip.body), 'login_state_invalid');
});

/** Enterprise password and the code to the representative's phone, in a new portal login. */
async function enterpriseFirstFactor() {
  const auth = await beginAuthorization(server.url, PORTAL);
  const page = await auth.browser.get(`/interaction/${auth.uid}/enterprise`);
  const csrf = hidden(page.body, 'csrf');
  await auth.browser.post(`/interaction/${auth.uid}/enterprise/password`, { csrf, uscc: ENTERPRISES.fuzhouTech.uscc, password: ENTERPRISE_PASSWORD });
  const next = await auth.browser.post(`/interaction/${auth.uid}/enterprise/code`, { csrf, code: await latestCode(server, PERSONS.zhangSan.phone, 'login') });
  return { auth, next };
}

test.serial('the representative\'s own second factor follows the enterprise password and code, then the login acts for the enterprise', async (t) => {
  const enrol = await zhang.api('POST', '/account/totp');
  const secret = enrol.body.secret as string;
  t.is((await zhang.api('POST', '/account/totp/confirm', { code: await totpCode(secret) })).status, 200);
  try {
    const { auth, next } = await enterpriseFirstFactor();
    t.false(next.url.startsWith(PORTAL.redirect_uri), 'no code before the second factor');
    t.true(next.body.includes(`/interaction/${auth.uid}/login/totp`));
    const done = await auth.browser.post(`/interaction/${auth.uid}/login/totp`, { csrf: hidden(next.body, 'csrf'), code: await totpCode(secret, 1) });
    const tokens = await exchangeCode(server.url, PORTAL, codeFrom(done.url, auth.state), auth.verifier);
    t.is(tokens.status, 200);
    const claims = JSON.parse(Buffer.from(tokens.body.id_token!.split('.')[1]!, 'base64url').toString()) as Record<string, any>;
    t.deepEqual(claims.amr, ['pwd', 'sms', 'otp', 'mfa']);
    t.is(claims.entity_type, 'legal');
    t.like(claims.org, { uscc: ENTERPRISES.fuzhouTech.uscc });
  } finally {
    await server.deps.database.db.updateTable('accounts').set({ totp_enabled_at: null, totp_secret_enc: null }).where('id', '=', zhang.id).execute();
  }
});

test.serial('a representative whose password staff reset must change it before an enterprise login completes', async (t) => {
  await server.deps.database.db.updateTable('accounts').set({ password_must_change: true }).where('id', '=', zhang.id).execute();
  try {
    const { auth, next } = await enterpriseFirstFactor();
    t.false(next.url.startsWith(PORTAL.redirect_uri));
    t.true(next.body.includes(`/interaction/${auth.uid}/login/password-change`));
    const password = 'Harbour-Kettle-Meadow-91';
    const done = await auth.browser.post(`/interaction/${auth.uid}/login/password-change`, { csrf: hidden(next.body, 'csrf'), password, confirm: password });
    t.true(done.url.startsWith(PORTAL.redirect_uri), done.url);
    const tokens = await exchangeCode(server.url, PORTAL, codeFrom(done.url, auth.state), auth.verifier);
    const claims = JSON.parse(Buffer.from(tokens.body.id_token!.split('.')[1]!, 'base64url').toString()) as Record<string, any>;
    t.is(claims.entity_type, 'legal');
  } finally {
    await server.deps.database.db.updateTable('accounts').set({ password_must_change: false }).where('id', '=', zhang.id).execute();
  }
});

test('with ENTERPRISE_ACCOUNT_LOGIN off (the default) no client offers it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'civic-idp-clients-'));
  const off = await startServer({ CLIENTS_FILE: clientsFile(dir) });
  try {
    t.false(off.deps.config.enterpriseAccountLogin);
    const auth = await beginAuthorization(off.url, PORTAL);
    t.false(auth.page.includes('data-enterprise-login'));
    const page = await auth.browser.get(`/interaction/${auth.uid}/enterprise`);
    t.is(page.response.status, 403);
    t.is(errorCode(page.body), 'enterprise_login_disabled');
  } finally {
    await off.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('thirty wrong enterprise passwords at once meet the captcha, not the lock; one captcha then serves the password and the code it sends', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'civic-idp-clients-'));
  // The shipped login limits; the address has a captcha-free allowance of two codes, which setting up the enterprise uses.
  const guarded = await startServer({ ENTERPRISE_ACCOUNT_LOGIN: 'on', CLIENTS_FILE: clientsFile(dir), CAPTCHA_AFTER_SENDS_PER_IP: '2' });
  try {
    const representative = await citizen(guarded, PERSONS.zhangSan);
    const id = await registerAsRepresentative(guarded, representative.api, ENTERPRISES.fuzhouTech, PERSONS.zhangSan.phone);
    await representative.api('POST', '/account/codes', { operation: 'enterprise_password' });
    t.is((await representative.api('POST', `/enterprises/${id}/password`, { password: ENTERPRISE_PASSWORD, code: await latestCode(guarded, PERSONS.zhangSan.phone, 'verify') })).status, 204);

    const { captchaAfterFailures } = guarded.deps.config.loginPolicy;
    const attempts = await Promise.all(Array.from({ length: 30 }, async () => {
      const auth = await beginAuthorization(guarded.url, PORTAL);
      const page = (await auth.browser.get(`/interaction/${auth.uid}/enterprise`)).body;
      return { auth, csrf: hidden(page, 'csrf'), page };
    }));
    t.regex(attempts[0]!.page, /name="captcha_answer"/, 'the code this address sends next needs a captcha');
    const answers = await Promise.all(attempts.map(({ auth, csrf }) => auth.browser.post(`/interaction/${auth.uid}/enterprise/password`, { csrf, uscc: ENTERPRISES.fuzhouTech.uscc, password: 'Not-The-Password-1' })));
    const codes = answers.map((answer) => errorCode(answer.body));
    const judged = (await auditOf(guarded, id)).filter((entry) => entry === 'enterprise.login:failure').length;
    t.true(judged >= 1 && judged <= captchaAfterFailures, `${judged} judged`);
    t.is(codes.filter((code) => code === 'enterprise_login_failed').length, judged, codes.join());
    t.is(codes.filter((code) => code === 'captcha_required').length, 30 - judged, codes.join());

    // The refusal shows the captcha; solved once, it lets the right password through and the code go out.
    const refused = codes.indexOf('captcha_required');
    t.regex(answers[refused]!.body, /name="captcha_answer"/);
    await loginDelayOver(guarded, `enterprise:${ENTERPRISES.fuzhouTech.uscc}`);
    const { auth, csrf } = attempts[refused]!;
    const right = await auth.browser.post(`/interaction/${auth.uid}/enterprise/password`, {
      csrf, uscc: ENTERPRISES.fuzhouTech.uscc, password: ENTERPRISE_PASSWORD, ...await solvedCaptcha(guarded, answers[refused]!.body),
    });
    t.true(right.body.includes(`/interaction/${auth.uid}/enterprise/code`), `on to the code: ${errorCode(right.body)}`);
    t.truthy(await latestCode(guarded, PERSONS.zhangSan.phone, 'login'));
  } finally {
    await guarded.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
