import { randomInt } from 'node:crypto';
import { generate } from 'otplib';
import { idNumberCheckCharacter } from '../../src/identity/id-number.js';
import { latestOutboxCode, readOutbox, type SmsPurpose } from '../../src/ports/sms/index.js';
import { HttpBrowser, hidden } from './http-browser.js';
import { APP, beginAuthorization, codeFrom, exchangeCode, passwordLogin, throughConsent } from './oidc.js';
import { startServer, type TestServer } from './server.js';

/** The account centre sends many codes from one address: lift the SMS limits and the captcha for tests. */
export const GENEROUS_SMS = {
  SMS_LIMIT_PER_MINUTE: '1000',
  SMS_LIMIT_PER_HOUR: '1000',
  SMS_LIMIT_PER_DAY: '1000',
  SMS_LIMIT_PER_IP_PER_HOUR: '10000',
  CAPTCHA_AFTER_SENDS_PER_IP: '10000',
};

export function startAccountServer(): Promise<TestServer> {
  return startServer(GENEROUS_SMS);
}

export function outboxFile(server: TestServer): string {
  const sms = server.deps.config.sms;
  if (sms.kind !== 'outbox') throw new Error('tests need the SMS outbox');
  return sms.file;
}

export async function latestCode(server: TestServer, phone: string, purpose: SmsPurpose): Promise<string> {
  const code = await latestOutboxCode(outboxFile(server), phone, purpose);
  if (!code) throw new Error(`no ${purpose} code sent to ${phone}`);
  return code;
}

export async function noticesTo(server: TestServer, phone: string): Promise<string[]> {
  return (await readOutbox(outboxFile(server))).filter((m) => m.to === phone && m.purpose === 'notice').map((m) => m.text);
}

/** A made-up person: a valid citizen ID number (not in the registries) and a phone nobody else has. */
export function makePerson(name = '测试用户') {
  const first17 = `110105198${randomInt(0, 10)}0${randomInt(1, 10)}1${randomInt(0, 10)}${String(randomInt(0, 1000)).padStart(3, '0')}`;
  return { idNumber: first17 + idNumberCheckCharacter(first17), name, phone: `139${String(randomInt(0, 100_000_000)).padStart(8, '0')}` };
}

/** A six-digit code that differs from `code`, for "wrong code" tests. */
export function otherCode(code: string): string {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}

/** An authenticator code, `stepsAhead` 30-second steps from now (the server accepts one step either side). */
export function totpCode(secret: string, stepsAhead = 0): Promise<string> {
  return generate({ secret: secret.replace(/\s/g, ''), epoch: Math.floor(Date.now() / 1000) + stepsAhead * 30 });
}

export interface AccountBrowser {
  browser: HttpBrowser;
  /** The page the login ended on (the account overview, or the TOTP step). */
  body: string;
  url: string;
}

/**
 * Signs in to the account centre as a person would: /account sends them through /auth to
 * the login page, the password is posted, and the callback brings them back to /account.
 * With `totp`, the second step is answered too.
 */
export async function accountLogin(server: TestServer, identifier: string, password: string, options: { totp?: string; browser?: HttpBrowser } = {}): Promise<AccountBrowser> {
  const browser = options.browser ?? new HttpBrowser(server.url);
  const landed = await browser.get('/account');
  const uid = /\/interaction\/([A-Za-z0-9_-]+)/.exec(landed.url)?.[1];
  if (!uid) throw new Error(`not sent to a login page: ${landed.url}`);
  let done = await browser.post(`/interaction/${uid}/login/password`, { csrf: hidden(landed.body, 'csrf'), identifier, password });
  if (options.totp !== undefined && done.url.includes('/interaction/')) {
    done = await browser.post(`/interaction/${uid}/login/totp`, { csrf: hidden(done.body, 'csrf'), code: options.totp });
  }
  return { browser, body: done.body, url: done.url };
}

/**
 * An access token (scopes openid and account) for the app, by password login. With `offline`, the
 * tokens (offline_access) outlive the SSO session, so only revoking their grant ends them.
 */
export async function appToken(server: TestServer, identifier: string, password: string, options: { offline?: boolean } = {}) {
  if (!options.offline) {
    // The account centre is the person's own: a representative is not asked whom they act for.
    const login = await passwordLogin(server.url, APP, identifier, password, { entity_type: 'natural', scope: 'openid account' });
    if (login.tokens.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.tokens.body)}`);
    return { accessToken: login.tokens.body.access_token!, refreshToken: login.tokens.body.refresh_token!, browser: login.auth.browser };
  }
  const auth = await beginAuthorization(server.url, APP, { scope: 'openid offline_access account', prompt: 'consent', entity_type: 'natural' });
  const done = await throughConsent(auth.browser, await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier, password }));
  const tokens = await exchangeCode(server.url, APP, codeFrom(done.url, auth.state), auth.verifier);
  if (tokens.status !== 200 || !tokens.body.scope?.includes('offline_access')) throw new Error(`offline login failed: ${JSON.stringify(tokens.body)}`);
  return { accessToken: tokens.body.access_token!, refreshToken: tokens.body.refresh_token!, browser: auth.browser };
}

export async function refresh(server: TestServer, refreshToken: string): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(`${server.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: APP.client_id }) });
  return { status: response.status, body: await response.json() as Record<string, string> };
}

/** The answer a silent authorization (prompt=none) gets in this browser: the error, if any, in the redirect. */
export async function silentAuthorization(server: TestServer, browser: HttpBrowser): Promise<string | null> {
  const url = new URL('/auth', server.url);
  for (const [key, value] of Object.entries({ client_id: APP.client_id, redirect_uri: APP.redirect_uri, response_type: 'code', scope: 'openid', prompt: 'none', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 's' })) {
    url.searchParams.set(key, value);
  }
  const result = await browser.get(url.href);
  return new URL(result.url).searchParams.get('error');
}

/** Posts a form of an account page with the page's CSRF token. */
export async function postForm(browser: HttpBrowser, page: string, action: string, fields: Record<string, string> = {}) {
  return browser.post(action, { csrf: hidden(page, 'csrf'), ...fields });
}
