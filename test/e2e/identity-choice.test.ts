import { resolve } from 'node:path';
import test from 'ava';
import { ZHANG_SAN } from '../helpers/accounts.js';
import { axeViolations } from '../helpers/axe.js';
import { PHONE, openPage } from '../helpers/browser.js';
import { LI_NA, PASSWORD, citizen, delegationApi, portal, seedEnterprise } from '../helpers/delegation.js';
import { PORTAL, authorizationRequest } from '../helpers/oidc.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * The identity choice at login (选择办事身份) in Chromium on a 390×844 phone: a delegate
 * reads the grant's end as the delegation pages write it.
 */

let server: TestServer;
test.before(async () => { server = await startServer({ CLIENTS_FILE: resolve('test/fixtures/clients.json') }); });
test.after.always(async () => { await server?.close(); });

const CHINA_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

test('a grant through a whole day shows that day at the identity choice, not the midnight after it', async (t) => {
  const representative = await citizen(server, ZHANG_SAN);
  const delegate = await citizen(server, LI_NA);
  const enterprise = await seedEnterprise(server, representative, { name: '福州示例贸易有限公司' });
  // A grant "有效期至" a day some months ahead ends at the midnight (China time) after it.
  const lastDay = new Date(Date.now() + 100 * DAY_MS + CHINA_OFFSET_MS).toISOString().slice(0, 10);
  const validUntil = new Date(Date.parse(`${lastDay}T00:00:00+08:00`) + DAY_MS).toISOString();
  const granted = await delegationApi(server, representative.token, 'POST', '', {
    enterprise_id: enterprise.id, grantee: { id_number: delegate.idNumber, name: delegate.name }, scope: portal('tax.declare'), valid_until: validUntil,
  });
  t.is(granted.status, 201, JSON.stringify(granted.body));

  const page = await openPage(PHONE, t.teardown.bind(t));
  await page.goto(authorizationRequest(server.url, { client_id: PORTAL.client_id, redirect_uri: PORTAL.redirect_uri }, { scope: 'openid profile' }).url);
  await page.getByLabel('身份证号或手机号').fill(delegate.idNumber);
  await page.getByLabel('密码').fill(PASSWORD);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.getByRole('heading', { name: '选择办事身份' }).waitFor();

  const option = page.locator('[data-enterprise-option]', { hasText: '福州示例贸易有限公司' });
  const text = (await option.innerText()).replace(/\s+/g, ' ');
  t.true(text.includes(`有效期至 ${lastDay}`), text);
  t.false(text.includes(':'), `a whole day has no time of day: ${text}`);
  const violations = await axeViolations(page);
  t.deepEqual(violations, [], JSON.stringify(violations, null, 1));
});
