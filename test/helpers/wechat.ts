import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PASSWORD, seedAccount } from './accounts.js';
import { makePerson } from './account-centre.js';
import { passwordLogin } from './oidc.js';
import type { TestServer } from './server.js';

export const MINIPROGRAM = { client_id: 'miniprogram', redirect_uri: 'https://miniprogram.gov.example/oidc/callback' };
export const WECHAT_GRANT = 'urn:civic-idp:grant-type:wechat';
export const APP_ID = 'wx00112233445566ff';

/**
 * A WeChat fixtures file of its own: `count` people (`p0` … with fresh openids, even ones
 * with a unionid), a blocked code and a phone code. Each key is a family of one-time codes.
 */
export function wechatFixtures(count = 12) {
  const dir = mkdtempSync(join(tmpdir(), 'civic-idp-wechat-'));
  const file = join(dir, 'wechat.json');
  const codes: Record<string, { openid: string; unionid?: string }> = {};
  for (let i = 0; i < count; i += 1) {
    const openid = `oT${randomBytes(12).toString('base64url')}`;
    codes[`p${i}`] = i % 2 === 0 ? { openid, unionid: `uT${randomBytes(12).toString('base64url')}` } : { openid };
  }
  writeFileSync(file, JSON.stringify({ appId: APP_ID, codes, blockedCodes: ['risky'], phoneCodes: { phone0: '13800138000' } }));
  return { file, codes, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

let serial = 0;
/** A fresh one-time code of fixture key `key`. */
export function codeOf(key: string): string {
  serial += 1;
  return `${key}.${serial}${randomBytes(4).toString('hex')}`;
}

export interface TokenAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: Record<string, any>;
}

/** The mini-program's grant: a WeChat code for tokens. */
export async function wechatGrant(server: TestServer, code: string | undefined, extra: Record<string, string> = {}): Promise<TokenAnswer> {
  const body = new URLSearchParams({ grant_type: WECHAT_GRANT, client_id: MINIPROGRAM.client_id, scope: 'openid profile', ...(code === undefined ? {} : { code }), ...extra });
  const response = await fetch(`${server.url}/token`, { method: 'POST', headers: { accept: 'application/json' }, body });
  return { status: response.status, body: await response.json() as TokenAnswer['body'] };
}

/** The one-time binding: a normal login of the mini-program (its web-view), then the ticket with that login's token. */
export async function bindWithTicket(server: TestServer, ticket: string, identifier: string, password: string, client: { client_id: string; redirect_uri: string } = MINIPROGRAM): Promise<TokenAnswer> {
  const login = await passwordLogin(server.url, client, identifier, password, { scope: 'openid profile account' });
  if (login.tokens.status !== 200) throw new Error(`web-view login failed: ${JSON.stringify(login.tokens.body)}`);
  return accountWechat(server, login.tokens.body.access_token!, 'POST', '', { binding_ticket: ticket });
}

export async function accountWechat(server: TestServer, token: string, method: string, path: string, body?: unknown): Promise<TokenAnswer> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.url}/api/v1/account/wechat${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) as TokenAnswer['body'] : {} };
}

/** A person with an account whose WeChat identity of fixture key `key` is bound through the real binding step. */
export async function boundPerson(server: TestServer, key: string) {
  const person = makePerson();
  const id = await seedAccount(server.deps, person);
  const unbound = await wechatGrant(server, codeOf(key));
  if (unbound.body.error !== 'wechat_unbound') throw new Error(`expected unbound: ${JSON.stringify(unbound.body)}`);
  const bound = await bindWithTicket(server, unbound.body.binding_ticket, person.phone, PASSWORD);
  if (bound.status !== 201) throw new Error(`binding failed: ${JSON.stringify(bound.body)}`);
  return { person, id, binding: bound.body };
}
