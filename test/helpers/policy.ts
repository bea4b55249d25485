import type { ClientMetadata } from 'oidc-provider';
import { accessPolicySchema } from '../../src/oidc/access-policy.js';
import { latestOutboxCode } from '../../src/ports/sms/index.js';
import { HttpBrowser, hidden, pkce } from './http-browser.js';
import type { TestServer } from './server.js';

export interface TestClient { client_id: string; redirect_uri: string }

/** A public web client (PKCE, no consent page) with the given access policy and extra metadata, registered as the console would. */
export async function registerClient(server: TestServer, clientId: string, policy: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<TestClient> {
  const redirectUri = `http://localhost:8080/${clientId}/callback`;
  await server.deps.clients.upsert([{
    client_id: clientId,
    client_name: `服务 ${clientId}`,
    application_type: 'web',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    access_policy: accessPolicySchema.parse(policy),
    ...extra,
  }], (metadata) => server.deps.providers.current.Client.validate(metadata as ClientMetadata), 'console');
  return { client_id: clientId, redirect_uri: redirectUri };
}

export interface Attempt {
  browser: HttpBrowser;
  /** Where the provider left the browser: an interaction page, or the client's redirect URI. */
  url: string;
  body: string;
  status: number;
  uid: string;
  state: string;
  verifier: string;
}

/** An authorization request in `browser` (its SSO session, if any, applies). */
export async function authorize(server: TestServer, browser: HttpBrowser, client: TestClient, extra: Record<string, string> = {}): Promise<Attempt> {
  const { verifier, challenge } = pkce();
  const state = Math.random().toString(36).slice(2);
  const url = new URL('/auth', server.url);
  for (const [key, value] of Object.entries({ response_type: 'code', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state, client_id: client.client_id, redirect_uri: client.redirect_uri, ...extra })) {
    url.searchParams.set(key, value);
  }
  const landed = await browser.get(url.href);
  const uid = /\/interaction\/([A-Za-z0-9_-]+)/.exec(landed.url)?.[1] ?? '';
  return { browser, url: landed.url, body: landed.body, status: landed.response.status, uid, state, verifier };
}

/** The client's redirect, when the attempt ended there: code or error. */
export function redirectParams(attempt: { url: string }, client: TestClient): URLSearchParams | undefined {
  return attempt.url.startsWith(client.redirect_uri) ? new URL(attempt.url).searchParams : undefined;
}

/** Signs in on the attempt's login page with a password; returns where that led. */
export async function withPassword(attempt: Attempt, identifier: string, password: string) {
  const done = await attempt.browser.post(`/interaction/${attempt.uid}/login/password`, { csrf: hidden(attempt.body, 'csrf'), identifier, password });
  return { ...attempt, url: done.url, body: done.body, status: done.response.status };
}

/** Signs in on the attempt's login page with an SMS code from the outbox. */
export async function withSms(server: TestServer, attempt: Attempt, phone: string) {
  const csrf = hidden(attempt.body, 'csrf');
  await attempt.browser.post(`/interaction/${attempt.uid}/login/sms/send`, { csrf, phone });
  const code = await latestOutboxCode(server.deps.config.sms.kind === 'outbox' ? server.deps.config.sms.file : '', phone, 'login');
  const done = await attempt.browser.post(`/interaction/${attempt.uid}/login/sms`, { csrf, phone, code: code ?? '' });
  return { ...attempt, url: done.url, body: done.body, status: done.response.status };
}

/** Redeems the code the attempt ended with, for a public client. */
export async function tokensFor(server: TestServer, attempt: { url: string; verifier: string }, client: TestClient) {
  const code = new URL(attempt.url).searchParams.get('code') ?? '';
  const response = await fetch(new URL('/token', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: client.redirect_uri, code_verifier: attempt.verifier, client_id: client.client_id }),
  });
  return { status: response.status, body: await response.json() as Record<string, string> };
}

/** 401 invalid_client when the secret is wrong; 400 invalid_grant (a made-up code) when it is right. */
export async function authenticates(server: TestServer, clientId: string, secret: string): Promise<boolean> {
  const response = await fetch(new URL('/token', server.url), {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: 'made-up', redirect_uri: `http://localhost:8080/${clientId}/callback` }),
  });
  const body = await response.json() as { error: string };
  if (body.error === 'invalid_client') return false;
  if (body.error === 'invalid_grant') return true;
  throw new Error(`unexpected answer ${response.status} ${JSON.stringify(body)}`);
}
