import { createHash, randomBytes } from 'node:crypto';
import { Browser, hiddenInput, type HttpClient, type HttpResponse } from './http.js';
import type { CodeSource } from './outbox.js';

export interface LoginClient {
  client_id: string;
  redirect_uri: string;
  /** Confidential clients authenticate at the token endpoint with client_secret_basic. */
  secret?: string;
  scope: string;
  prompt?: string;
}

export type StepTimes = Record<string, number>;

export interface Tokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
}

/** Times one step of a flow into `times` (milliseconds). */
async function step<T>(times: StepTimes, name: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    times[name] = (times[name] ?? 0) + performance.now() - started;
  }
}

function expectStatus(response: HttpResponse, status: number, what: string): HttpResponse {
  if (response.status !== status) {
    const code = /data-error-code="([^"]+)"/.exec(response.body)?.[1];
    throw new Error(`${what}: HTTP ${response.status}${code ? ` (${code})` : ''}${response.status >= 400 && !code ? ` ${response.body.slice(0, 120)}` : ''}`);
  }
  return response;
}

function location(response: HttpResponse, what: string, origin: URL): URL {
  const target = response.headers.location;
  if (response.status < 300 || response.status >= 400 || !target) {
    throw new Error(`${what}: expected a redirect, got HTTP ${response.status} ${/data-error-code="([^"]+)"/.exec(response.body)?.[1] ?? ''}`);
  }
  return new URL(target, origin);
}

function pathOf(url: URL): string {
  return url.pathname + url.search;
}

interface Started {
  browser: Browser;
  origin: URL;
  uid: string;
  csrf: string;
  state: string;
  verifier: string;
}

/** GET /auth (PKCE S256) and the login page it sends the browser to. */
async function begin(http: HttpClient, client: LoginClient, times: StepTimes): Promise<Started> {
  const browser = new Browser(http);
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('base64url');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: client.redirect_uri,
    scope: client.scope,
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...(client.prompt ? { prompt: client.prompt } : {}),
  });
  const toInteraction = await step(times, 'authorize', async () => location(await browser.request(`/auth?${query}`), 'GET /auth', http.origin));
  const uid = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(toInteraction.pathname)?.[1];
  if (!uid) throw new Error(`GET /auth: unexpected redirect to ${toInteraction.pathname}`);
  const page = await step(times, 'login_page', async () => expectStatus(await browser.request(pathOf(toInteraction)), 200, 'GET /interaction/:uid'));
  return { browser, origin: http.origin, uid, csrf: hiddenInput(page.body, 'csrf'), state, verifier };
}

/**
 * After the credentials: resume at /auth/:uid; a native app is shown the consent page and
 * agrees; ends at the redirect URI with the code.
 */
async function finishAuthorization(started: Started, afterLogin: HttpResponse, times: StepTimes, actAs: 'self' | 'enterprise' = 'self'): Promise<string> {
  const { browser, origin } = started;
  let next = location(afterLogin, 'login POST', origin);
  for (let hops = 0; hops < 6; hops += 1) {
    if (next.origin !== origin.origin) {
      const params = next.searchParams;
      if (params.get('error')) throw new Error(`authorization error: ${params.get('error')} ${params.get('error_description') ?? ''}`);
      if (params.get('state') !== started.state) throw new Error('state mismatch');
      const code = params.get('code');
      if (!code) throw new Error('no code in the redirect');
      return code;
    }
    // The consent prompt is an interaction of its own, with a new uid.
    const consentUid = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(next.pathname)?.[1];
    if (consentUid) {
      const page = next;
      const landed = await browser.request(pathOf(page));
      // The identity choice (select_account) has a page of its own under the interaction.
      const choice = landed.headers.location && /\/identity$/.test(landed.headers.location) ? new URL(landed.headers.location, origin) : undefined;
      if (choice) {
        // Plain logins are by accounts without a grant: a choice page here would make the
        // scenario measure a different, longer flow than it says it does.
        if (actAs === 'self') throw new Error('a plain login met the identity choice: the account holds a grant');
        next = await chooseIdentity(browser, choice, times, origin);
        continue;
      }
      const consent = expectStatus(landed, 200, 'consent page');
      const csrf = hiddenInput(consent.body, 'csrf');
      next = await step(times, 'consent_confirm', async () => location(await browser.request(`/interaction/${consentUid}/confirm`, { form: { csrf } }), 'POST confirm', origin));
      continue;
    }
    const target = next;
    next = await step(times, 'resume', async () => location(await browser.request(pathOf(target)), `GET ${target.pathname}`, origin));
  }
  throw new Error('too many redirects after login');
}

/** Picks the first enterprise offered on the identity-choice page and posts it. */
async function chooseIdentity(browser: Browser, page: URL, times: StepTimes, origin: URL): Promise<URL> {
  const shown = await step(times, 'choice_page', async () => expectStatus(await browser.request(pathOf(page)), 200, 'identity choice page'));
  const choice = /data-enterprise-option="([^"]+)"/.exec(shown.body)?.[1];
  if (!choice) throw new Error('identity choice: no enterprise offered');
  const csrf = hiddenInput(shown.body, 'csrf');
  return step(times, 'choice_post', async () => location(await browser.request(pathOf(page), { form: { csrf, choice } }), 'POST identity choice', origin));
}

/** The code exchange with the PKCE verifier. */
export async function exchangeCode(http: HttpClient, client: LoginClient, code: string, verifier: string, times: StepTimes): Promise<Tokens> {
  return step(times, 'token', async () => {
    const form: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: client.redirect_uri, code_verifier: verifier };
    const headers: Record<string, string> = {};
    if (client.secret) headers.authorization = basic(client.client_id, client.secret);
    else form.client_id = client.client_id;
    const response = expectStatus(await http.request('/token', { form, headers }), 200, 'code exchange');
    const tokens = JSON.parse(response.body) as Tokens;
    if (!tokens.access_token || !tokens.id_token) throw new Error('code exchange: no access or ID token');
    return tokens;
  });
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** The whole browser flow with an ID number (or phone) and password, to tokens. */
export async function passwordLogin(http: HttpClient, client: LoginClient, identifier: string, password: string, times: StepTimes = {}, actAs: 'self' | 'enterprise' = 'self'): Promise<Tokens> {
  const started = await begin(http, client, times);
  const afterLogin = await step(times, 'credentials', () => started.browser.request(`/interaction/${started.uid}/login/password`, {
    form: { csrf: started.csrf, identifier, password },
  }));
  const code = await finishAuthorization(started, afterLogin, times, actAs);
  return exchangeCode(http, client, code, started.verifier, times);
}

/** The whole browser flow with a phone and the SMS code the server sent (outbox or gateway), to tokens. */
export async function smsLogin(http: HttpClient, client: LoginClient, phone: string, codes: CodeSource, times: StepTimes = {}): Promise<Tokens> {
  const started = await begin(http, client, times);
  // Outbox timestamps have millisecond precision; the server stamps the line after this.
  const since = Date.now() - 1;
  await step(times, 'sms_send', async () => {
    const page = expectStatus(await started.browser.request(`/interaction/${started.uid}/login/sms/send`, { form: { csrf: started.csrf, phone } }), 200, 'POST sms/send');
    if (/data-error-code="/.test(page.body)) throw new Error(`POST sms/send: ${/data-error-code="([^"]+)"/.exec(page.body)?.[1]}`);
  });
  const code = await step(times, 'sms_read', () => codes.take(phone, since));
  const afterLogin = await step(times, 'credentials', () => started.browser.request(`/interaction/${started.uid}/login/sms`, {
    form: { csrf: started.csrf, phone, code },
  }));
  const authCode = await finishAuthorization(started, afterLogin, times);
  return exchangeCode(http, client, authCode, started.verifier, times);
}
