import { HttpBrowser, hidden, pkce } from './http-browser.js';

export const APP = { client_id: 'app', redirect_uri: 'cn.gov.example.app:/oauth2/callback' };
export const PORTAL = { client_id: 'portal', redirect_uri: 'http://localhost:8080/callback', secret: 'portal-example-secret-change-me-0123456789' };

export interface Authorization {
  browser: HttpBrowser;
  verifier: string;
  state: string;
  /** The login page (or whatever the provider answered) and its interaction uid. */
  page: string;
  uid: string;
  csrf: string;
}

/** An authorization request with PKCE S256, and what the token request will need of it. */
export function authorizationRequest(base: string, client: { client_id: string; redirect_uri: string }, extra: Record<string, string> = {}) {
  const { verifier, challenge } = pkce();
  const state = Math.random().toString(36).slice(2);
  const url = new URL('/auth', base);
  for (const [key, value] of Object.entries({ response_type: 'code', scope: 'openid profile phone realname', code_challenge: challenge, code_challenge_method: 'S256', state, ...client, ...extra })) {
    url.searchParams.set(key, value);
  }
  return { url: url.href, verifier, state };
}

/** Starts an authorization request with PKCE and lands on the interaction page. */
export async function beginAuthorization(base: string, client: { client_id: string; redirect_uri: string }, extra: Record<string, string> = {}, browser = new HttpBrowser(base)): Promise<Authorization> {
  const { url, verifier, state } = authorizationRequest(base, client, extra);
  const landed = await browser.get(url);
  const uid = /\/interaction\/([A-Za-z0-9_-]+)/.exec(landed.url)?.[1] ?? '';
  const csrf = uid ? hidden(landed.body, 'csrf') : '';
  return { browser, verifier, state, page: landed.body, uid, csrf };
}

/** The code from a redirect to the client, after checking state and issuer. */
export function codeFrom(url: string, expectedState: string): string {
  const params = new URL(url).searchParams;
  if (params.get('error')) throw new Error(`authorization error: ${params.get('error')} ${params.get('error_description') ?? ''}`);
  if (params.get('state') !== expectedState) throw new Error('state mismatch');
  return params.get('code') ?? '';
}

export async function exchangeCode(base: string, client: { client_id: string; redirect_uri: string; secret?: string }, code: string, verifier: string) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: client.redirect_uri, code_verifier: verifier });
  if (client.secret) headers.authorization = `Basic ${Buffer.from(`${client.client_id}:${client.secret}`).toString('base64')}`;
  else body.set('client_id', client.client_id);
  const response = await fetch(new URL('/token', base), { method: 'POST', headers, body });
  return { status: response.status, body: await response.json() as Record<string, string> };
}

/** Native apps get a consent page after every login; agree to it when it is there. */
export async function throughConsent(browser: HttpBrowser, landed: { url: string; body: string }) {
  const uid = /\/interaction\/([A-Za-z0-9_-]+)$/.exec(landed.url)?.[1];
  if (!uid || !landed.body.includes('/confirm')) return landed;
  return browser.post(`/interaction/${uid}/confirm`, { csrf: hidden(landed.body, 'csrf') });
}

/** Authorization code + PKCE with a password login, all the way to tokens. */
export async function passwordLogin(base: string, client: { client_id: string; redirect_uri: string; secret?: string }, identifier: string, password: string, extra: Record<string, string> = {}) {
  const auth = await beginAuthorization(base, client, extra);
  const result = await throughConsent(auth.browser, await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier, password }));
  const code = codeFrom(result.url, auth.state);
  return { auth, result, code, tokens: await exchangeCode(base, client, code, auth.verifier) };
}
