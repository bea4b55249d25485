import test from 'ava';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { makePerson, startAccountServer } from '../../helpers/account-centre.js';
import { APP, passwordLogin, PORTAL } from '../../helpers/oidc.js';
import type { TestServer } from '../../helpers/server.js';

/**
 * The citizen's own account APIs accept only tokens issued for them: the first-party
 * `account` scope, which only a client registered for it (the app, the mini-program) can
 * be issued. A department's token, whatever else it carries, opens none of them.
 */

let server: TestServer;
test.before(async () => { server = await startAccountServer(); });
test.after.always(async () => { await server?.close(); });

/** One read and one write of every account API, the writes harmless if they ever succeeded. */
const DOORS: Array<[string, string, unknown?]> = [
  ['GET', '/api/v1/account/'],
  ['GET', '/api/v1/account/export'],
  ['GET', '/api/v1/account/sessions'],
  ['DELETE', '/api/v1/account/sessions'],
  ['POST', '/api/v1/account/totp'],
  ['POST', '/api/v1/account/phone-rebinding', { path: 'old_phone' }],
  ['GET', '/api/v1/account/wechat'],
  ['GET', '/api/v1/enterprises'],
  ['GET', '/api/v1/delegations'],
];

async function call(token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as Record<string, string> };
}

async function tokenOf(client: typeof PORTAL | typeof APP, phone: string, scope: string): Promise<string> {
  const login = await passwordLogin(server.url, client, phone, PASSWORD, { scope, entity_type: 'natural' });
  if (login.tokens.status !== 200) throw new Error(JSON.stringify(login.tokens.body));
  return login.tokens.body.access_token!;
}

test('a department\'s token (the portal, every scope it may have) opens no account API, and nothing changes', async (t) => {
  const person = makePerson();
  const accountId = await seedAccount(server.deps, person);
  const portalToken = await tokenOf(PORTAL, person.phone, 'openid profile phone realname id_number');
  const before = await server.deps.accountSessions.list(accountId, {});
  for (const [method, path, body] of DOORS) {
    const answer = await call(portalToken, method, path, body);
    t.is(answer.status, 403, `${method} ${path}`);
    t.is(answer.body.error, 'account_client_not_allowed', `${method} ${path}`);
    t.truthy(answer.body.message_zh);
    t.false(JSON.stringify(answer.body).includes(person.idNumber));
    t.false(JSON.stringify(answer.body).includes(accountId));
  }
  // The sign-out-everywhere attempt above ended nothing; TOTP was not enrolled.
  t.is((await server.deps.accountSessions.list(accountId, {})).length, before.length);
  t.is((await server.deps.accounts.row(accountId))?.totp_enabled_at ?? null, null);
});

test('a department cannot even be issued the account or qr_login scope: the authorization answers invalid_scope', async (t) => {
  for (const scope of ['openid account', 'openid qr_login', 'openid profile account']) {
    const url = new URL('/auth', server.url);
    const params = { client_id: PORTAL.client_id, redirect_uri: PORTAL.redirect_uri, response_type: 'code', scope, state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    const answer = await fetch(url, { redirect: 'manual' });
    const location = new URL(answer.headers.get('location') ?? '', server.url);
    t.is(location.origin + location.pathname, PORTAL.redirect_uri, scope);
    t.is(location.searchParams.get('error'), 'invalid_scope', scope);
  }
});

test('the app\'s token without the account scope is 403 insufficient_scope; with it, the account opens', async (t) => {
  const person = makePerson();
  await seedAccount(server.deps, person);
  const narrow = await tokenOf(APP, person.phone, 'openid profile');
  for (const [method, path, body] of DOORS.filter(([method]) => method === 'GET')) {
    const answer = await call(narrow, method, path, body);
    t.is(answer.status, 403, path);
    t.is(answer.body.error, 'account_scope_missing', path);
    t.regex(answer.headers.get('www-authenticate') ?? '', /error="insufficient_scope", scope="account"/);
  }
  const wide = await tokenOf(APP, person.phone, 'openid account');
  for (const [method, path] of DOORS.filter(([method, path]) => method === 'GET' && path !== '/api/v1/account/export')) {
    t.is((await call(wide, method, path)).status, 200, path);
  }
});

test('twenty department tokens at once are all refused', async (t) => {
  const person = makePerson();
  await seedAccount(server.deps, person);
  const portalToken = await tokenOf(PORTAL, person.phone, 'openid');
  const answers = await Promise.all(Array.from({ length: 20 }, () => call(portalToken, 'POST', '/api/v1/account/totp')));
  t.true(answers.every((answer) => answer.status === 403));
});
