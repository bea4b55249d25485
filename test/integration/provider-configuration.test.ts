import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * oidc-provider prints a NOTICE or WARNING whenever one of its defaults that "SHOULD" or
 * "MUST" be changed is used. Boot it and walk every endpoint we expose: not one may print.
 */
const SERVICE_SECRET = 'service-secret-for-warning-test-0123456789';
const clientsFile = join(mkdtempSync(join(tmpdir(), 'civic-clients-')), 'clients.json');
writeFileSync(clientsFile, JSON.stringify([{
  client_id: 'service',
  client_secret: SERVICE_SECRET,
  redirect_uris: ['https://service.gov.example/cb'],
  post_logout_redirect_uris: ['https://service.gov.example/'],
  grant_types: ['authorization_code', 'client_credentials', 'refresh_token'],
  response_types: ['code'],
}]));

const printed: string[] = [];
let server: TestServer;
const original = { info: console.info, warn: console.warn, log: console.log, error: console.error };

test.before(async () => {
  for (const level of ['info', 'warn', 'log', 'error'] as const) {
    console[level] = (...args: unknown[]) => { printed.push(args.map(String).join(' ')); };
  }
  server = await startServer({ CLIENTS_FILE: clientsFile });
});

test.after.always(async () => {
  Object.assign(console, original);
  await server?.close();
});

const basic = `Basic ${Buffer.from(`service:${SERVICE_SECRET}`).toString('base64')}`;

async function post(path: string, body: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body),
    redirect: 'manual',
  });
}

test.serial('every endpoint works without a library default that asks to be changed', async (t) => {
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { redirect: 'manual', headers });

  t.is((await get('/.well-known/openid-configuration')).status, 200);
  t.is((await get('/jwks')).status, 200);
  const auth = await get('/auth?client_id=service&response_type=code&scope=openid&redirect_uri=https://service.gov.example/cb');
  t.is(auth.status, 303);
  t.is((await get(auth.headers.get('location')!.replace(server.url, ''), { cookie: auth.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') })).status, 200);
  t.is((await get('/auth?client_id=service&response_type=code&scope=openid&redirect_uri=https://evil.example/')).status, 400);

  const opaque = await (await post('/token', { grant_type: 'client_credentials' }, { authorization: basic })).json() as Record<string, string>;
  t.truthy(opaque.access_token);
  const jwt = await (await post('/token', { grant_type: 'client_credentials', resource: 'https://api.gov.example/', scope: 'services.read' }, { authorization: basic })).json() as Record<string, string>;
  t.is(jwt.access_token!.split('.').length, 3);
  t.is((await post('/token', { grant_type: 'client_credentials', resource: 'https://unknown.example/' }, { authorization: basic })).status, 400);

  const introspection = await (await post('/token/introspection', { token: opaque.access_token! }, { authorization: basic })).json() as Record<string, unknown>;
  t.true(introspection.active);
  t.is((await post('/token/revocation', { token: opaque.access_token! }, { authorization: basic })).status, 200);
  t.is((await get('/me', { authorization: `Bearer ${opaque.access_token}` })).status, 401);

  const logout = await get('/session/end?client_id=service&post_logout_redirect_uri=https://service.gov.example/');
  t.true([200, 303].includes(logout.status));
  t.is((await post('/session/end/confirm', { xsrf: 'forged' })).status, 400);

  const oidcLines = printed.filter((line) => /oidc-provider (NOTICE|WARNING)/.test(line));
  t.deepEqual(oidcLines, []);
});

test('malformed requests get clean 4xx answers, never a 500 or a stack trace', async (t) => {
  const cases: Array<[string, Promise<Response>]> = [
    ['token without grant', post('/token', {}, { authorization: basic })],
    ['token with garbage auth', post('/token', { grant_type: 'client_credentials' }, { authorization: 'Basic !!!' })],
    ['token with JSON body', fetch(`${server.url}/token`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic }, body: '{"grant_type":' })],
    ['introspection without token', post('/token/introspection', {}, { authorization: basic })],
    ['auth without anything', fetch(`${server.url}/auth`, { redirect: 'manual' })],
    ['interaction that does not exist', fetch(`${server.url}/interaction/does-not-exist`, { redirect: 'manual' })],
    ['login post without interaction', post('/interaction/nope/login', { identifier: 'x', password: 'y', csrf: 'z' })],
    ['unknown path', fetch(`${server.url}/no/such/path`)],
    ['userinfo with junk token', fetch(`${server.url}/me`, { headers: { authorization: 'Bearer junk' } })],
  ];
  for (const [name, pending] of cases) {
    const response = await pending;
    const body = await response.text();
    t.true(response.status >= 400 && response.status < 500, `${name}: ${response.status}`);
    t.notRegex(body, /\n\s+at .+:\d+:\d+/, `${name} leaks a stack trace`);
  }
});

test('JSON errors from our routes carry a stable code and messages in both languages', async (t) => {
  const response = await fetch(`${server.url}/no/such/path`, { headers: { accept: 'application/json' } });
  t.is(response.status, 404);
  const body = await response.json() as Record<string, string>;
  t.is(body.error, 'not_found');
  t.truthy(body.message_zh);
  t.truthy(body.message_en);
  t.truthy(body.request_id);
});

test('the paths sent straight to the provider are served by none of our route tables', async (t) => {
  const { buildApp } = await import('../../src/app.js');
  const { directProviderPaths, providerEndpoints } = await import('../../src/oidc/endpoint-methods.js');
  const app = await buildApp(server.deps);
  const direct = directProviderPaths(providerEndpoints(true));
  t.deepEqual([...direct].sort(), ['/jwks', '/me', '/token', '/token/introspection', '/token/revocation']);
  type Matcher = { match(path: string, method: string): { route: boolean } };
  const routers = app.middleware.map((middleware) => (middleware as unknown as { router?: Matcher }).router).filter((router): router is Matcher => router !== undefined);
  t.true(routers.length >= 10, `found ${routers.length} route tables`);
  for (const router of routers) {
    for (const path of direct) {
      for (const method of ['GET', 'POST']) t.false(router.match(path, method).route, `${method} ${path} is routed before the provider`);
    }
  }
  // And they still reach it.
  const jwks = await fetch(new URL('/jwks', server.url));
  t.is(jwks.status, 200);
  t.truthy(((await jwks.json()) as { keys: unknown[] }).keys.length);
});
