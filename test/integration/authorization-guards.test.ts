import { createHash, randomBytes } from 'node:crypto';
import test from 'ava';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
test.before(async () => { server = await startServer(); });
test.after.always(async () => { await server?.close(); });

function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function authorize(params: Record<string, string>) {
  const url = new URL('/auth', server.url);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  const response = await fetch(url, { redirect: 'manual' });
  return { status: response.status, location: response.headers.get('location') ?? '', body: await response.text() };
}

const app = { client_id: 'app', response_type: 'code', scope: 'openid', redirect_uri: 'cn.gov.example.app:/oauth2/callback' };
const portal = { client_id: 'portal', response_type: 'code', scope: 'openid', redirect_uri: 'http://localhost:8080/callback' };

test('discovery names ISSUER exactly and advertises only the code flow with S256', async (t) => {
  const response = await fetch(`${server.url}/.well-known/openid-configuration`);
  const discovery = await response.json() as Record<string, unknown>;
  t.is(discovery.issuer, server.url);
  t.deepEqual(discovery.response_types_supported, ['code']);
  t.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
  t.false((discovery.grant_types_supported as string[]).includes('implicit'));
});

test('a public client with PKCE S256 reaches the login interaction', async (t) => {
  const { challenge } = pkcePair();
  const result = await authorize({ ...app, code_challenge: challenge, code_challenge_method: 'S256' });
  t.is(result.status, 303);
  t.regex(result.location, /\/interaction\/[A-Za-z0-9_-]+$/);
});

test('a public client without PKCE is refused', async (t) => {
  const result = await authorize(app);
  t.is(result.status, 303);
  const location = new URL(result.location);
  t.is(location.searchParams.get('error'), 'invalid_request');
  t.regex(location.searchParams.get('error_description') ?? '', /PKCE/);
});

test('PKCE with the plain method is refused', async (t) => {
  const { verifier } = pkcePair();
  const result = await authorize({ ...app, code_challenge: verifier, code_challenge_method: 'plain' });
  const location = new URL(result.location);
  t.is(location.searchParams.get('error'), 'invalid_request');
  t.regex(location.searchParams.get('error_description') ?? '', /code_challenge_method/);
});

test('an unregistered redirect_uri is refused without redirecting', async (t) => {
  const result = await authorize({ ...portal, redirect_uri: 'https://evil.example/callback' });
  t.is(result.status, 400);
  t.is(result.location, '');
  t.regex(result.body, /data-error-code="invalid_redirect_uri"/);
});

test('a registered redirect_uri with an added query is refused', async (t) => {
  const result = await authorize({ ...portal, redirect_uri: 'http://localhost:8080/callback?next=/admin' });
  t.is(result.status, 400);
  t.is(result.location, '');
  t.regex(result.body, /invalid_redirect_uri/);
});

test('implicit and hybrid response types are refused', async (t) => {
  for (const responseType of ['id_token', 'id_token token', 'code id_token', 'token']) {
    const result = await authorize({ ...portal, response_type: responseType, nonce: 'n' });
    // The error goes back to the client in the fragment (the response mode these types imply) or the query.
    t.is(result.status, 303, responseType);
    const location = new URL(result.location);
    t.true(location.href.startsWith(portal.redirect_uri), responseType);
    const error = new URLSearchParams(location.hash.slice(1)).get('error') ?? location.searchParams.get('error');
    t.is(error, 'unsupported_response_type', responseType);
    t.false(/[#&?](code|id_token|access_token)=/.test(location.href), `${responseType} must carry no code or token`);
  }
});

test('an unknown client gets a clean 400 page, not a 500', async (t) => {
  const result = await authorize({ ...portal, client_id: 'nobody' });
  t.is(result.status, 400);
  t.regex(result.body, /invalid_client/);
  t.notRegex(result.body, /at .*\.js:\d+/);
});
