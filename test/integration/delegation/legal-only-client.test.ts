import test from 'ava';
import { makePerson } from '../../helpers/account-centre.js';
import { PASSWORD, citizen, days, delegationApi, jwtClaims, seedEnterprise } from '../../helpers/delegation.js';
import { HttpBrowser, errorCode, hidden } from '../../helpers/http-browser.js';
import { codeFrom, exchangeCode } from '../../helpers/oidc.js';
import { authorize, registerClient, withPassword, type TestClient } from '../../helpers/policy.js';
import { startServer, type TestServer } from '../../helpers/server.js';

/**
 * A client only for legal persons (access_policy.entity_types ["legal"]): the access
 * policy judges whom the person will act as, so someone who can act for an enterprise is
 * offered only enterprises, and only someone who cannot is refused. No token for such a
 * client ever acts for the natural person.
 */
let server: TestServer;
let legalOnly: TestClient;
const FILING = { code: 'filing.annual', name: '企业年报' };

test.before(async () => {
  server = await startServer();
  legalOnly = await registerClient(server, 'enterprises-only', { entity_types: ['legal'], service_items: [FILING] });
});
test.after.always(async () => { await server?.close(); });

const optionsOn = (page: string) => [...page.matchAll(/data-enterprise-option="([^"]+)"/g)].map((m) => m[1]!);

async function userinfo(accessToken: string) {
  return (await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status;
}

test('a person with no enterprise is refused with the page that says why, and silently with access_denied', async (t) => {
  const loner = await citizen(server, makePerson('孙个人'));
  const done = await withPassword(await authorize(server, new HttpBrowser(server.url), legalOnly), loner.phone, PASSWORD);
  t.is(done.status, 403);
  t.is(errorCode(done.body), 'policy_entity_type');
  t.false(done.url.startsWith(legalOnly.redirect_uri));
  const silent = await authorize(server, done.browser, legalOnly, { prompt: 'none' });
  t.is(new URL(silent.url).searchParams.get('error'), 'access_denied');
});

test('the representative is offered only the enterprise, never "as myself", and the token acts for the enterprise', async (t) => {
  const rep = await citizen(server, makePerson('王法人'));
  const enterprise = await seedEnterprise(server, rep);
  const attempt = await authorize(server, new HttpBrowser(server.url), legalOnly);
  const choice = await withPassword(attempt, rep.phone, PASSWORD);
  t.regex(choice.url, /\/interaction\/[^/]+\/identity$/, 'the choice, not the refusal');
  t.deepEqual(optionsOn(choice.body), [`${enterprise.id}:root`]);
  t.notRegex(choice.body, /value="self"/);

  // Posting "myself" anyway is refused on the page.
  const action = new URL(choice.url).pathname;
  const self = await choice.browser.post(action, { csrf: hidden(choice.body, 'csrf'), choice: 'self' });
  t.is(errorCode(self.body), 'identity_choice_invalid');

  const done = await choice.browser.post(action, { csrf: hidden(self.body, 'csrf'), choice: `${enterprise.id}:root` });
  const tokens = await exchangeCode(server.url, legalOnly, codeFrom(done.url, attempt.state), attempt.verifier);
  t.is(tokens.status, 200, JSON.stringify(tokens.body));
  const claims = jwtClaims(tokens.body.id_token!);
  t.is(claims.sub, rep.accountId);
  t.is(claims.entity_type, 'legal');
  t.is(claims.org.uscc, enterprise.uscc);
  t.like(claims.authority, { role: 'legal_representative', level: 0, service_items: [FILING.code] });
  t.is(await userinfo(tokens.body.access_token!), 200);
});

test('a delegate whose grant names the client is offered the enterprise; one whose grant does not is refused', async (t) => {
  const rep = await citizen(server, makePerson('周法人'));
  const inScope = await citizen(server, makePerson('吴代办'));
  const outOfScope = await citizen(server, makePerson('郑代办'));
  const enterprise = await seedEnterprise(server, rep);
  const granted = await delegationApi(server, rep.token, 'POST', '', {
    enterprise_id: enterprise.id, grantee: { phone: inScope.phone }, scope: [{ client_id: legalOnly.client_id, service_items: [FILING.code] }], valid_until: days(10),
  });
  t.is(granted.status, 201, JSON.stringify(granted.body));
  const elsewhere = await delegationApi(server, rep.token, 'POST', '', {
    enterprise_id: enterprise.id, grantee: { phone: outOfScope.phone }, scope: [{ client_id: 'portal', service_items: ['tax.declare'] }], valid_until: days(10),
  });
  t.is(elsewhere.status, 201, JSON.stringify(elsewhere.body));

  const offered = await withPassword(await authorize(server, new HttpBrowser(server.url), legalOnly), inScope.phone, PASSWORD);
  t.deepEqual(optionsOn(offered.body), [`${enterprise.id}:${granted.body.id}`]);
  t.notRegex(offered.body, /value="self"/);

  const refused = await withPassword(await authorize(server, new HttpBrowser(server.url), legalOnly), outOfScope.phone, PASSWORD);
  t.is(errorCode(refused.body), 'policy_entity_type');
});

test('a person\'s token stops working when their client comes to take only legal persons', async (t) => {
  const both = await registerClient(server, 'becomes-legal-only', { entity_types: ['natural', 'legal'], service_items: [FILING] });
  const person = await citizen(server, makePerson('冯个人'));
  const attempt = await authorize(server, new HttpBrowser(server.url), both);
  const done = await withPassword(attempt, person.phone, PASSWORD);
  const tokens = await exchangeCode(server.url, both, codeFrom(done.url, attempt.state), attempt.verifier);
  t.is(tokens.status, 200, JSON.stringify(tokens.body));
  t.is(jwtClaims(tokens.body.id_token!).org, undefined);
  t.is(await userinfo(tokens.body.access_token!), 200);

  await registerClient(server, both.client_id, { entity_types: ['legal'], service_items: [FILING] });
  t.is(await userinfo(tokens.body.access_token!), 401, 'the token acted for the natural person');
});
