import test from 'ava';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { maskName } from '../../../src/identity/masking.js';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { accountLogin, GENEROUS_SMS, latestCode, makePerson, totpCode } from '../../helpers/account-centre.js';
import { hidden } from '../../helpers/http-browser.js';
import { APP, beginAuthorization, codeFrom, exchangeCode, passwordLogin } from '../../helpers/oidc.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import {
  accountWechat, APP_ID, bindWithTicket, boundPerson as bindPerson, codeOf, MINIPROGRAM, WECHAT_GRANT, wechatFixtures, wechatGrant,
} from '../../helpers/wechat.js';

let server: TestServer;
let fixtures: ReturnType<typeof wechatFixtures>;
test.before(async () => {
  fixtures = wechatFixtures(16);
  server = await startServer({ ...GENEROUS_SMS, WECHAT: 'simulator', WECHAT_FIXTURES: fixtures.file });
});
test.after.always(async () => {
  await server?.close();
  fixtures?.cleanup();
});

async function auditOf(accountId: string): Promise<string[]> {
  return (await server.deps.securityEvents.recent(accountId, 50)).map((e) => `${e.action}:${e.result}`);
}

/** The account API with the mini-program's bearer token. */
async function account(token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}/api/v1/account${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
}

/** The reasons of the account's denied WeChat logins, newest first. */
async function wechatDenials(accountId: string): Promise<unknown[]> {
  return (await server.deps.securityEvents.recent(accountId, 50))
    .filter((e) => e.action === 'login' && e.result === 'denied' && e.details.method === 'wechat')
    .map((e) => e.details.reason);
}

const boundPerson = (key: string) => bindPerson(server, key);

test.serial('the grant type is listed in discovery and allowed only to the mini-program', async (t) => {
  const discovery = await (await fetch(`${server.url}/.well-known/openid-configuration`)).json() as { grant_types_supported: string[] };
  t.true(discovery.grant_types_supported.includes(WECHAT_GRANT));
  const response = await fetch(`${server.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: WECHAT_GRANT, client_id: APP.client_id, code: codeOf('p0') }) });
  const body = await response.json() as Record<string, string>;
  t.is(response.status, 400);
  t.is(body.error, 'invalid_request');
  t.regex(body.error_description!, /not allowed for this client/);
});

test.serial('an unbound WeChat identity gets wechat_unbound with a binding ticket, and nothing is bound', async (t) => {
  const answer = await wechatGrant(server, codeOf('p1'));
  t.is(answer.status, 400);
  t.is(answer.body.error, 'wechat_unbound');
  t.regex(answer.body.error_description, /binding_ticket/);
  t.regex(answer.body.binding_ticket, /^[A-Za-z0-9_-]{32}$/);
  t.is(answer.body.binding_ticket_expires_in, 600);
  t.falsy(answer.body.access_token);
  t.is(await server.deps.database.db.selectFrom('wechat_bindings').select('id').execute().then((rows) => rows.length), 0);
});

test.serial('binding after a normal login, then the grant issues verifiable tokens; userinfo and refresh work', async (t) => {
  const { person, id, binding } = await boundPerson('p2');
  t.is(binding.app_id, APP_ID);
  t.regex(binding.openid_masked, /^oT.{2}\*+.{4}$/);
  t.true((await auditOf(id)).includes('wechat.bind:success'));

  const answer = await wechatGrant(server, codeOf('p2'));
  t.is(answer.status, 200, JSON.stringify(answer.body));
  t.is(answer.body.token_type, 'Bearer');
  t.is(answer.body.scope, 'openid profile');
  t.truthy(answer.body.access_token);
  t.truthy(answer.body.refresh_token);

  const jwks = createRemoteJWKSet(new URL('/jwks', server.url));
  const { payload, protectedHeader } = await jwtVerify(answer.body.id_token, jwks, { issuer: server.url, audience: MINIPROGRAM.client_id });
  t.is(protectedHeader.alg, 'ES256');
  t.is(payload.sub, id);
  t.deepEqual(payload.amr, ['wechat']);
  t.is(payload.acr, 'urn:civic-idp:loa:2');
  t.is(typeof payload.auth_time, 'number');
  t.false('name' in payload, 'scope claims go to userinfo');

  const me = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${answer.body.access_token}` } });
  t.is(me.status, 200);
  // The mini-program's policy does not release the full name (release_name).
  t.deepEqual(await me.json(), { sub: id, name_masked: maskName(person.name) });

  const refreshed = await fetch(`${server.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: answer.body.refresh_token, client_id: MINIPROGRAM.client_id }) });
  const renewed = await refreshed.json() as Record<string, string>;
  t.is(refreshed.status, 200, JSON.stringify(renewed));
  const again = await jwtVerify(renewed.id_token!, jwks, { issuer: server.url, audience: MINIPROGRAM.client_id });
  t.deepEqual(again.payload.amr, ['wechat']);

  // Its token opens the account API only if asked for with the account scope.
  t.is((await accountWechat(server, answer.body.access_token, 'GET', '')).body.error, 'account_scope_missing');
  const withAccount = await wechatGrant(server, codeOf('p2'), { scope: 'openid account' });
  const listed = await accountWechat(server, withAccount.body.access_token, 'GET', '');
  t.is(listed.status, 200);
  t.deepEqual(listed.body.bindings.map((b: { id: string }) => b.id), [binding.id]);
  t.true((await auditOf(id)).includes('login:success'));
});

test.serial('a replayed WeChat code is refused, whether its first use gave tokens or a ticket', async (t) => {
  await boundPerson('p3');
  const code = codeOf('p3');
  t.is((await wechatGrant(server, code)).status, 200);
  const replay = await wechatGrant(server, code);
  t.is(replay.status, 400);
  t.is(replay.body.error, 'invalid_grant');
  t.falsy(replay.body.access_token);

  const unboundCode = codeOf('p4');
  t.is((await wechatGrant(server, unboundCode)).body.error, 'wechat_unbound');
  const second = await wechatGrant(server, unboundCode);
  t.is(second.body.error, 'invalid_grant');
  t.falsy(second.body.binding_ticket, 'no second ticket for a spent code');
});

test.serial('unknown, malformed, missing and blocked codes are refused', async (t) => {
  for (const code of ['nobody', 'nobody.1', 'has space', 'x'.repeat(200)]) {
    const answer = await wechatGrant(server, code);
    t.is(answer.status, 400, code);
    t.is(answer.body.error, 'invalid_grant', code);
  }
  const missing = await wechatGrant(server, undefined);
  t.is(missing.body.error, 'invalid_request');
  const blocked = await wechatGrant(server, codeOf('risky'));
  t.is(blocked.body.error, 'invalid_grant');
  t.regex(blocked.body.error_description, /refuses this user/);
});

test.serial('scopes must include openid and stay within what the provider knows', async (t) => {
  await boundPerson('p5');
  const noOpenid = await wechatGrant(server, codeOf('p5'), { scope: 'profile' });
  t.is(noOpenid.body.error, 'invalid_scope');
  const unknown = await wechatGrant(server, codeOf('p5'), { scope: 'openid admin' });
  t.is(unknown.body.error, 'invalid_scope');
  const narrow = await wechatGrant(server, codeOf('p5'), { scope: 'openid' });
  t.is(narrow.status, 200);
  t.is(narrow.body.scope, 'openid');
});

test.serial('a banned or closed account is refused, audited, and its WeChat tokens stop working', async (t) => {
  // A closed account keeps no binding (deregistration erases it); the grant refuses one all the same.
  for (const [key, status, said] of [['p6', 'banned', /banned/], ['p14', 'deregistered', /closed/]] as const) {
    const { id } = await boundPerson(key);
    const before = await wechatGrant(server, codeOf(key));
    t.is(before.status, 200);
    await server.deps.accounts.update(id, { status });

    const refused = await wechatGrant(server, codeOf(key));
    t.is(refused.status, 400, status);
    t.is(refused.body.error, 'invalid_grant');
    t.regex(refused.body.error_description, said);
    t.falsy(refused.body.access_token);
    t.is((await wechatDenials(id))[0], status);

    const me = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${before.body.access_token}` } });
    t.is(me.status, 401);
    const refresh = await fetch(`${server.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: before.body.refresh_token, client_id: MINIPROGRAM.client_id }) });
    t.is(refresh.status, 400);
  }
});

test.serial('a binding ticket is single use, only for the client it was issued to, and one binding per identity and account', async (t) => {
  const person = makePerson();
  await seedAccount(server.deps, person);
  const first = await wechatGrant(server, codeOf('p7'));

  // The app's token cannot redeem a ticket the mini-program's grant was given.
  const foreign = await bindWithTicket(server, first.body.binding_ticket, person.phone, PASSWORD, APP);
  t.is(foreign.status, 400);
  t.is(foreign.body.error, 'wechat_ticket_invalid');
  // ... and that attempt spent it.
  const spent = await bindWithTicket(server, first.body.binding_ticket, person.phone, PASSWORD);
  t.is(spent.body.error, 'wechat_ticket_invalid');
  t.is((await bindWithTicket(server, 'A'.repeat(32), person.phone, PASSWORD)).body.error, 'wechat_ticket_invalid');
  t.is((await bindWithTicket(server, 'short', person.phone, PASSWORD)).body.error, 'wechat_ticket_invalid');
  t.is((await wechatGrant(server, codeOf('p7'))).body.error, 'wechat_unbound', 'still unbound');

  const ticket = (await wechatGrant(server, codeOf('p7'))).body.binding_ticket;
  t.is((await bindWithTicket(server, ticket, person.phone, PASSWORD)).status, 201);

  // The same account with another WeChat identity, or another account with this one: refused.
  const otherIdentity = (await wechatGrant(server, codeOf('p8'))).body.binding_ticket;
  const twice = await bindWithTicket(server, otherIdentity, person.phone, PASSWORD);
  t.is(twice.status, 409);
  t.is(twice.body.error, 'wechat_already_bound');
  t.truthy(twice.body.message_zh);
  t.truthy(twice.body.message_en);

  // Two tickets for one identity (two launches before either bound): the second cannot bind it to another account.
  const p9 = (await wechatGrant(server, codeOf('p9'))).body.binding_ticket;
  const p9again = (await wechatGrant(server, codeOf('p9'))).body.binding_ticket;
  t.is((await bindWithTicket(server, p9, (await makePersonWithAccount()).phone, PASSWORD)).status, 201);
  const stolen = await bindWithTicket(server, p9again, (await makePersonWithAccount()).phone, PASSWORD);
  t.is(stolen.status, 409);
  t.is(stolen.body.error, 'wechat_already_bound');
});

async function makePersonWithAccount() {
  const person = makePerson();
  await seedAccount(server.deps, person);
  return person;
}

test.serial('unbinding through the API signs the mini-program out and the grant answers unbound again', async (t) => {
  const { id, binding } = await boundPerson('p10');
  const tokens = await wechatGrant(server, codeOf('p10'), { scope: 'openid account' });
  t.is(tokens.status, 200);

  // Someone else cannot unbind it; an unknown id is 404.
  const stranger = await makePersonWithAccount();
  const strangerLogin = await passwordLogin(server.url, MINIPROGRAM, stranger.phone, PASSWORD, { scope: 'openid account' });
  const foreign = await accountWechat(server, strangerLogin.tokens.body.access_token!, 'DELETE', `/${binding.id}`);
  t.is(foreign.status, 404);
  t.is(foreign.body.error, 'wechat_binding_not_found');
  t.is((await accountWechat(server, tokens.body.access_token, 'DELETE', '/not-an-id')).status, 404);

  const removed = await accountWechat(server, tokens.body.access_token, 'DELETE', `/${binding.id}`);
  t.is(removed.status, 204);
  t.true((await auditOf(id)).includes('wechat.unbind:success'));

  const after = await wechatGrant(server, codeOf('p10'));
  t.is(after.body.error, 'wechat_unbound');
  t.truthy(after.body.binding_ticket);
  const refresh = await fetch(`${server.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: MINIPROGRAM.client_id }) });
  t.is(refresh.status, 400, 'the refresh token died with the binding');
  const me = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${tokens.body.access_token}` } });
  t.is(me.status, 401);
});

test.serial('deregistering the account erases its binding, and the WeChat identity may bind a new account', async (t) => {
  const { person, id } = await boundPerson('p11');
  const tokens = await wechatGrant(server, codeOf('p11'), { scope: 'openid account' });
  t.is(tokens.status, 200);
  const account = (method: string, path: string, body?: unknown) => fetch(`${server.url}/api/v1/account${path}`, {
    method, headers: { authorization: `Bearer ${tokens.body.access_token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  t.is((await account('POST', '/codes', { operation: 'deregister' })).status, 200);
  t.is((await account('POST', '/deregister', { code: await latestCode(server, person.phone, 'verify') })).status, 204);
  const left = await server.deps.database.db.selectFrom('wechat_bindings').select('id').where('account_id', '=', id).execute();
  t.deepEqual(left, []);

  const after = await wechatGrant(server, codeOf('p11'));
  t.is(after.body.error, 'wechat_unbound');
  t.is((await bindWithTicket(server, after.body.binding_ticket, (await makePersonWithAccount()).phone, PASSWORD)).status, 201);
});

test.serial('an account with two-step verification gets no tokens from WeChat: wechat_web_login_required, audited; the web-view login with TOTP works', async (t) => {
  const { person, id } = await boundPerson('p12');
  const tokens = await wechatGrant(server, codeOf('p12'), { scope: 'openid account' });
  t.is(tokens.status, 200);
  const started = await account(tokens.body.access_token, 'POST', '/totp');
  t.is(started.status, 201);
  const confirmed = await account(tokens.body.access_token, 'POST', '/totp/confirm', { code: await totpCode(started.body.secret) });
  t.is(confirmed.status, 200, JSON.stringify(confirmed.body));

  const refused = await wechatGrant(server, codeOf('p12'), { scope: 'openid account' });
  t.is(refused.status, 400);
  t.is(refused.body.error, 'wechat_web_login_required');
  t.is(refused.body.required_step, 'totp');
  t.regex(refused.body.error_description, /two-step verification/);
  for (const issued of ['access_token', 'id_token', 'refresh_token', 'binding_ticket']) t.false(issued in refused.body, issued);
  t.is((await wechatDenials(id))[0], 'second_factor_required');

  // The way the answer points to: the mini-program's own authorization request, TOTP included.
  const auth = await beginAuthorization(server.url, MINIPROGRAM, { scope: 'openid account' });
  const afterPassword = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: person.phone, password: PASSWORD });
  t.regex(afterPassword.body, /login\/totp/);
  const done = await auth.browser.post(`/interaction/${auth.uid}/login/totp`, { csrf: hidden(afterPassword.body, 'csrf'), code: await totpCode(started.body.secret, 1) });
  const webView = await exchangeCode(server.url, MINIPROGRAM, codeFrom(done.url, auth.state), auth.verifier);
  t.is(webView.status, 200);
  t.deepEqual(decodeJwt(webView.body.id_token!).amr, ['pwd', 'otp', 'mfa']);
});

test.serial('an account whose password staff set gets no tokens from WeChat until it is changed on the login page', async (t) => {
  const { person, id } = await boundPerson('p13');
  // A binding older than the reset rule (a reset now removes the bindings): the account must change its password.
  await server.deps.accounts.update(id, { password_must_change: true });

  const refused = await wechatGrant(server, codeOf('p13'));
  t.is(refused.status, 400);
  t.is(refused.body.error, 'wechat_web_login_required');
  t.is(refused.body.required_step, 'password_change');
  t.regex(refused.body.error_description, /change the password/);
  t.falsy(refused.body.access_token);
  t.is((await wechatDenials(id))[0], 'password_change_required');

  const auth = await beginAuthorization(server.url, MINIPROGRAM, { scope: 'openid' });
  const afterPassword = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: person.phone, password: PASSWORD });
  t.regex(afterPassword.body, /login\/password-change/);
  const changed = await auth.browser.post(`/interaction/${auth.uid}/login/password-change`, { csrf: hidden(afterPassword.body, 'csrf'), password: 'Changed-At-Last-2026', confirm: 'Changed-At-Last-2026' });
  t.is((await exchangeCode(server.url, MINIPROGRAM, codeFrom(changed.url, auth.state), auth.verifier)).status, 200);

  const after = await wechatGrant(server, codeOf('p13'));
  t.is(after.status, 200, JSON.stringify(after.body));

  // The person reads why on their security record.
  const centre = await accountLogin(server, person.phone, 'Changed-At-Last-2026');
  t.true((await centre.browser.get('/account/events')).body.includes('需先在登录页修改密码'));
});
