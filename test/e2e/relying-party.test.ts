import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import test from 'ava';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { startServer, type TestServer } from '../helpers/server.js';
import { isJwt } from '../helpers/relying-party.js';

/**
 * civic-idp seen from a relying party: openid-client v6 against a real listening server.
 * The fixture's portal client is confidential (client_secret_basic) and may also use the
 * client_credentials grant; the app client is public.
 */

const CLIENTS_FILE = resolve('test/fixtures/clients.json');
const fixture = JSON.parse(readFileSync(CLIENTS_FILE, 'utf8')) as Array<{ client_id: string; client_secret?: string }>;
const PORTAL_SECRET = fixture.find((entry) => entry.client_id === 'portal')?.client_secret ?? '';
const API = 'https://api.gov.example/';

let server: TestServer;
test.before(async () => { server = await startServer({ CLIENTS_FILE }); });
test.after.always(async () => { await server?.close(); });

const insecure = { execute: [oidc.allowInsecureRequests] };

function portal(secret = PORTAL_SECRET): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(server.url), 'portal', undefined, oidc.ClientSecretBasic(secret), insecure);
}

function app(): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(server.url), 'app', undefined, oidc.None(), insecure);
}

/** The OAuth error of a refused request, whether it came as a JSON body or a WWW-Authenticate challenge. */
async function oauthError(error: unknown): Promise<{ status: number; error: string }> {
  if (error instanceof oidc.ResponseBodyError) return { status: error.status, error: error.error };
  if (error instanceof oidc.WWWAuthenticateChallengeError) {
    const body = await error.response.json().catch(() => ({})) as { error?: string };
    return { status: error.status, error: body.error ?? String(error.cause[0]?.parameters.error) };
  }
  throw error;
}

test('the fixture portal secret is long enough for CLIENTS_FILE', (t) => {
  t.true(PORTAL_SECRET.length >= 32);
});

test('discovery verifies: the issuer is exactly the server URL', async (t) => {
  const config = await portal();
  const metadata = config.serverMetadata();
  t.is(metadata.issuer, server.url);
  t.is(metadata.token_endpoint, `${server.url}/token`);
  t.truthy(metadata.jwks_uri);
  t.true(metadata.grant_types_supported?.includes('client_credentials'));
});

test('discovery against a different expected issuer is refused', async (t) => {
  const elsewhere = new URL(server.url.replace('127.0.0.1', 'localhost'));
  const error = await t.throwsAsync(oidc.discovery(elsewhere, 'portal', undefined, oidc.ClientSecretBasic(PORTAL_SECRET), insecure));
  t.regex(error!.message, /issuer/i);
});

test('client_credentials without a resource gets an opaque access token', async (t) => {
  const tokens = await oidc.clientCredentialsGrant(await portal());
  t.is(tokens.token_type.toLowerCase(), 'bearer');
  t.false(isJwt(tokens.access_token), 'a token without a resource must not be a JWT');
  t.true(tokens.access_token.length >= 32);
  t.is(tokens.expires_in, 600);
  t.is(tokens.refresh_token, undefined);
  t.is(tokens.id_token, undefined);
});

test('client_credentials with resource=api gets an ES256 at+jwt verifiable against jwks_uri', async (t) => {
  const config = await portal();
  const metadata = config.serverMetadata();
  const tokens = await oidc.clientCredentialsGrant(config, { resource: API, scope: 'services.read' });
  t.true(isJwt(tokens.access_token));

  const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri!));
  const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
    issuer: server.url,
    audience: API,
    typ: 'at+jwt',
    algorithms: ['ES256'],
  });
  t.is(protectedHeader.alg, 'ES256');
  t.is(protectedHeader.typ, 'at+jwt');
  t.truthy(protectedHeader.kid);
  t.is(payload.iss, server.url);
  t.is(payload.aud, API);
  t.is(payload.client_id, 'portal');
  t.is(payload.scope, 'services.read');
  t.is(typeof payload.exp, 'number');
  t.is(typeof payload.iat, 'number');
  t.is(payload.exp! - payload.iat!, 600, 'exp follows the resource server access_token_ttl');
  t.true(payload.exp! > Math.floor(Date.now() / 1000));
  t.truthy(payload.jti);
});

test('the JWT access token does not verify for another audience or a forged signature', async (t) => {
  const config = await portal();
  const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
  const tokens = await oidc.clientCredentialsGrant(config, { resource: API });
  await t.throwsAsync(jwtVerify(tokens.access_token, jwks, { issuer: server.url, audience: 'https://other.gov.example/' }));
  const [header, payload, signature] = tokens.access_token.split('.');
  const tampered = `${header}.${payload}.${signature!.slice(0, -4)}AAAA`;
  await t.throwsAsync(jwtVerify(tampered, jwks, { issuer: server.url, audience: API }));
});

test('client_credentials for an unregistered resource is refused with invalid_target', async (t) => {
  const error = await t.throwsAsync(oidc.clientCredentialsGrant(await portal(), { resource: 'https://evil.example/' }));
  t.true(error instanceof oidc.ResponseBodyError);
  t.is((error as oidc.ResponseBodyError).error, 'invalid_target');
});

test('introspection says active with client_id; after revocation it says inactive', async (t) => {
  const config = await portal();
  const { access_token: token } = await oidc.clientCredentialsGrant(config);

  const before = await oidc.tokenIntrospection(config, token);
  t.true(before.active);
  t.is(before.client_id, 'portal');
  t.is(before.iss, server.url);
  t.is(typeof before.exp, 'number');
  t.is(before.sub, undefined, 'a client credentials token has no end-user');

  await oidc.tokenRevocation(config, token);

  const after = await oidc.tokenIntrospection(config, token);
  t.false(after.active);
  t.is(after.client_id, undefined);
});

test('introspection of an unknown token says inactive', async (t) => {
  const result = await oidc.tokenIntrospection(await portal(), 'not-a-token-we-ever-issued-0123456789abcdef');
  t.false(result.active);
});

test('a wrong client secret is refused with invalid_client', async (t) => {
  const wrong = await portal(`${PORTAL_SECRET.slice(0, -1)}x`);
  const refused = await oauthError(await t.throwsAsync(oidc.clientCredentialsGrant(wrong)));
  t.deepEqual(refused, { status: 401, error: 'invalid_client' });
});

test('a wrong client secret cannot introspect either', async (t) => {
  const { access_token: token } = await oidc.clientCredentialsGrant(await portal());
  const refused = await oauthError(await t.throwsAsync(oidc.tokenIntrospection(await portal('x'.repeat(48)), token)));
  t.deepEqual(refused, { status: 401, error: 'invalid_client' });
});

test('a public client cannot use the client_credentials grant', async (t) => {
  const refused = await oauthError(await t.throwsAsync(oidc.clientCredentialsGrant(await app())));
  // oidc-provider answers invalid_request ("requested grant type is not allowed for this client").
  t.is(refused.status, 400);
  t.true(['invalid_request', 'unauthorized_client'].includes(refused.error), refused.error);
});

test('another client cannot introspect or revoke the portal token', async (t) => {
  const portalConfig = await portal();
  const { access_token: token } = await oidc.clientCredentialsGrant(portalConfig);
  t.true((await oidc.tokenIntrospection(portalConfig, token)).active, 'control: the owner sees it active');

  const other = await app();
  let seen: oidc.IntrospectionResponse | undefined;
  try {
    seen = await oidc.tokenIntrospection(other, token);
  } catch (error) {
    t.true(error instanceof oidc.ResponseBodyError, String(error));
  }
  if (seen) {
    t.false(seen.active, 'another client must not learn that the token is active');
    t.is(seen.client_id, undefined);
    t.is(seen.scope, undefined);
  }

  // Revocation by someone else is either refused or silently ignored, never carried out.
  await oidc.tokenRevocation(other, token).catch(() => undefined);
  t.true((await oidc.tokenIntrospection(portalConfig, token)).active, 'the token survives a revocation by another client');
});
