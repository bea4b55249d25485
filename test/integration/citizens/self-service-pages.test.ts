import test from 'ava';
import { accountLogin, GENEROUS_SMS, latestCode, makePerson, otherCode, postForm } from '../../helpers/account-centre.js';
import { PASSWORD, seedAccount, ZHANG_SAN } from '../../helpers/accounts.js';
import { LIN_JIANHUA } from '../../helpers/delegation.js';
import { codeForm, control, errorCode, fieldError, hidden, HttpBrowser } from '../../helpers/http-browser.js';
import { startServer, type TestServer } from '../../helpers/server.js';

/**
 * The self-service forms in the browser (registration, recovery, changing the bound phone),
 * through HTTP: a refused step comes back with what was typed (never a password or a code)
 * and its message beside the field it is about.
 */

let server: TestServer;
test.before(async () => {
  server = await startServer({ ...GENEROUS_SMS, REALNAME_FAILURES_PER_IP_PER_HOUR: '1000', REALNAME_FAILURES_PER_ID_PER_DAY: '1000', REALNAME_CAPTCHA_AFTER_FAILURES: '1000' });
});
test.after.always(async () => { await server?.close(); });

/** The end page's next step, a link styled as the page's primary action: its address, kind and text. */
const nextStep = (html: string) => /<a class="button" href="([^"]+)" data-next="([a-z]+)">([^<]+)<\/a>/.exec(html)?.slice(1) ?? [];

const MARKED = (field: string) => new RegExp(`aria-invalid="true" aria-describedby="${field}-error"`);

/** A flow page's step poster: the step's path under the page, with the page's CSRF token. */
function stepsOf(browser: HttpBrowser, pageUrl: string) {
  const path = new URL(pageUrl).pathname;
  return (html: string, step: string, fields: Record<string, string>) => browser.post(`${path}/${step}`, { csrf: hidden(html, 'csrf'), ...fields });
}

// The registration tests share 张三 of the registry fixtures (his codes, his registration): one at a time.
test.serial('registration: a refused code, factor or password keeps what was typed, never the secrets, and names its field', async (t) => {
  const browser = new HttpBrowser(server.url);
  const page = await browser.get('/register');
  const post = stepsOf(browser, page.url);
  let now = await post(page.body, 'identity', { name: ZHANG_SAN.name, id_number: ZHANG_SAN.idNumber });
  now = await post(now.body, 'phone/code', { phone: ZHANG_SAN.phone });
  const code = await latestCode(server, ZHANG_SAN.phone, 'register');

  const wrongCode = await post(now.body, 'phone/verify', { code: otherCode(code) });
  t.is(errorCode(wrongCode.body), 'code_invalid');
  t.regex(control(wrongCode.body, 'code'), MARKED('code'));
  t.notRegex(control(wrongCode.body, 'code'), /value=/, 'a code is never echoed');
  t.regex(fieldError(wrongCode.body, 'code') ?? '', /验证码不正确/);
  now = await post(wrongCode.body, 'phone/verify', { code });

  const wrongFactor = await post(now.body, 'factors', { kind: 'housing_fund', number: '1100000099999' });
  t.is(errorCode(wrongFactor.body), 'factor_mismatch');
  t.regex(control(wrongFactor.body, 'number'), /value="1100000099999"/);
  t.regex(control(wrongFactor.body, 'number'), MARKED('number'));
  t.regex(wrongFactor.body, /<option value="housing_fund" selected>/);
  t.truthy(fieldError(wrongFactor.body, 'number'));
  const badReserved = await post(now.body, 'factors', { kind: 'bank_card', number: '6222020200112233445', reserved_phone: '12345' });
  t.is(errorCode(badReserved.body), 'invalid_phone');
  t.regex(control(badReserved.body, 'reserved_phone'), /value="12345" aria-invalid="true"/);
  t.truthy(fieldError(badReserved.body, 'reserved_phone'));
  now = await post(now.body, 'factors', { kind: 'housing_fund', number: '1100000012345' });

  const weak = await post(now.body, 'complete', { password: '12345678', confirm: '12345678', accept_agreement: 'yes' });
  t.is(errorCode(weak.body), 'weak_password');
  t.regex(control(weak.body, 'password'), MARKED('password'));
  t.notRegex(control(weak.body, 'password'), /value=/);
  t.truthy(fieldError(weak.body, 'password'));
  t.regex(weak.body, /name="accept_agreement" value="yes" required checked>/, 'the agreement stays ticked');
  const unticked = await post(now.body, 'complete', { password: 'Lantern-Harbour-73', confirm: 'Lantern-Harbour-73' });
  t.is(errorCode(unticked.body), 'agreement_required');
  t.regex(unticked.body, /name="accept_agreement" value="yes" required aria-invalid="true" aria-describedby="accept_agreement-error">/);
  t.truthy(fieldError(unticked.body, 'accept_agreement'));
});

test('recovery: a refused identity, code or password keeps the name and ID number, never the secrets, and names its field', async (t) => {
  const person = makePerson('周全');
  await seedAccount(server.deps, person);
  const browser = new HttpBrowser(server.url);
  const page = await browser.get('/recovery');
  const post = stepsOf(browser, page.url);

  const badId = `${person.idNumber.slice(0, 17)}${person.idNumber.endsWith('0') ? '1' : '0'}`;
  const refused = await post(page.body, 'identity', { name: person.name, id_number: badId });
  t.is(errorCode(refused.body), 'invalid_id_number');
  t.regex(control(refused.body, 'name'), new RegExp(`value="${person.name}"`));
  t.regex(control(refused.body, 'id_number'), new RegExp(`value="${badId}" ${MARKED('id_number').source}`));
  t.truthy(fieldError(refused.body, 'id_number'));

  const sent = await post(refused.body, 'identity', { name: person.name, id_number: person.idNumber });
  const code = await latestCode(server, person.phone, 'reset');
  const wrong = await post(sent.body, 'code', { code: otherCode(code) });
  t.is(errorCode(wrong.body), 'code_invalid');
  t.regex(control(wrong.body, 'code'), MARKED('code'));
  t.notRegex(control(wrong.body, 'code'), /value=/);
  t.truthy(fieldError(wrong.body, 'code'));

  const coded = await post(wrong.body, 'code', { code });
  const weak = await post(coded.body, 'password', { password: '12345678', confirm: '12345678' });
  t.is(errorCode(weak.body), 'weak_password');
  t.regex(control(weak.body, 'password'), MARKED('password'));
  t.truthy(fieldError(weak.body, 'password'));
  const mismatch = await post(coded.body, 'password', { password: 'Lantern-Harbour-73', confirm: 'Lantern-Harbour-74' });
  t.regex(control(mismatch.body, 'confirm'), MARKED('confirm'));
  t.truthy(fieldError(mismatch.body, 'confirm'));
  for (const id of ['password', 'confirm']) t.notRegex(control(mismatch.body, id), /value=/, 'passwords are never echoed');
});

test('changing the phone: a refused identity, factor, new number or code keeps what was typed and names its field', async (t) => {
  await seedAccount(server.deps, LIN_JIANHUA);
  const { browser } = await accountLogin(server, LIN_JIANHUA.idNumber, PASSWORD);
  const choose = await browser.get('/account/phone');
  const byIdentity = await postForm(browser, choose.body, '/account/phone', { path: 'identity' });
  const flowPath = new URL(byIdentity.url).pathname;

  const badId = `${LIN_JIANHUA.idNumber.slice(0, 17)}0`;
  const refused = await postForm(browser, byIdentity.body, `${flowPath}/identity`, { name: LIN_JIANHUA.name, id_number: badId });
  t.is(errorCode(refused.body), 'invalid_id_number');
  t.regex(control(refused.body, 'name'), new RegExp(`value="${LIN_JIANHUA.name}"`));
  t.regex(control(refused.body, 'id_number'), new RegExp(`value="${badId}" ${MARKED('id_number').source}`));
  t.truthy(fieldError(refused.body, 'id_number'));

  const factors = await postForm(browser, refused.body, `${flowPath}/identity`, { name: LIN_JIANHUA.name, id_number: LIN_JIANHUA.idNumber });
  t.regex(factors.body, /data-flow-state="factors"/);
  const wrongFactor = await postForm(browser, factors.body, `${flowPath}/factors`, { kind: 'driving_licence', number: '350100999999' });
  t.is(errorCode(wrongFactor.body), 'factor_mismatch');
  t.regex(wrongFactor.body, /<option value="driving_licence" selected>/);
  t.regex(control(wrongFactor.body, 'number'), new RegExp(`value="350100999999" ${MARKED('number').source}`));
  t.truthy(fieldError(wrongFactor.body, 'number'));

  // The other path, by the old phone, to the new number's step.
  const byOld = await postForm(browser, choose.body, '/account/phone', { path: 'old_phone' });
  const oldPath = new URL(byOld.url).pathname;
  await postForm(browser, byOld.body, `${oldPath}/old/code`);
  const oldCode = await latestCode(server, LIN_JIANHUA.phone, 'rebind-old');
  const wrongOld = await postForm(browser, byOld.body, `${oldPath}/old/verify`, { code: otherCode(oldCode) });
  t.is(errorCode(wrongOld.body), 'code_invalid');
  t.regex(control(wrongOld.body, 'code'), MARKED('code'));
  t.truthy(fieldError(wrongOld.body, 'code'));
  const newStep = await postForm(browser, byOld.body, `${oldPath}/old/verify`, { code: oldCode });
  t.regex(newStep.body, /data-flow-state="new_code"/);
  const unchanged = await postForm(browser, newStep.body, `${oldPath}/new/code`, { phone: LIN_JIANHUA.phone });
  t.is(errorCode(unchanged.body), 'phone_unchanged');
  t.regex(control(unchanged.body, 'phone'), new RegExp(`value="${LIN_JIANHUA.phone}" ${MARKED('phone').source}`));
  t.truthy(fieldError(unchanged.body, 'phone'));
});

test.serial('registration: 获取验证码 is a button of the form that takes the code; asking keeps the number, and Enter then checks the code', async (t) => {
  const person = { ...ZHANG_SAN };
  const browser = new HttpBrowser(server.url);
  const page = await browser.get('/register');
  const path = new URL(page.url).pathname;
  const post = stepsOf(browser, page.url);
  const factors = await post(page.body, 'identity', { name: person.name, id_number: person.idNumber });
  // Before any code: asking is the form's only action, and it checks the number is there.
  t.like(codeForm(factors.body), { action: `${path}/phone/verify`, sendAction: `${path}/phone/code`, takesCode: false, enterSends: true, sendChecksFields: true, wait: '0' });

  // The button posts the whole form to the sending step, which shows the same form again.
  const asked = await browser.request(`${path}/phone/code`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf: hidden(factors.body, 'csrf'), phone: person.phone, code: '' }) });
  t.is(asked.status, 200, 'shown in place: a redirect would lose what was typed');
  const sent = await asked.text();
  t.regex(control(sent, 'phone'), new RegExp(`value="${person.phone}"`));
  t.like(codeForm(sent), { action: `${path}/phone/verify`, sendAction: `${path}/phone/code`, takesCode: true, enterSends: false, sendChecksFields: false, wait: '60' });
  t.notRegex(control(sent, 'phone'), /required/, 'the number is known now: checking the code does not need it');

  const verified = await post(sent, 'phone/verify', { phone: person.phone, code: await latestCode(server, person.phone, 'register') });
  t.regex(verified.body, /data-phone-verified/);
});

test('recovery: the code form asks again from inside, counting down from each code sent', async (t) => {
  const person = makePerson('卫二');
  await seedAccount(server.deps, person);
  const browser = new HttpBrowser(server.url);
  const page = await browser.get('/recovery');
  const path = new URL(page.url).pathname;
  const post = stepsOf(browser, page.url);
  const sent = await post(page.body, 'identity', { name: person.name, id_number: person.idNumber });
  t.like(codeForm(sent.body), { action: `${path}/code`, sendAction: `${path}/code/resend`, takesCode: true, enterSends: false, sendChecksFields: false, wait: '60' });
  t.notRegex(sent.body, /data-code-resent/);
  const again = await post(sent.body, 'code/resend', { code: '' });
  t.regex(again.body, /data-code-resent/);
  t.is(codeForm(again.body).wait, '60');
  // Opened again later, the page does not count down from a send it did not see.
  t.is(codeForm((await browser.get(path)).body).wait, '0');
  const done = await post(again.body, 'code', { code: await latestCode(server, person.phone, 'reset') });
  t.regex(done.body, /data-recovery-state="password"/);
});

test('changing the phone: each code is asked for from inside the form that takes it, and asking keeps the new number typed', async (t) => {
  const person = makePerson('蒋三');
  await seedAccount(server.deps, person);
  const { browser } = await accountLogin(server, person.phone, PASSWORD);
  const choose = await browser.get('/account/phone');
  const flow = await postForm(browser, choose.body, '/account/phone', { path: 'old_phone' });
  const path = new URL(flow.url).pathname;
  t.like(codeForm(flow.body), { action: `${path}/old/verify`, sendAction: `${path}/old/code`, takesCode: false, enterSends: true });
  const oldSent = await postForm(browser, flow.body, `${path}/old/code`, { code: '' });
  t.like(codeForm(oldSent.body), { action: `${path}/old/verify`, sendAction: `${path}/old/code`, takesCode: true, enterSends: false, sendChecksFields: false, wait: '60' });
  const newStep = await postForm(browser, oldSent.body, `${path}/old/verify`, { code: await latestCode(server, person.phone, 'rebind-old') });
  t.like(codeForm(newStep.body), { action: `${path}/new/verify`, sendAction: `${path}/new/code`, takesCode: false, enterSends: true, sendChecksFields: true });

  const newPhone = makePerson().phone;
  const asked = await browser.request(`${path}/new/code`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf: hidden(newStep.body, 'csrf'), phone: newPhone, code: '' }) });
  t.is(asked.status, 200);
  const newSent = await asked.text();
  t.regex(control(newSent, 'phone'), new RegExp(`value="${newPhone}"`));
  t.like(codeForm(newSent), { takesCode: true, enterSends: false, wait: '60' });
  const done = await postForm(browser, newSent, `${path}/new/verify`, { phone: newPhone, code: await latestCode(server, newPhone, 'rebind-new') });
  t.regex(done.body, /data-phone-changed/);
  t.deepEqual(nextStep(done.body), ['/account', 'account', '返回个人中心']);
});

test.serial('registration and recovery end with a primary button: back to the sign-in that sent the person there, or else to sign in', async (t) => {
  // Two people of the registry fixtures, each with two document factors (no phone: no SMS needed).
  const runs = [
    { returnTo: undefined, person: { idNumber: '350203199207210138', name: '陈伟' }, factors: [['social_security_card', 'D06512348'], ['housing_fund', '3502000087654321']] },
    { returnTo: '/interaction/selfServiceUid1', person: ZHANG_SAN, factors: [['social_security_card', '110105194912310021'], ['housing_fund', '1100000012345']] },
  ];
  for (const { returnTo, person, factors } of runs) {
    const browser = new HttpBrowser(server.url);
    const page = await browser.get(`/register${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`);
    const path = new URL(page.url).pathname;
    const post = (html: string, step: string, fields: Record<string, string>) => browser.post(`${path}/${step}${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`, { csrf: hidden(html, 'csrf'), ...fields });
    let now = await post(page.body, 'identity', { name: person.name, id_number: person.idNumber });
    for (const [kind, number] of factors) now = await post(now.body, 'factors', { kind: kind!, number: number! });
    const done = await post(now.body, 'complete', { password: 'Lantern-Harbour-73', confirm: 'Lantern-Harbour-73', accept_agreement: 'yes', without_phone: 'yes' });
    t.regex(done.body, /data-registered/);
    t.deepEqual(nextStep(done.body), returnTo ? [returnTo, 'login', '返回登录'] : ['/account', 'login', '立即登录']);
  }

  const recovering = makePerson('韩五');
  await seedAccount(server.deps, recovering);
  const browser = new HttpBrowser(server.url);
  const page = await browser.get('/recovery');
  const post = stepsOf(browser, page.url);
  const sent = await post(page.body, 'identity', { name: recovering.name, id_number: recovering.idNumber });
  const coded = await post(sent.body, 'code', { code: await latestCode(server, recovering.phone, 'reset') });
  const done = await post(coded.body, 'password', { password: 'Lantern-Harbour-73', confirm: 'Lantern-Harbour-73' });
  t.regex(done.body, /data-recovered/);
  t.deepEqual(nextStep(done.body), ['/account', 'login', '立即登录'], 'opened directly, recovery still ends with a way on');
  const signIn = await browser.get(nextStep(done.body)[0]!);
  t.regex(signIn.url, /\/interaction\/[A-Za-z0-9_-]+$/, 'the button leads to the sign-in page');
});
