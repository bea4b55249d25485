import test from 'ava';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { accountLogin, latestCode, otherCode, postForm, startAccountServer } from '../../helpers/account-centre.js';
import { ENTERPRISES, PERSONS } from '../../helpers/enterprises.js';
import { codeForm, errorCode } from '../../helpers/http-browser.js';
import type { TestServer } from '../../helpers/server.js';

let server: TestServer;
test.before(async () => {
  server = await startAccountServer();
  for (const person of [PERSONS.zhangSan, PERSONS.liNa, PERSONS.chenWei]) await seedAccount(server.deps, person);
});
test.after.always(async () => { await server?.close(); });

test.serial('in the browser: the representative registers, confirms with the code, and sees the enterprise in the account centre', async (t) => {
  const { browser } = await accountLogin(server, PERSONS.zhangSan.phone, PASSWORD);
  const list = await browser.get('/account/enterprises');
  t.is(list.response.status, 200);
  t.true(list.body.includes('action="/account/enterprises"'));

  const invalid = await postForm(browser, list.body, '/account/enterprises', { uscc: `${ENTERPRISES.fuzhouTech.uscc.slice(0, 17)}Y`, name: ENTERPRISES.fuzhouTech.name });
  t.is(invalid.response.status, 400);
  t.is(errorCode(invalid.body), 'invalid_uscc');
  // Kept as typed, the code marked and its message beside it.
  t.regex(invalid.body, /<input id="uscc" name="uscc"[^>]* value="[0-9A-Z]{17}Y" aria-invalid="true" aria-describedby="uscc-error">/);
  t.regex(invalid.body, /<p class="field-error" id="uscc-error" data-field-error="uscc">统一社会信用代码/);
  t.true(invalid.body.includes(`value="${ENTERPRISES.fuzhouTech.name}"`));

  const started = await postForm(browser, list.body, '/account/enterprises', ENTERPRISES.fuzhouTech);
  t.regex(started.url, /\/account\/enterprises\/applications\/[0-9a-f-]+\?sent=138\*{4}8000$/);
  t.true(started.body.includes('138****8000'));
  const code = await latestCode(server, PERSONS.zhangSan.phone, 'enterprise');
  const action = new URL(started.url).pathname;
  // 获取验证码 again is a button of the form that takes the code, after the button Enter presses.
  t.like(codeForm(started.body), { action: `${action}/confirm`, sendAction: `${action}/code`, takesCode: true, enterSends: false, sendChecksFields: false, wait: '60' });

  const wrong = await postForm(browser, started.body, `${action}/confirm`, { code: otherCode(code) });
  t.is(errorCode(wrong.body), 'code_invalid');
  t.regex(wrong.body, /<input id="code" name="code"[^>]*pattern="\[0-9\]\{6\}" aria-invalid="true" aria-describedby="code-error">/);
  t.regex(wrong.body, /<p class="field-error" id="code-error" data-field-error="code">验证码不正确/);
  const done = await postForm(browser, started.body, `${action}/confirm`, { code });
  t.regex(done.url, /\/account\/enterprises\/[0-9a-f-]+\?done=registered$/);
  t.true(done.body.includes(ENTERPRISES.fuzhouTech.uscc));
  t.true(done.body.includes('data-notice="enterprise.done_registered"'));

  const again = await browser.get('/account/enterprises');
  t.true(again.body.includes(`data-uscc="${ENTERPRISES.fuzhouTech.uscc}"`));
});

test.serial('in the browser: an application on someone\'s behalf is approved only by the representative', async (t) => {
  const li = await accountLogin(server, PERSONS.liNa.phone, PASSWORD);
  const list = await li.browser.get('/account/enterprises');
  const started = await postForm(li.browser, list.body, '/account/enterprises', { ...ENTERPRISES.xiamenSoftware, on_behalf: 'yes' });
  t.regex(started.url, /\?done=application_started$/);
  const action = new URL(started.url).pathname;
  // No code is out yet: asking for one is the form's only action.
  t.like(codeForm(started.body), { action: `${action}/confirm`, sendAction: `${action}/code`, takesCode: false, enterSends: true, wait: '0' });

  const zhang = await accountLogin(server, PERSONS.zhangSan.phone, PASSWORD);
  const foreign = await zhang.browser.get(action);
  t.is(errorCode(foreign.body), 'enterprise_application_not_found', 'not the applicant, not the representative: not even visible');

  const chen = await accountLogin(server, PERSONS.chenWei.phone, PASSWORD);
  const overview = await chen.browser.get('/account/enterprises');
  t.true(overview.body.includes(`href="${action}"`));
  const page = await chen.browser.get(action);
  const approved = await postForm(chen.browser, page.body, `${action}/approve`);
  t.regex(approved.url, /\?done=registered$/);
  t.true(approved.body.includes(ENTERPRISES.xiamenSoftware.uscc));

  // A forged post without the CSRF token does nothing.
  const forged = await li.browser.post(`${action}/withdraw`, {});
  t.is(forged.response.status, 403);
});
