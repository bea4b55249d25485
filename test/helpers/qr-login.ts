import QRCode from 'qrcode';
import { hidden } from './http-browser.js';
import { APP, PORTAL, beginAuthorization, codeFrom, exchangeCode, throughConsent, type Authorization } from './oidc.js';
import type { Json } from './json-api.js';

/** The text the login page's QR code carries for a code id (see flows/qr-login.ts). */
export const payloadOf = (id: string) => `civic-idp:qr-login:${id}`;

/** The same rendering the page uses, to check that the image carries the payload. */
export function qrImageOf(payload: string): Promise<string> {
  return QRCode.toDataURL(payload, { errorCorrectionLevel: 'M', margin: 2, width: 240 });
}

/**
 * The app, logged in: an access token from a normal app login (authorization code + PKCE,
 * password, the native consent page), by default with the qr_login scope.
 */
export async function appLogin(base: string, identifier: string, password: string, scope = 'openid qr_login', client: { client_id: string; redirect_uri: string; secret?: string } = APP): Promise<string> {
  const auth = await beginAuthorization(base, client, { scope });
  const done = await throughConsent(auth.browser, await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier, password }));
  const tokens = await exchangeCode(base, client, codeFrom(done.url, auth.state), auth.verifier);
  if (tokens.status !== 200) throw new Error(`app login failed: ${JSON.stringify(tokens.body)}`);
  // The token must carry every scope asked for, so refusals are about the client or the scope as intended.
  const granted = new Set(tokens.body.scope?.split(' '));
  if (scope.split(' ').some((wanted) => !granted.has(wanted))) throw new Error(`asked for ${scope}, got ${tokens.body.scope}`);
  return tokens.body.access_token!;
}

/** The portal's token: valid, of a client not registered for QR login (it cannot even ask for the qr_login scope). */
export function portalLogin(base: string, identifier: string, password: string): Promise<string> {
  return appLogin(base, identifier, password, 'openid', PORTAL);
}

/** One of the app's two QR calls, with its bearer token (or none). */
export async function qrApi(base: string, token: string | undefined, path: 'scan' | 'decision', body: unknown): Promise<{ status: number; headers: Headers; body: Json }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'civic-app/1.0' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${base}/api/v1/qr-login/${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: await response.json() as Json };
}

export interface QrPage {
  auth: Authorization;
  /** The code id (the form's hidden field), the payload the app scans and the page's image. */
  id: string;
  payload: string;
  image: string;
  body: string;
}

/** A browser that starts the portal's authorization and opens the login page's QR tab. */
export async function openQrTab(base: string, auth?: Authorization): Promise<QrPage> {
  const started = auth ?? await beginAuthorization(base, PORTAL);
  const page = await started.browser.get(`/interaction/${started.uid}/qr`);
  if (page.response.status !== 200) throw new Error(`QR tab answered ${page.response.status}`);
  const id = hidden(page.body, 'qr');
  const image = /<img class="qr" src="([^"]+)"/.exec(page.body)?.[1] ?? '';
  return { auth: started, id, payload: payloadOf(id), image, body: page.body };
}

/** The page's poll, from its own browser (the interaction cookie). */
export async function qrStatus(page: QrPage, id = page.id): Promise<{ status: number; body: Json }> {
  const response = await page.auth.browser.request(`/interaction/${page.auth.uid}/qr/${id}/status`, { headers: { accept: 'application/json' } });
  return { status: response.status, body: await response.json() as Json };
}

/** The page's completion form, as the script (or the person) sends it. */
export function completeQr(page: QrPage, id = page.id) {
  return page.auth.browser.post(`/interaction/${page.auth.uid}/login/qr`, { csrf: page.auth.csrf, qr: id });
}
