import test from 'ava';
import { accountLogin, makePerson } from '../../helpers/account-centre.js';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { seedEnterprise } from '../../helpers/delegation.js';
import { control, errorCode, fieldError, hidden } from '../../helpers/http-browser.js';
import { startServer, type TestServer } from '../../helpers/server.js';

let server: TestServer;
test.before(async () => { server = await startServer(); });
test.after.always(async () => { await server?.close(); });

/** yyyy-mm-dd, n days from now. */
const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

/** A representative of a new enterprise and another citizen; the representative signed in, on the delegations page. */
async function representativeAndOther(repName: string, otherName: string) {
  const rep = makePerson(repName);
  const repId = await seedAccount(server.deps, rep);
  const other = makePerson(otherName);
  await seedAccount(server.deps, other);
  const enterprise = await seedEnterprise(server, { accountId: repId, idNumber: rep.idNumber });
  const { browser } = await accountLogin(server, rep.phone, PASSWORD);
  return { rep, other, enterprise, browser, page: await browser.get('/account/delegations') };
}

test('the representative grants, views and cancels in the account centre; the grantee sees what they hold', async (t) => {
  const { rep, other: b, enterprise, browser, page } = await representativeAndOther('张法人', '李代办');
  t.true(page.body.includes(enterprise.name));
  t.regex(page.body, /<label for="grantee_phone">/);
  t.regex(page.body, /value="portal tax.declare"/);

  // A form without its CSRF token changes nothing.
  const forged = await browser.post('/account/delegations', { enterprise_id: enterprise.id, grantee_phone: b.phone, item: 'portal tax.declare', valid_until: day(30) });
  t.is(forged.response.status, 403);

  const granted = await browser.post('/account/delegations', {
    csrf: hidden(page.body, 'csrf'), enterprise_id: enterprise.id, grantee_phone: b.phone, item: 'portal tax.declare', valid_until: day(30), may_redelegate: 'yes',
  });
  t.regex(granted.url, /done=granted/);
  const grantId = /data-grant="([^"]+)" data-level="1" data-status="active"/.exec(granted.body)?.[1];
  t.truthy(grantId);

  // Errors are shown on the page, in the reader's language.
  const self = await browser.post('/account/delegations', {
    csrf: hidden(granted.body, 'csrf'), enterprise_id: enterprise.id, grantee_phone: rep.phone, item: 'portal tax.declare', valid_until: day(30),
  });
  t.is(errorCode(self.body), 'delegation_self');

  const detail = await browser.get(`/account/delegations/${grantId}`);
  t.regex(detail.body, /data-event="grant"/);
  const cancelled = await browser.post(`/account/delegations/${grantId}/cancel`, { csrf: hidden(detail.body, 'csrf'), version: hidden(detail.body, 'version') });
  t.regex(cancelled.url, /done=cancelled/);
  const after = await browser.get(`/account/delegations/${grantId}`);
  t.regex(after.body, /data-status="revoked"/);
  t.regex(after.body, /data-event="cancel"/);

  const asB = await accountLogin(server, b.phone, PASSWORD);
  const held = await asB.browser.get('/account/delegations');
  t.regex(held.body, new RegExp(`data-held="${grantId}"`));
});

test('a grant ends through the day typed, keeps that end when saved unchanged, and can end at a chosen minute under a chosen parent', async (t) => {
  const rep = makePerson('赵法人');
  const repId = await seedAccount(server.deps, rep);
  const agent = makePerson('钱经办');
  await seedAccount(server.deps, agent);
  const helper = makePerson('孙协办');
  await seedAccount(server.deps, helper);
  const enterprise = await seedEnterprise(server, { accountId: repId, idNumber: rep.idNumber });
  const lastDay = day(40);

  const asRep = await accountLogin(server, rep.phone, PASSWORD);
  const page = await asRep.browser.get('/account/delegations');
  const granted = await asRep.browser.post('/account/delegations', {
    csrf: hidden(page.body, 'csrf'), enterprise_id: enterprise.id, grantee_phone: agent.phone, item: 'portal tax.declare', valid_until: lastDay, may_redelegate: 'yes',
  });
  const grantId = /data-grant="([^"]+)" data-level="1"/.exec(granted.body)?.[1] ?? '';
  const shown = async () => {
    const detail = await asRep.browser.get(`/account/delegations/${grantId}`);
    return {
      detail,
      end: /<dd data-field="valid_until">([^<]*)<\/dd>/.exec(detail.body)?.[1],
      date: /id="valid_until" name="valid_until" type="date" required value="([^"]*)"/.exec(detail.body)?.[1],
      time: /id="valid_until_time" name="valid_until_time" type="time"[^>]*?(?: value="([^"]*)")?>/.exec(detail.body)?.[1],
    };
  };

  let view = await shown();
  t.is(view.end, lastDay, 'the page shows the last day the grant covers');
  t.is(view.date, lastDay);
  t.is(view.time, undefined);
  // Items by their names, never as client and item codes.
  t.regex(view.detail.body, /<span class="scope-entry">[^<]*纳税申报<\/span>/);
  t.notRegex(view.detail.body, /<span class="scope-entry">[^<]*tax\.declare/);

  for (let save = 0; save < 2; save += 1) {
    const changed = await asRep.browser.post(`/account/delegations/${grantId}/change`, {
      csrf: hidden(view.detail.body, 'csrf'), version: hidden(view.detail.body, 'version'), item: 'portal tax.declare', valid_until: view.date ?? '', valid_until_time: view.time ?? '', may_redelegate: 'yes',
    });
    t.regex(changed.url, /done=changed/);
    view = await shown();
    t.is(view.end, lastDay, `saved unchanged ${save + 1} time(s), the end has not moved`);
  }

  const midDay = await asRep.browser.post(`/account/delegations/${grantId}/change`, {
    csrf: hidden(view.detail.body, 'csrf'), version: hidden(view.detail.body, 'version'), item: 'portal tax.declare', valid_until: lastDay, valid_until_time: '14:30', may_redelegate: 'yes',
  });
  t.regex(midDay.url, /done=changed/);
  view = await shown();
  t.is(view.end, `${lastDay} 14:30`);
  t.is(view.time, '14:30');
  const api = await server.deps.delegations.history(repId, grantId);
  t.is(new Date(api.grant.valid_until).toISOString(), new Date(`${lastDay}T14:30:00+08:00`).toISOString());

  // The grantee passes it on under the grant they hold, chosen on the form.
  const asAgent = await accountLogin(server, agent.phone, PASSWORD);
  const agentPage = await asAgent.browser.get('/account/delegations');
  t.regex(agentPage.body, new RegExp(`<option value="${grantId}">`));
  const passedOn = await asAgent.browser.post('/account/delegations', {
    csrf: hidden(agentPage.body, 'csrf'), enterprise_id: enterprise.id, parent_id: grantId, grantee_phone: helper.phone, item: 'portal tax.declare', valid_until: day(10),
  });
  t.regex(passedOn.url, /done=granted/);
  t.regex(passedOn.body, /data-level="2"/);
});

test('a refused grant, request or change comes back as typed with the error beside its field; the page\'s other forms stay empty', async (t) => {
  const { rep, other: agent, enterprise, browser, page } = await representativeAndOther('吴法人', '郑经办');
  const lastDay = day(20);

  const toSelf = await browser.post('/account/delegations', {
    csrf: hidden(page.body, 'csrf'), enterprise_id: enterprise.id, grantee_phone: rep.phone, item: 'portal social.insurance', valid_until: lastDay, valid_until_time: '14:30', may_redelegate: 'yes',
  });
  t.is(errorCode(toSelf.body), 'delegation_self');
  t.regex(control(toSelf.body, 'grantee_phone'), new RegExp(`value="${rep.phone}" aria-invalid="true" aria-describedby="grantee-error"`));
  t.regex(fieldError(toSelf.body, 'grantee') ?? '', /不能向自己授权/);
  t.regex(control(toSelf.body, 'grant-portal-social.insurance'), /checked/);
  t.notRegex(control(toSelf.body, 'grant-portal-tax.declare'), /checked/);
  t.regex(control(toSelf.body, 'valid_until'), new RegExp(`value="${lastDay}"`));
  t.regex(control(toSelf.body, 'valid_until_time'), /value="14:30"/);
  t.regex(control(toSelf.body, 'may_redelegate'), /checked/);
  t.true(toSelf.body.includes(`<option value="${enterprise.id}" selected>`));
  // The request form on the same page was not the one refused: nothing of the grant's input in it.
  t.regex(control(toSelf.body, 'uscc'), /value=""/);
  t.notRegex(control(toSelf.body, 'request-portal-social.insurance'), /checked/);
  t.regex(control(toSelf.body, 'request_valid_until'), /required>$/);

  const noItem = await browser.post('/account/delegations', { csrf: hidden(page.body, 'csrf'), enterprise_id: enterprise.id, grantee_phone: agent.phone, valid_until: lastDay });
  t.is(errorCode(noItem.body), 'invalid_input');
  t.truthy(fieldError(noItem.body, 'item'));
  t.regex(control(noItem.body, 'grantee_phone'), new RegExp(`value="${agent.phone}"`));
  const past = await browser.post('/account/delegations', { csrf: hidden(page.body, 'csrf'), enterprise_id: enterprise.id, grantee_phone: agent.phone, item: 'portal tax.declare', valid_until: day(-2) });
  t.is(errorCode(past.body), 'delegation_period_exceeded');
  t.regex(control(past.body, 'valid_until'), new RegExp(`value="${day(-2)}" aria-invalid="true" aria-describedby="valid_until-error"`));
  t.truthy(fieldError(past.body, 'valid_until'));

  const unknown = await browser.post('/account/delegations/requests', {
    csrf: hidden(page.body, 'csrf'), uscc: '91350100MA00000000', item: 'portal license.apply', valid_until: lastDay, reason: '代办证照',
  });
  t.is(errorCode(unknown.body), 'delegation_enterprise_unavailable');
  t.regex(control(unknown.body, 'uscc'), /value="91350100MA00000000" aria-invalid="true" aria-describedby="uscc-error"/);
  t.truthy(fieldError(unknown.body, 'uscc'));
  t.regex(control(unknown.body, 'request-portal-license.apply'), /checked/);
  t.regex(control(unknown.body, 'request_valid_until'), new RegExp(`value="${lastDay}"`));
  t.regex(control(unknown.body, 'reason'), /value="代办证照"/);
  // And this time the grant form is the untouched one.
  t.regex(control(unknown.body, 'grantee_phone'), /value=""/);
  t.notRegex(control(unknown.body, 'grant-portal-license.apply'), /checked/);

  const granted = await browser.post('/account/delegations', { csrf: hidden(page.body, 'csrf'), enterprise_id: enterprise.id, grantee_phone: agent.phone, item: 'portal tax.declare', valid_until: lastDay });
  const grantId = /data-grant="([^"]+)" data-level="1"/.exec(granted.body)?.[1] ?? '';
  const detail = await browser.get(`/account/delegations/${grantId}`);
  const changed = await browser.post(`/account/delegations/${grantId}/change`, {
    csrf: hidden(detail.body, 'csrf'), version: hidden(detail.body, 'version'), item: 'portal social.insurance', valid_until: day(-1), may_redelegate: 'yes',
  });
  t.is(errorCode(changed.body), 'delegation_period_exceeded');
  t.regex(control(changed.body, 'valid_until'), new RegExp(`value="${day(-1)}" aria-invalid="true"`));
  t.truthy(fieldError(changed.body, 'valid_until'));
  t.regex(control(changed.body, 'change-portal-social.insurance'), /checked/);
  t.notRegex(control(changed.body, 'change-portal-tax.declare'), /checked/, 'the boxes as ticked, not as the grant has them');
  t.regex(control(changed.body, 'may_redelegate'), /checked/);
  // Nothing was changed.
  t.regex((await browser.get(`/account/delegations/${grantId}`)).body, new RegExp(`<dd data-field="valid_until">${lastDay}</dd>`));
});
