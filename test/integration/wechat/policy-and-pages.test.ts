import test from 'ava';
import type { ClientMetadata } from 'oidc-provider';
import { accessPolicySchema } from '../../../src/oidc/access-policy.js';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { accountLogin, GENEROUS_SMS, makePerson } from '../../helpers/account-centre.js';
import { hidden } from '../../helpers/http-browser.js';
import { freePort, startServer, type TestServer } from '../../helpers/server.js';
import { bindWithTicket, codeOf, MINIPROGRAM, WECHAT_GRANT, wechatFixtures, wechatGrant } from '../../helpers/wechat.js';

let server: TestServer;
let fixtures: ReturnType<typeof wechatFixtures>;
test.before(async () => {
  fixtures = wechatFixtures();
  server = await startServer({ ...GENEROUS_SMS, WECHAT: 'simulator', WECHAT_FIXTURES: fixtures.file });
  const strict = (clientId: string, policy: Record<string, unknown>) => ({
    client_id: clientId, client_name: clientId, application_type: 'web' as const, redirect_uris: ['https://mp.gov.example/cb'],
    grant_types: ['authorization_code', WECHAT_GRANT], response_types: ['code'], token_endpoint_auth_method: 'none', access_policy: accessPolicySchema.parse(policy),
  });
  await server.deps.clients.upsert(
    [strict('mp-level3', { min_assurance_level: 3 }), strict('mp-no-wechat', { login_methods: ['pwd', 'sms'] }), strict('mp-no-refresh', {})],
    (metadata) => server.deps.providers.current.Client.validate(metadata as ClientMetadata),
  );
});
test.after.always(async () => {
  await server?.close();
  fixtures?.cleanup();
});

async function bound(key: string) {
  const person = makePerson();
  const id = await seedAccount(server.deps, person);
  const ticket = (await wechatGrant(server, codeOf(key))).body.binding_ticket;
  const binding = await bindWithTicket(server, ticket, person.phone, PASSWORD);
  if (binding.status !== 201) throw new Error(JSON.stringify(binding.body));
  return { person, id, binding: binding.body };
}

test.serial('a client\'s access policy applies to WeChat login: a level-3 client and one without wechat refuse it', async (t) => {
  await bound('p0');
  const level3 = await wechatGrant(server, codeOf('p0'), { client_id: 'mp-level3' });
  t.is(level3.status, 400);
  t.is(level3.body.error, 'invalid_grant');
  t.regex(level3.body.error_description, /assurance level 3/);
  t.falsy(level3.body.access_token);
  const noWechat = await wechatGrant(server, codeOf('p0'), { client_id: 'mp-no-wechat' });
  t.is(noWechat.body.error, 'unauthorized_client');
  const noRefresh = await wechatGrant(server, codeOf('p0'), { client_id: 'mp-no-refresh' });
  t.is(noRefresh.status, 200);
  t.truthy(noRefresh.body.id_token);
  t.falsy(noRefresh.body.refresh_token, 'no refresh token for a client without the refresh_token grant');
});

test.serial('the account centre page lists the binding masked and unbinds it only with its CSRF token', async (t) => {
  const { person, binding } = await bound('p1');
  const signedIn = await accountLogin(server, person.phone, PASSWORD);
  const page = await signedIn.browser.get('/account/wechat');
  t.is(page.response.status, 200);
  t.regex(page.body, new RegExp(`data-binding="${binding.id}"`));
  t.true(page.body.includes(binding.openid_masked));
  t.false(page.body.includes(fixtures.codes.p1!.openid), 'the openid is never shown whole');

  const forged = await signedIn.browser.post(`/account/wechat/${binding.id}/unbind`, { csrf: 'forged' });
  t.is(forged.response.status, 403);
  t.is((await wechatGrant(server, codeOf('p1'))).status, 200, 'still bound');

  const done = await signedIn.browser.post(`/account/wechat/${binding.id}/unbind`, { csrf: hidden(page.body, 'csrf') });
  t.regex(done.url, /\/account\/wechat\?done=wechat_unbound$/);
  t.regex(done.body, /data-notice="account.done_wechat_unbound"/);
  t.regex(done.body, /data-wechat-none/);
  t.is((await wechatGrant(server, codeOf('p1'))).body.error, 'wechat_unbound');
});

test.serial('signed out, the page sends the person to sign in', async (t) => {
  const response = await fetch(`${server.url}/account/wechat`, { redirect: 'manual' });
  t.is(response.status, 302);
  t.regex(response.headers.get('location') ?? '', /^\/account\/login\?return_to=%2Faccount%2Fwechat$/);
});

test('when WeChat cannot be reached the grant answers temporarily_unavailable and nothing is issued', async (t) => {
  const closedPort = await freePort();
  const offline = await startServer({ WECHAT: 'http', WECHAT_APP_ID: 'wx00112233445566ff', WECHAT_APP_SECRET: 'a-secret-of-sixteen-or-more', WECHAT_BASE_URL: `http://127.0.0.1:${closedPort}` });
  t.teardown(() => offline.close());
  const answer = await wechatGrant(offline, 'a-real-looking-code');
  t.is(answer.status, 503);
  t.is(answer.body.error, 'temporarily_unavailable');
  t.falsy(answer.body.access_token);
  t.falsy(answer.body.binding_ticket);
});

test('with WECHAT=off the grant type exists for clients to list but refuses', async (t) => {
  const off = await startServer({ WECHAT: 'off' });
  t.teardown(() => off.close());
  const answer = await wechatGrant(off, 'zhangsan');
  t.is(answer.status, 400);
  t.is(answer.body.error, 'unsupported_grant_type');
  t.is(MINIPROGRAM.client_id, 'miniprogram');
});
