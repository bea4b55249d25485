import test from 'ava';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { PASSWORD, ZHANG_SAN, seedAccount } from '../../helpers/accounts.js';
import { HttpBrowser } from '../../helpers/http-browser.js';
import { discoverThree, rpLogin, threeClients, writeClientsFile } from '../../helpers/relying-party.js';
import { startServer, type TestServer } from '../../helpers/server.js';

/**
 * The OpenID Connect Config OP plan: what discovery and the JWKS say, and that they say
 * what the provider does; and key rotation seen by a relying party: ID tokens signed with
 * the old key keep verifying against the published set until they expire, and the RP,
 * finding a new kid, fetches the set again and accepts the new ones.
 */

const LOGIN = { identifier: ZHANG_SAN.idNumber, password: PASSWORD };

let server: TestServer;
let configs: Awaited<ReturnType<typeof discoverThree>>;
test.before(async () => {
  server = await startServer({ CLIENTS_FILE: writeClientsFile(threeClients()) });
  await seedAccount(server.deps, ZHANG_SAN);
  configs = await discoverThree(server.url);
});
test.after.always(async () => { await server?.close(); });

test('discovery: issuer, endpoints under it, and what is supported, as the provider really behaves', async (t) => {
  const response = await fetch(`${server.url}/.well-known/openid-configuration`);
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /application\/json/);
  const metadata = await response.json() as Record<string, unknown>;
  t.is(metadata.issuer, server.url);
  for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint', 'introspection_endpoint', 'revocation_endpoint']) {
    t.true(String(metadata[endpoint]).startsWith(`${server.url}/`), endpoint);
  }
  t.deepEqual(metadata.response_types_supported, ['code']);
  t.deepEqual(metadata.subject_types_supported, ['public', 'pairwise']);
  t.true((metadata.id_token_signing_alg_values_supported as string[]).includes('ES256'));
  t.false((metadata.id_token_signing_alg_values_supported as string[]).includes('none'));
  t.false((metadata.id_token_signing_alg_values_supported as string[]).some((alg) => alg.startsWith('HS')), 'no symmetric algorithms');
  t.deepEqual([...(metadata.token_endpoint_auth_methods_supported as string[])].sort(), ['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt']);
  for (const scope of ['openid', 'profile', 'phone', 'offline_access']) t.true((metadata.scopes_supported as string[]).includes(scope), scope);
  for (const claim of ['sub', 'auth_time', 'acr', 'amr', 'name', 'phone_number', 'sid']) t.true((metadata.claims_supported as string[]).includes(claim), claim);
  t.true(metadata.backchannel_logout_supported);
  t.true(metadata.backchannel_logout_session_supported);
  t.true((metadata.grant_types_supported as string[]).includes('refresh_token'));
  t.true((metadata.code_challenge_methods_supported as string[]).includes('S256'));
  t.true(metadata.claims_parameter_supported);
});

test('the JWKS publishes public signing keys only, each with kid, alg and use', async (t) => {
  const response = await fetch(`${server.url}/jwks`);
  t.regex(response.headers.get('content-type') ?? '', /json/);
  const { keys } = await response.json() as { keys: Array<Record<string, unknown>> };
  t.true(keys.length >= 2);
  for (const key of keys) {
    t.truthy(key.kid);
    t.is(key.use, 'sig');
    t.true(['ES256', 'RS256'].includes(String(key.alg)));
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) t.false(secret in key, `no private member ${secret}`);
  }
  t.is(new Set(keys.map((key) => key.kid)).size, keys.length, 'kids are unique');
});

test('an ID token names its key by kid, and that key is in the JWKS', async (t) => {
  const { tokens } = await rpLogin(configs.portal, new HttpBrowser(server.url), LOGIN);
  const header = decodeProtectedHeader(tokens.id_token!);
  t.is(header.alg, 'ES256');
  const { keys } = await (await fetch(`${server.url}/jwks`)).json() as { keys: Array<{ kid: string }> };
  t.true(keys.some((key) => key.kid === header.kid));
});

test.serial('key rotation: the RP accepts ID tokens signed with the new key, old ones keep verifying until they expire', async (t) => {
  const browser = new HttpBrowser(server.url);
  const before = await rpLogin(configs.portal, browser, LOGIN);
  const oldKid = decodeProtectedHeader(before.tokens.id_token!).kid;

  await server.deps.signingKeys.rotate({ activationDelaySeconds: 0, retainSeconds: 3600 });
  t.true(await server.deps.providers.refresh());

  // The same openid-client configuration (its JWKS cached) meets a kid it has not seen.
  const after = await rpLogin(configs.portal, browser, undefined, { prompt: 'none' });
  const newKid = decodeProtectedHeader(after.tokens.id_token!).kid;
  t.not(newKid, oldKid);

  const jwks = createRemoteJWKSet(new URL(`${server.url}/jwks`));
  const old = await jwtVerify(before.tokens.id_token!, jwks, { issuer: server.url, audience: 'portal' });
  t.is(old.protectedHeader.kid, oldKid, 'the token signed before the rotation still verifies');
  await t.notThrowsAsync(jwtVerify(after.tokens.id_token!, jwks, { issuer: server.url, audience: 'portal' }));

  // Once the old key is retired and purged, its tokens no longer verify.
  await server.deps.database.db.updateTable('signing_keys').set({ retire_after: new Date(Date.now() - 1000) }).where('kid', '=', oldKid!).execute();
  await server.deps.signingKeys.purgeRetired();
  t.true(await server.deps.providers.refresh());
  const fresh = createRemoteJWKSet(new URL(`${server.url}/jwks`));
  await t.throwsAsync(jwtVerify(before.tokens.id_token!, fresh, { issuer: server.url, audience: 'portal' }));
});
