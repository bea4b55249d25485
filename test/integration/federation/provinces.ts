import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { HttpBrowser, hidden } from '../../helpers/http-browser.js';
import { PORTAL, beginAuthorization, codeFrom, exchangeCode, type Authorization } from '../../helpers/oidc.js';
import { freePort, startServer, type TestServer } from '../../helpers/server.js';

/** The id under which the downstream knows the upstream, and the client the downstream is at the upstream. */
export const UPSTREAM_ID = 'province-a';
export const DOWNSTREAM_CLIENT = { client_id: 'province-b', secret: 'province-b-federation-secret-0123456789abcdef' };

export function scratchDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'civic-idp-federation-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One UPSTREAM_IDPS_FILE entry pointing at `issuer`, as the downstream's operator would write it. */
export function upstreamEntry(issuer: string, overrides: Record<string, unknown> = {}) {
  return {
    id: UPSTREAM_ID,
    display_name: { 'zh-CN': '甲省统一身份认证平台', en: 'Province A identity platform' },
    issuer,
    client_id: DOWNSTREAM_CLIENT.client_id,
    client_secret: DOWNSTREAM_CLIENT.secret,
    scopes: ['openid', 'profile', 'id_number'],
    acr_map: { 'urn:civic-idp:loa:2': 2, 'urn:civic-idp:loa:3': 3 },
    ...overrides,
  };
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}

export interface Provinces {
  upstream: TestServer;
  downstream: TestServer;
  close(): Promise<void>;
}

/**
 * Two civic-idp processes on stores of their own: the upstream (province A) knows the
 * downstream (province B) as a confidential client allowed the full ID number, and the
 * downstream lists the upstream in its UPSTREAM_IDPS_FILE.
 */
export async function startProvinces(): Promise<Provinces> {
  const scratch = scratchDir();
  const [upstreamPort, downstreamPort] = [await freePort(), await freePort()];
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
  const downstreamUrl = `http://127.0.0.1:${downstreamPort}`;
  const clientsFile = writeJson(scratch.dir, 'upstream-clients.json', [{
    client_id: DOWNSTREAM_CLIENT.client_id,
    client_name: '乙省统一身份认证平台',
    client_secret: DOWNSTREAM_CLIENT.secret,
    application_type: 'web',
    redirect_uris: [`${downstreamUrl}/federation/${UPSTREAM_ID}/callback`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    access_policy: { entity_types: ['natural'], min_assurance_level: 2, release_id_number: true, release_name: true },
  }]);
  const upstreamsFile = writeJson(scratch.dir, 'upstream-idps.json', [upstreamEntry(upstreamUrl)]);
  const upstream = await startServer({ CLIENTS_FILE: clientsFile }, { port: upstreamPort });
  const downstream = await startServer({ UPSTREAM_IDPS_FILE: upstreamsFile }, { port: downstreamPort }).catch(async (error: unknown) => {
    await upstream.close();
    throw error;
  });
  return {
    upstream,
    downstream,
    async close() {
      await downstream.close();
      await upstream.close();
      scratch.cleanup();
    },
  };
}

/**
 * A person at the downstream's login page chooses the upstream. Two cookie jars, one per
 * site, as a browser keeps them. Returns the downstream authorization and where the
 * downstream sent the browser (the upstream's authorization endpoint).
 */
export async function chooseUpstream(downstreamUrl: string, upstreamId = UPSTREAM_ID): Promise<{ auth: Authorization; upstreamUrl: string; status: number; body: string }> {
  const auth = await beginAuthorization(downstreamUrl, PORTAL);
  const started = await auth.browser.post(`/interaction/${auth.uid}/federation/start`, { csrf: auth.csrf, upstream: upstreamId });
  return { auth, upstreamUrl: started.url, status: started.response.status, body: started.body };
}

/** At the upstream: logs in with a password (unless its session already knows the person) and returns the redirect back to the downstream. */
export async function atUpstream(upstreamBrowser: HttpBrowser, authorizationUrl: string, login?: { identifier: string; password: string }): Promise<string> {
  const landed = await upstreamBrowser.get(authorizationUrl);
  if (!landed.url.startsWith(upstreamBrowser.base)) return landed.url;
  if (!login) throw new Error(`the upstream wants a login: ${landed.url}`);
  const uid = /\/interaction\/([A-Za-z0-9_-]+)/.exec(landed.url)![1]!;
  const done = await upstreamBrowser.post(`/interaction/${uid}/login/password`, { csrf: hidden(landed.body, 'csrf'), ...login });
  if (done.url.startsWith(upstreamBrowser.base)) throw new Error(`the upstream login did not return: ${done.url} ${done.body.slice(0, 300)}`);
  return done.url;
}

/** The code at the portal's redirect URI, redeemed; with the ID token's claims. */
export async function portalTokens(downstreamUrl: string, auth: Authorization, landedUrl: string) {
  const tokens = await exchangeCode(downstreamUrl, PORTAL, codeFrom(landedUrl, auth.state), auth.verifier);
  if (tokens.status !== 200) throw new Error(`token exchange failed: ${JSON.stringify(tokens.body)}`);
  return { accessToken: tokens.body.access_token!, claims: decodeJwt(tokens.body.id_token!) };
}
