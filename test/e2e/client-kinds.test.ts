import test from 'ava';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { PASSWORD, ZHANG_SAN } from '../helpers/accounts.js';
import { HttpBrowser } from '../helpers/http-browser.js';
import { discoverThree, isJwt, threeClientProvider, rpLogin } from '../helpers/relying-party.js';
import type { TestServer } from '../helpers/server.js';
import { LIFETIMES } from '../../src/oidc/configuration/ttl.js';

/**
 * Tokens for the kinds of client, seen through openid-client: the app (public, PKCE, a
 * native redirect) with rotating refresh tokens whose reuse revokes the family, a 30-day
 * sliding lifetime and an absolute cap; access tokens that are JWTs (RFC 9068) for a
 * resource indicator and opaque otherwise; introspection and revocation of each.
 */

const LOGIN = { identifier: ZHANG_SAN.idNumber, password: PASSWORD };
const API = 'https://api.gov.example/';
const DAY = 24 * 3600;

let server: TestServer;
let accountId: string;
let configs: Awaited<ReturnType<typeof discoverThree>>;
test.before(async () => {
  ({ server, accountId, configs } = await threeClientProvider());
});
test.after.always(async () => { await server?.close(); });

const now = () => Math.floor(Date.now() / 1000);

async function refreshTokenRow(token: string) {
  return server.deps.database.db.selectFrom('oidc_artifacts').select(['payload', 'expires_at'])
    .where('model', '=', 'RefreshToken').where('id', '=', token).executeTakeFirstOrThrow();
}

/** Pretends the refresh token (and its family) was first issued `days` ago. */
async function backdate(token: string, days: number) {
  const { payload } = await refreshTokenRow(token);
  const shifted = { ...(payload as Record<string, number>), iat: now() - days * DAY, iiat: now() - days * DAY };
  await server.deps.database.db.updateTable('oidc_artifacts').set({ payload: JSON.stringify(shifted) })
    .where('model', '=', 'RefreshToken').where('id', '=', token).execute();
}

test('the app signs in with PKCE on its custom-scheme redirect and gets a refresh token valid for 30 days', async (t) => {
  const { tokens, callback } = await rpLogin(configs.app, new HttpBrowser(server.url), LOGIN);
  t.is(callback.protocol, 'cn.gov.example.app:');
  t.truthy(tokens.refresh_token);
  t.false(isJwt(tokens.access_token), 'no resource: an opaque access token');
  const { payload } = await refreshTokenRow(tokens.refresh_token!);
  const { exp, iat } = payload as { exp: number; iat: number };
  t.is(exp - iat, LIFETIMES.refreshTokenSliding);
});

test('the app\'s refresh token rotates on every use; the old one reused once its successor was used revokes the whole family, access tokens too', async (t) => {
  const { tokens } = await rpLogin(configs.app, new HttpBrowser(server.url), LOGIN);
  const rotated = await oidc.refreshTokenGrant(configs.app, tokens.refresh_token!);
  t.not(rotated.refresh_token, tokens.refresh_token);
  t.truthy(await oidc.fetchUserInfo(configs.app, rotated.access_token, accountId));
  // The app shows it holds the successor: from now on the old token is a replay, even
  // within the reuse interval.
  const next = await oidc.refreshTokenGrant(configs.app, rotated.refresh_token!);

  const reused = await oidc.refreshTokenGrant(configs.app, tokens.refresh_token!).catch((e: unknown) => e);
  t.is((reused as oidc.ResponseBodyError).error, 'invalid_grant');
  const successor = await oidc.refreshTokenGrant(configs.app, next.refresh_token!).catch((e: unknown) => e);
  t.is((successor as oidc.ResponseBodyError).error, 'invalid_grant', 'the thief\'s and the owner\'s newer token die alike');
  const userinfo = await oidc.fetchUserInfo(configs.app, next.access_token, accountId).catch((e: unknown) => e);
  t.true(userinfo instanceof oidc.WWWAuthenticateChallengeError, 'the family\'s access token is revoked');
});

test('the refresh lifetime slides by 30 days on each rotation, but never past 90 days from the first login', async (t) => {
  const { tokens } = await rpLogin(configs.app, new HttpBrowser(server.url), LOGIN);
  await backdate(tokens.refresh_token!, 10);
  const slid = await oidc.refreshTokenGrant(configs.app, tokens.refresh_token!);
  const slidExp = (await refreshTokenRow(slid.refresh_token!)).payload as { exp: number; iiat: number };
  t.true(Math.abs(slidExp.exp - (now() + LIFETIMES.refreshTokenSliding)) <= 5, 'a fresh 30 days');
  t.true(Math.abs(slidExp.iiat - (now() - 10 * DAY)) <= 5, 'the family remembers its first login');

  await backdate(slid.refresh_token!, 89);
  const capped = await oidc.refreshTokenGrant(configs.app, slid.refresh_token!);
  const cappedExp = ((await refreshTokenRow(capped.refresh_token!)).payload as { exp: number }).exp;
  t.true(cappedExp <= now() + DAY + 5, `capped at 90 days from the first login, ${cappedExp - now()} s left`);
  t.true(cappedExp > now() + DAY - 60);
});

test('a resource indicator gets a JWT access token for that API (RFC 9068); userinfo does not accept it, the API does', async (t) => {
  const { tokens } = await rpLogin(configs.app, new HttpBrowser(server.url), LOGIN, { resource: API, scope: 'openid services.read' });
  t.true(isJwt(tokens.access_token));
  const jwks = createRemoteJWKSet(new URL(`${server.url}/jwks`));
  const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, { issuer: server.url, audience: API, typ: 'at+jwt' });
  t.is(protectedHeader.typ, 'at+jwt');
  t.is(payload.sub, accountId);
  t.is(payload.client_id, 'app');
  t.is(payload.scope, 'services.read');
  t.truthy(payload.jti);
  t.truthy(payload.exp);
  await t.throwsAsync(jwtVerify(tokens.access_token, jwks, { issuer: server.url, audience: 'https://other.gov.example/' }));

  const refreshed = await oidc.refreshTokenGrant(configs.app, tokens.refresh_token!, { resource: API });
  t.true(isJwt(refreshed.access_token), 'the refreshed access token for the API is a JWT too');
});

test('the portal\'s opaque access token: introspected by its client only; revoking it revokes the grant, refresh token included', async (t) => {
  const { tokens } = await rpLogin(configs.portal, new HttpBrowser(server.url), LOGIN, { scope: 'openid offline_access', prompt: 'consent' });
  t.false(isJwt(tokens.access_token));
  t.truthy(tokens.refresh_token, 'offline_access with consent gives the portal a refresh token');
  t.like(await oidc.tokenIntrospection(configs.portal, tokens.access_token), { active: true, client_id: 'portal', sub: accountId, token_type: 'Bearer' });
  t.like(await oidc.tokenIntrospection(configs.portal, tokens.refresh_token!), { active: true, client_id: 'portal', sub: accountId });
  t.false((await oidc.tokenIntrospection(configs.portal2, tokens.access_token)).active, 'another client learns nothing');

  await oidc.tokenRevocation(configs.portal, tokens.access_token);
  t.false((await oidc.tokenIntrospection(configs.portal, tokens.access_token)).active);
  t.false((await oidc.tokenIntrospection(configs.portal, tokens.refresh_token!)).active, 'the grant went with it');
  const after = await oidc.refreshTokenGrant(configs.portal, tokens.refresh_token!).catch((e: unknown) => e);
  t.is((after as oidc.ResponseBodyError).error, 'invalid_grant');
});

test('the app\'s refresh token: introspected and revoked by the public client itself; its access tokens die with it', async (t) => {
  const { tokens } = await rpLogin(configs.app, new HttpBrowser(server.url), LOGIN);
  t.like(await oidc.tokenIntrospection(configs.app, tokens.refresh_token!), { active: true, client_id: 'app', sub: accountId });
  t.like(await oidc.tokenIntrospection(configs.app, tokens.access_token), { active: true, client_id: 'app', sub: accountId });
  t.false((await oidc.tokenIntrospection(configs.portal, tokens.refresh_token!)).active, 'the portal learns nothing about the app\'s token');
  await oidc.tokenRevocation(configs.portal, tokens.refresh_token!);
  t.true((await oidc.tokenIntrospection(configs.app, tokens.refresh_token!)).active, 'nor can it revoke it');

  await oidc.tokenRevocation(configs.app, tokens.refresh_token!);
  t.false((await oidc.tokenIntrospection(configs.app, tokens.refresh_token!)).active);
  t.false((await oidc.tokenIntrospection(configs.app, tokens.access_token)).active);
  const after = await oidc.refreshTokenGrant(configs.app, tokens.refresh_token!).catch((e: unknown) => e);
  t.is((after as oidc.ResponseBodyError).error, 'invalid_grant');
});

test('a JWT access token is checked by the API against the JWKS, not introspected; revoking the grant stops new ones', async (t) => {
  const { tokens } = await rpLogin(configs.app, new HttpBrowser(server.url), LOGIN, { resource: API, scope: 'openid services.read' });
  t.true(isJwt(tokens.access_token));
  const introspected = await oidc.tokenIntrospection(configs.app, tokens.access_token).catch((e: unknown) => e);
  t.is((introspected as oidc.ResponseBodyError).error, 'unsupported_token_type', 'documented: oidc-provider does not store JWT access tokens');
  await oidc.tokenRevocation(configs.app, tokens.refresh_token!);
  const after = await oidc.refreshTokenGrant(configs.app, tokens.refresh_token!, { resource: API }).catch((e: unknown) => e);
  t.is((after as oidc.ResponseBodyError).error, 'invalid_grant');
  const { exp, iat } = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as { exp: number; iat: number };
  t.is(exp - iat, 600, 'a JWT lives only as long as the API\'s access_token_ttl');
});
