import test from 'ava';
import { accountLogin, makePerson } from '../../helpers/account-centre.js';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { seedEnterprise } from '../../helpers/delegation.js';
import { errorCode, hidden } from '../../helpers/http-browser.js';
import { startServer, type TestServer } from '../../helpers/server.js';

let server: TestServer;
test.before(async () => { server = await startServer(); });
test.after.always(async () => { await server?.close(); });

/** yyyy-mm-dd, n days from now. */
const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

test('the representative grants, views and cancels in the account centre; the grantee sees what they hold', async (t) => {
  const rep = makePerson('张法人');
  const repId = await seedAccount(server.deps, rep);
  const b = makePerson('李代办');
  await seedAccount(server.deps, b);
  const enterprise = await seedEnterprise(server, { accountId: repId, idNumber: rep.idNumber });

  const { browser } = await accountLogin(server, rep.phone, PASSWORD);
  const page = await browser.get('/account/delegations');
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
