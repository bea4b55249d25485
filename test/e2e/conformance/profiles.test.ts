import test from 'ava';
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { PASSWORD, ZHANG_SAN, seedAccount } from '../../helpers/accounts.js';
import { HttpBrowser } from '../../helpers/http-browser.js';
import { discoverThree, insecure, rpLogin, threeClients, writeClientsFile } from '../../helpers/relying-party.js';
import { startServer, type TestServer } from '../../helpers/server.js';

/**
 * The profile pieces the README's "Conformance" section offers, each through openid-client:
 * pushed authorization requests (RFC 9126), also required per client; DPoP-bound tokens
 * (RFC 9449); client authentication by private_key_jwt (RFC 7523).
 */

const LOGIN = { identifier: ZHANG_SAN.idNumber, password: PASSWORD };
const PAR_ONLY = { client_id: 'par-only', secret: 'par-only-department-secret-0123456789-abcdef', redirect_uri: 'http://localhost:8083/callback' };
const KEY_CLIENT = { client_id: 'signed-assertion', redirect_uri: 'http://localhost:8084/callback' };
const DPOP_ONLY = { client_id: 'dpop-only', secret: 'dpop-only-department-secret-0123456789-abcdef', redirect_uri: 'http://localhost:8085/callback' };

let server: TestServer;
let configs: Awaited<ReturnType<typeof discoverThree>>;
let keys: { privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']; publicJwk: Record<string, unknown> };

test.before(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  keys = { privateKey: pair.privateKey, publicJwk: { ...await exportJWK(pair.publicKey), kid: 'department-2026', alg: 'ES256', use: 'sig' } };
  const web = { application_type: 'web', grant_types: ['authorization_code'], response_types: ['code'] };
  server = await startServer({
    CLIENTS_FILE: writeClientsFile([
      ...threeClients(),
      { ...web, client_id: PAR_ONLY.client_id, client_secret: PAR_ONLY.secret, redirect_uris: [PAR_ONLY.redirect_uri], token_endpoint_auth_method: 'client_secret_basic', require_pushed_authorization_requests: true },
      { ...web, client_id: DPOP_ONLY.client_id, client_secret: DPOP_ONLY.secret, redirect_uris: [DPOP_ONLY.redirect_uri], token_endpoint_auth_method: 'client_secret_basic', dpop_bound_access_tokens: true },
      {
        ...web, client_id: KEY_CLIENT.client_id, redirect_uris: [KEY_CLIENT.redirect_uri], grant_types: ['authorization_code', 'client_credentials'],
        token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', jwks: { keys: [keys.publicJwk] },
      },
    ]),
  });
  await seedAccount(server.deps, ZHANG_SAN);
  configs = await discoverThree(server.url);
});
test.after.always(async () => { await server?.close(); });

test('PAR: a pushed request\'s request_uri signs in; a client that requires PAR cannot send its parameters through the browser', async (t) => {
  const pushed = await rpLogin(configs.portal, new HttpBrowser(server.url), LOGIN, {}, { par: true });
  t.truthy(pushed.tokens.claims()!.sub);
  t.false(pushed.callback.searchParams.has('error'));

  const parOnly = await oidc.discovery(new URL(server.url), PAR_ONLY.client_id, { redirect_uris: [PAR_ONLY.redirect_uri] }, oidc.ClientSecretBasic(PAR_ONLY.secret), insecure);
  const plain = oidc.buildAuthorizationUrl(parOnly, { redirect_uri: PAR_ONLY.redirect_uri, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', state: 'plain' });
  const refused = await new HttpBrowser(server.url).get(plain.href);
  const answer = new URL(refused.url);
  t.true(refused.url.startsWith(PAR_ONLY.redirect_uri), refused.url);
  t.is(answer.searchParams.get('error'), 'invalid_request');
  t.false(answer.searchParams.has('code'));
  const viaPar = await rpLogin(parOnly, new HttpBrowser(server.url), LOGIN, {}, { par: true });
  t.truthy(viaPar.tokens.access_token);
});

test('DPoP: the app\'s tokens are bound to its key; userinfo takes the token with a proof, never as a bearer token', async (t) => {
  const dpop = oidc.getDPoPHandle(configs.app, await oidc.randomDPoPKeyPair());
  const { tokens } = await rpLogin(configs.app, new HttpBrowser(server.url), LOGIN, {}, { dpop });
  t.is(tokens.token_type.toLowerCase(), 'dpop');
  const sub = tokens.claims()!.sub;
  const info = await oidc.fetchUserInfo(configs.app, tokens.access_token, sub, { DPoP: dpop });
  t.is(info.sub, sub);
  const asBearer = await fetch(new URL('/me', server.url), { headers: { authorization: `Bearer ${tokens.access_token}` } });
  t.is(asBearer.status, 401);
});

test('DPoP required by registration: without a proof the code is not exchanged; with one the tokens are bound', async (t) => {
  const config = await oidc.discovery(new URL(server.url), DPOP_ONLY.client_id, { redirect_uris: [DPOP_ONLY.redirect_uri] }, oidc.ClientSecretBasic(DPOP_ONLY.secret), insecure);
  const refused = await t.throwsAsync(rpLogin(config, new HttpBrowser(server.url), LOGIN));
  t.is((refused as unknown as { error: string }).error, 'invalid_grant');
  const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair());
  const { tokens } = await rpLogin(config, new HttpBrowser(server.url), LOGIN, {}, { dpop });
  t.is(tokens.token_type.toLowerCase(), 'dpop');
});

test('private_key_jwt: a client authenticates with an assertion signed by its registered key; another key is invalid_client', async (t) => {
  const signed = await oidc.discovery(new URL(server.url), KEY_CLIENT.client_id, { redirect_uris: [KEY_CLIENT.redirect_uri] }, oidc.PrivateKeyJwt({ key: keys.privateKey, kid: 'department-2026' }), insecure);
  const granted = await oidc.clientCredentialsGrant(signed);
  t.truthy(granted.access_token);

  const stranger = await generateKeyPair('ES256');
  const forged = await oidc.discovery(new URL(server.url), KEY_CLIENT.client_id, { redirect_uris: [KEY_CLIENT.redirect_uri] }, oidc.PrivateKeyJwt({ key: stranger.privateKey, kid: 'department-2026' }), insecure);
  const error = await oidc.clientCredentialsGrant(forged).catch((e: unknown) => e);
  t.true(error instanceof oidc.ResponseBodyError);
  t.is((error as oidc.ResponseBodyError).error, 'invalid_client');
});
