import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import { ZHANG_SAN, seedAccount } from './accounts.js';
import { HttpBrowser, hidden } from './http-browser.js';
import { startServer, type TestServer } from './server.js';

/** A POST a relying party's back-channel logout endpoint received. */
export interface LogoutDelivery {
  path: string;
  contentType: string;
  logoutToken: string;
}

/**
 * The back-channel logout endpoints of our test relying parties: one listening node:http
 * server that records every POST. `failNext(path, n)` makes the next n deliveries to a
 * path answer 503, as an RP that is down would. A GET (a browser sent back to the relying
 * party) is answered 200 and recorded in `visits`.
 */
export class LogoutReceiver {
  readonly deliveries: LogoutDelivery[] = [];
  /** Every POST, failed ones included. */
  readonly attempts: LogoutDelivery[] = [];
  readonly visits: string[] = [];
  private readonly failures = new Map<string, number>();
  private readonly pages = new Map<string, string>();
  private waiters: Array<() => void> = [];

  private constructor(private readonly server: ReturnType<typeof createServer>, readonly url: string) {}

  static async start(): Promise<LogoutReceiver> {
    let receiver: LogoutReceiver | undefined;
    const server = createServer((req, res) => { void receiver!.handle(req, res); });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    receiver = new LogoutReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return receiver;
  }

  uri(path: string): string {
    return `${this.url}${path}`;
  }

  /** Serves `html` at `path` (GET): a relying party's own page, e.g. a form that posts to the provider. */
  serve(path: string, html: string): void {
    this.pages.set(path, html);
  }

  failNext(path: string, times: number): void {
    this.failures.set(path, times);
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    if (req.method === 'GET') {
      const page = this.pages.get(new URL(req.url ?? '/', this.url).pathname);
      if (page !== undefined) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
        return;
      }
      this.visits.push(new URL(req.url ?? '/', this.url).href);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('relying party');
      return;
    }
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const path = new URL(req.url ?? '/', this.url).pathname;
    const delivery = { path, contentType: req.headers['content-type'] ?? '', logoutToken: new URLSearchParams(body).get('logout_token') ?? '' };
    this.attempts.push(delivery);
    const failing = this.failures.get(path) ?? 0;
    if (failing > 0) {
      if (failing > 0) this.failures.set(path, failing - 1);
      res.writeHead(503).end();
    } else {
      this.deliveries.push(delivery);
      res.writeHead(200, { 'cache-control': 'no-store' }).end();
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits until `count` deliveries (or attempts) to `path` have arrived; ava's timeout bounds it. */
  async waitFor(path: string, count = 1, which: 'deliveries' | 'attempts' = 'deliveries'): Promise<LogoutDelivery[]> {
    for (;;) {
      const seen = this[which].filter((d) => d.path === path);
      if (seen.length >= count) return seen;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  to(path: string): LogoutDelivery[] {
    return this.deliveries.filter((d) => d.path === path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Writes a CLIENTS_FILE of the given entries to a fresh temporary directory. */
export function writeClientsFile(entries: Array<Record<string, unknown>>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'civic-clients-')), 'clients.json');
  writeFileSync(file, JSON.stringify(entries, null, 2));
  return file;
}

/** What a server needs to reach relying parties run by a test on this machine. */
export const LOCAL_RELYING_PARTIES = { OUTBOUND_PRIVATE_HOSTS: '127.0.0.1' };

export const insecure = { execute: [oidc.allowInsecureRequests] };

export interface RpLogin {
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  /** Where the provider sent the browser back to the client. */
  callback: URL;
  /** Whether a login form was shown on the way. */
  loginShown: boolean;
}

/**
 * openid-client as the relying party, a cookie-keeping HTTP browser as the user agent: builds
 * the authorization URL (PKCE, state, nonce unless `nonce: false`), logs in with the
 * password form if the provider asks, agrees to consent if asked, and redeems the code
 * through openid-client, which checks state, nonce, issuer, audience and signature.
 */
export async function rpLogin(
  config: oidc.Configuration,
  browser: HttpBrowser,
  login: { identifier: string; password: string } | undefined,
  params: Record<string, string> = {},
  options: { nonce?: boolean; redirectUri?: string; par?: boolean; dpop?: oidc.DPoPHandle } = {},
): Promise<RpLogin> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = options.nonce === false ? undefined : oidc.randomNonce();
  const request = {
    redirect_uri: options.redirectUri ?? (config.clientMetadata().redirect_uris as string[])[0]!,
    scope: 'openid profile phone',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...(nonce ? { nonce } : {}),
    ...params,
  };
  const dpop = options.dpop ? { DPoP: options.dpop } : undefined;
  // With `par`, the parameters are pushed first (RFC 9126) and the browser carries only the request_uri.
  const url = options.par ? await oidc.buildAuthorizationUrlWithPAR(config, request, dpop) : oidc.buildAuthorizationUrl(config, request);
  let landed = await browser.get(url.href);
  let loginShown = false;
  const uid = () => /\/interaction\/([A-Za-z0-9_-]+)$/.exec(landed.url)?.[1];
  if (uid() && landed.body.includes('login/password')) {
    if (!login) throw new Error('the provider asked for a login');
    loginShown = true;
    landed = await browser.post(`/interaction/${uid()}/login/password`, { csrf: hidden(landed.body, 'csrf'), ...login });
  }
  if (uid() && landed.body.includes('/confirm')) {
    landed = await browser.post(`/interaction/${uid()}/confirm`, { csrf: hidden(landed.body, 'csrf') });
  }
  const callback = new URL(landed.url);
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    ...(nonce ? { expectedNonce: nonce } : {}),
    idTokenExpected: true,
  }, undefined, dpop);
  return { tokens, callback, loginShown };
}

export const SECRETS = {
  portal: 'conformance-portal-secret-0123456789-abcdefgh',
  portal2: 'conformance-second-portal-secret-0123456789-ab',
} as const;

/**
 * Three relying parties of one province: the portal (client_secret_basic), a second
 * department portal (client_secret_post) and the app (public, PKCE, native redirect).
 * With a receiver, each has a back-channel logout endpoint on it: /portal, /portal2, /app.
 */
export function threeClients(receiver?: LogoutReceiver): Array<Record<string, unknown>> {
  const backchannel = (path: string) => (receiver ? { backchannel_logout_uri: receiver.uri(path), backchannel_logout_session_required: true } : {});
  return [
    {
      client_id: 'portal',
      client_name: '省政务服务网',
      client_secret: SECRETS.portal,
      application_type: 'web',
      redirect_uris: ['http://localhost:8080/callback', ...(receiver ? [receiver.uri('/callback')] : [])],
      post_logout_redirect_uris: ['http://localhost:8080/', ...(receiver ? [receiver.uri('/')] : [])],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...backchannel('/portal'),
    },
    {
      client_id: 'portal2',
      client_name: '省人社厅网上办事大厅',
      client_secret: SECRETS.portal2,
      application_type: 'web',
      redirect_uris: ['http://localhost:8081/callback'],
      post_logout_redirect_uris: ['http://localhost:8081/'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
      // A department that needs the person's name whole (the portal gets it masked).
      access_policy: { release_name: true },
      ...backchannel('/portal2'),
    },
    {
      client_id: 'app',
      client_name: '省政务服务 App',
      application_type: 'native',
      redirect_uris: ['cn.gov.example.app:/oauth2/callback'],
      post_logout_redirect_uris: ['cn.gov.example.app:/oauth2/logout'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...backchannel('/app'),
    },
  ];
}

/** openid-client configurations of the three clients, by discovery. */
export async function discoverThree(issuer: string) {
  const discover = (clientId: string, auth: oidc.ClientAuth, redirectUri: string) => oidc.discovery(new URL(issuer), clientId, { redirect_uris: [redirectUri] }, auth, insecure);
  return {
    portal: await discover('portal', oidc.ClientSecretBasic(SECRETS.portal), 'http://localhost:8080/callback'),
    portal2: await discover('portal2', oidc.ClientSecretPost(SECRETS.portal2), 'http://localhost:8081/callback'),
    app: await discover('app', oidc.None(), 'cn.gov.example.app:/oauth2/callback'),
  };
}

/** A provider with the three clients and 张三, and openid-client configured for each: the set-up of the conformance-style suites. */
export async function threeClientProvider(): Promise<{ server: TestServer; accountId: string; configs: Awaited<ReturnType<typeof discoverThree>> }> {
  const server = await startServer({ CLIENTS_FILE: writeClientsFile(threeClients()) });
  try {
    return { server, accountId: await seedAccount(server.deps, ZHANG_SAN), configs: await discoverThree(server.url) };
  } catch (error) {
    await server.close();
    throw error;
  }
}

/** Whether a token is a JWS (a JWT access token) rather than an opaque handle. */
export function isJwt(token: string): boolean {
  try {
    decodeProtectedHeader(token);
    return true;
  } catch {
    return false;
  }
}
