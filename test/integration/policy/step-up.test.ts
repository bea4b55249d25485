import test from 'ava';
import { decodeJwt } from 'jose';
import { latestOutboxCode } from '../../../src/ports/sms/index.js';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { GENEROUS_SMS, makePerson, totpCode } from '../../helpers/account-centre.js';
import { HttpBrowser, errorCode, hidden } from '../../helpers/http-browser.js';
import { authorize, redirectParams, registerClient, tokensFor, withPassword, withSms } from '../../helpers/policy.js';
import { startServer, type TestServer } from '../../helpers/server.js';

let server: TestServer;
test.before(async () => { server = await startServer(GENEROUS_SMS); });
test.after.always(async () => { await server?.close(); });

test.serial('an SMS-only session steps up to a password for a client whose policy demands pwd; a later SMS login keeps it', async (t) => {
  const person = makePerson('王五');
  await seedAccount(server.deps, person);
  const open = await registerClient(server, 'open-sms');
  const pwdOnly = await registerClient(server, 'pwd-only', { login_methods: ['pwd'] });

  const first = await withSms(server, await authorize(server, new HttpBrowser(server.url), open), person.phone);
  t.truthy(redirectParams(first, open)?.get('code'));
  const { browser } = first;

  // The session (sms) is weaker than the policy: no code, silently or not.
  const silent = await authorize(server, browser, pwdOnly, { prompt: 'none' });
  t.is(redirectParams(silent, pwdOnly)?.get('error'), 'login_required');
  const stepUp = await authorize(server, browser, pwdOnly);
  t.is(redirectParams(stepUp, pwdOnly), undefined);
  t.regex(stepUp.body, /data-step-up/);
  t.regex(stepUp.body, /login\/password/);
  t.notRegex(stepUp.body, /tab=sms/);

  // An SMS login on the step-up page does not satisfy it: back to the same page, still no code.
  const wrongMethod = await withSms(server, stepUp, person.phone);
  t.is(redirectParams(wrongMethod, pwdOnly), undefined);
  t.regex(wrongMethod.body, /data-step-up/);

  const again = await authorize(server, browser, pwdOnly);
  const done = await withPassword(again, person.phone, PASSWORD);
  const tokens = await tokensFor(server, done, pwdOnly);
  t.is(tokens.status, 200);
  const claims = decodeJwt(tokens.body.id_token!);
  t.true((claims.amr as string[]).includes('pwd'));
  t.is(claims.acr, 'urn:civic-idp:loa:2');

  // A later, weaker login in the same session (prompt=login, SMS) does not take the password away.
  const relogin = await withSms(server, await authorize(server, browser, open, { prompt: 'login' }), person.phone);
  t.truthy(redirectParams(relogin, open)?.get('code'));
  const still = await authorize(server, browser, pwdOnly, { prompt: 'none' });
  t.truthy(redirectParams(still, pwdOnly)?.get('code'));
});

test.serial('a session from before the account reached level 3 steps up (not refused) and then carries loa:3', async (t) => {
  const person = makePerson('赵六');
  const accountId = await seedAccount(server.deps, person);
  const open = await registerClient(server, 'open-level');
  const levelThree = await registerClient(server, 'level-three', { min_assurance_level: 3 });

  const first = await withPassword(await authorize(server, new HttpBrowser(server.url), open), person.idNumber, PASSWORD);
  const firstTokens = await tokensFor(server, first, open);
  t.is(decodeJwt(firstTokens.body.id_token!).acr, 'urn:civic-idp:loa:2');
  const { browser } = first;

  // Verified at a counter meanwhile.
  await server.deps.accounts.update(accountId, { assurance_level: 3 });

  const silent = await authorize(server, browser, levelThree, { prompt: 'none' });
  t.is(redirectParams(silent, levelThree)?.get('error'), 'login_required');
  const stepUp = await authorize(server, browser, levelThree);
  t.regex(stepUp.body, /data-step-up/);
  const done = await withPassword(stepUp, person.idNumber, PASSWORD);
  const tokens = await tokensFor(server, done, levelThree);
  t.is(tokens.status, 200);
  t.is(decodeJwt(tokens.body.id_token!).acr, 'urn:civic-idp:loa:3');

  // Other clients now see the stronger session too.
  const other = await authorize(server, browser, open, { prompt: 'none' });
  t.is(decodeJwt((await tokensFor(server, other, open)).body.id_token!).acr, 'urn:civic-idp:loa:3');
});

test.serial('a client demanding two-step verification: refused with what to do when the account has none, a TOTP step-up when it has', async (t) => {
  const person = makePerson('孙七');
  const accountId = await seedAccount(server.deps, person);
  const mfa = await registerClient(server, 'needs-mfa', { login_methods: ['mfa'] });
  const open = await registerClient(server, 'open-mfa');

  const first = await withPassword(await authorize(server, new HttpBrowser(server.url), open), person.idNumber, PASSWORD);
  const { browser } = first;
  const refused = await authorize(server, browser, mfa);
  t.is(errorCode(refused.body), 'policy_login_method');
  t.regex(refused.body, /开启两步验证/);

  const pending = await server.deps.totpEnrolment.start(accountId);
  await server.deps.totpEnrolment.confirm(accountId, { code: await totpCode(pending.secret) }, {});

  const stepUp = await authorize(server, browser, mfa);
  t.regex(stepUp.body, /data-step-up/);
  const totpPage = await withPassword(stepUp, person.idNumber, PASSWORD);
  t.regex(totpPage.body, /login\/totp/);
  const done = await browser.post(`/interaction/${stepUp.uid}/login/totp`, { csrf: hidden(totpPage.body, 'csrf'), code: await totpCode(pending.secret, 1) });
  const tokens = await tokensFor(server, { url: done.url, verifier: stepUp.verifier }, mfa);
  t.is(tokens.status, 200);
  t.true((decodeJwt(tokens.body.id_token!).amr as string[]).includes('mfa'));
});

test.serial('a step-up does not ask the signed-in person to type their ID number or phone again: the account gives them, shown masked', async (t) => {
  const person = makePerson('孙七');
  await seedAccount(server.deps, person);
  const stranger = makePerson('周八');
  await seedAccount(server.deps, stranger, { password: 'Other-Person-Pass-99' });
  const open = await registerClient(server, 'open-retype');
  const pwdOnly = await registerClient(server, 'pwd-retype', { login_methods: ['pwd'] });
  const smsOnly = await registerClient(server, 'sms-retype', { login_methods: ['sms'] });

  const first = await withSms(server, await authorize(server, new HttpBrowser(server.url), open), person.phone);
  const { browser } = first;
  const stepUp = await authorize(server, browser, pwdOnly);
  t.regex(stepUp.body, /data-step-up-account/);
  t.false(stepUp.body.includes('name="identifier"'), 'no identifier field');
  t.false(stepUp.body.includes(person.idNumber), 'the ID number is shown masked only');
  // A typed identifier counts for nothing in a step-up: it is the signed-in account's password that is asked for.
  const asOther = await browser.post(`/interaction/${stepUp.uid}/login/password`, { csrf: hidden(stepUp.body, 'csrf'), identifier: stranger.idNumber, password: 'Other-Person-Pass-99' });
  t.is(errorCode(asOther.body), 'login_failed');
  const done = await browser.post(`/interaction/${stepUp.uid}/login/password`, { csrf: hidden(stepUp.body, 'csrf'), password: PASSWORD });
  const tokens = await tokensFor(server, { ...stepUp, url: done.url }, pwdOnly);
  t.is(tokens.status, 200, done.url);
  t.true((decodeJwt(tokens.body.id_token!).amr as string[]).includes('pwd'));

  // A password session steps up to SMS: the code goes to the bound phone, nothing typed.
  const pwdFirst = await withPassword(await authorize(server, new HttpBrowser(server.url), open), stranger.idNumber, 'Other-Person-Pass-99');
  const smsStepUp = await authorize(server, pwdFirst.browser, smsOnly);
  t.regex(smsStepUp.body, /data-step-up-phone/);
  t.false(smsStepUp.body.includes('name="phone"'), 'no phone field');
  const csrf = hidden(smsStepUp.body, 'csrf');
  await pwdFirst.browser.post(`/interaction/${smsStepUp.uid}/login/sms/send`, { csrf });
  const code = await latestOutboxCode(server.deps.config.sms.kind === 'outbox' ? server.deps.config.sms.file : '', stranger.phone, 'login');
  const smsDone = await pwdFirst.browser.post(`/interaction/${smsStepUp.uid}/login/sms`, { csrf, code: code ?? '' });
  t.is((await tokensFor(server, { ...smsStepUp, url: smsDone.url }, smsOnly)).status, 200);
});
