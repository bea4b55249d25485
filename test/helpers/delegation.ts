import { randomInt, randomUUID } from 'node:crypto';
import { USCC_ALPHABET, usccCheckCharacter } from '../../src/identity/uscc.js';
import type { Json } from './json-api.js';
import { hidden } from './http-browser.js';
import { APP, PORTAL, beginAuthorization, codeFrom, exchangeCode, throughConsent } from './oidc.js';
import { PASSWORD, seedAccount } from './accounts.js';
import { makePerson } from './account-centre.js';
import type { TestServer } from './server.js';

export type Person = { idNumber: string; name: string; phone: string };

/** Persons of config/fixtures/registries.example.json besides 张三. */
export const LI_NA = { idNumber: '350102198503150241', name: '李娜', phone: '13905910001' };
export const CHEN_WEI = { idNumber: '350203199207210138', name: '陈伟', phone: '15859201234' };
export const LIN_JIANHUA = { idNumber: '350105197806200159', name: '林建华', phone: '13959112345' };

/** A valid, random unified social credit code. */
export function makeUscc(): string {
  let first17 = '91350100';
  while (first17.length < 17) first17 += USCC_ALPHABET[randomInt(0, USCC_ALPHABET.length)];
  return first17 + usccCheckCharacter(first17);
}

/**
 * Puts an enterprise straight into the store, bound to its representative, as a
 * completed registration would (the registry's representative by blind index).
 */
export async function seedEnterprise(server: TestServer, representative: { accountId: string; idNumber: string }, options: { uscc?: string; name?: string } = {}): Promise<{ id: string; uscc: string; name: string }> {
  const id = randomUUID();
  const uscc = options.uscc ?? makeUscc();
  const name = options.name ?? `福州示例科技有限公司${randomInt(0, 10_000)}`;
  await server.deps.database.db.insertInto('enterprises').values({
    id, uscc, name, type: 'company', status: 'active', registry_status: 'active', registry_checked_at: new Date(),
    registry_representative_idx: server.deps.accounts.idNumberIndex(representative.idNumber),
    representative_account_id: representative.accountId, representative_since: new Date(),
  }).execute();
  return { id, uscc, name };
}

export interface Citizen extends Person {
  accountId: string;
  token: string;
}

/** A registered citizen with an app access token for the JSON API (acting as themselves). */
export async function citizen(server: TestServer, person: Person = makePerson()): Promise<Citizen> {
  const accountId = await seedAccount(server.deps, person);
  return { ...person, accountId, token: await apiToken(server, person.phone) };
}

export async function apiToken(server: TestServer, identifier: string): Promise<string> {
  const auth = await beginAuthorization(server.url, APP, { scope: 'openid account', entity_type: 'natural' });
  const done = await throughConsent(auth.browser, await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier, password: PASSWORD }));
  const tokens = await exchangeCode(server.url, APP, codeFrom(done.url, auth.state), auth.verifier);
  if (tokens.status !== 200) throw new Error(`login failed: ${JSON.stringify(tokens.body)}`);
  return tokens.body.access_token!;
}

/** Calls /api/v1/delegations with a bearer token. */
export async function delegationApi(server: TestServer, token: string, method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${server.url}/api/v1/delegations${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) as Json : {} };
}

export const days = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();

export function portal(...items: string[]) {
  return [{ client_id: 'portal', service_items: items }];
}

/** The claims of a JWT, unverified (the tests trust the server they started). */
export function jwtClaims(jwt: string): Json {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Json;
}

export { PASSWORD };

/** A portal login (offline_access) that chooses `choice` on the identity page; returns the tokens and what was offered. */
export async function portalLoginAs(server: TestServer, identifier: string, choice: (offered: string[]) => string) {
  const auth = await beginAuthorization(server.url, PORTAL, { scope: 'openid profile offline_access', prompt: 'consent' });
  const page = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier, password: PASSWORD });
  const offered = [...page.body.matchAll(/data-enterprise-option="([^"]+)"/g)].map((m) => m[1]!);
  const chosen = await auth.browser.post(new URL(page.url).pathname, { csrf: hidden(page.body, 'csrf'), choice: choice(offered) });
  const done = await throughConsent(auth.browser, chosen);
  const tokens = await exchangeCode(server.url, PORTAL, codeFrom(done.url, auth.state), auth.verifier);
  return { offered, page, tokens, browser: auth.browser };
}

/** A token-endpoint or introspection call as the portal (client_secret_basic). */
export async function asPortal(server: TestServer, path: '/token' | '/token/introspection', form: Record<string, string>) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${PORTAL.client_id}:${PORTAL.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: await response.json() as Json };
}
