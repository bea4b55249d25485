import { generate } from 'otplib';
import type { Dependencies } from '../../src/deps.js';
import type { StaffCredentials } from '../../src/staff/staff-accounts.js';
import type { StaffRole } from '../../src/store/schema.js';
import { HttpBrowser } from './http-browser.js';
import type { TestServer } from './server.js';

/** A staff account straight from the service, as the CLI makes the first admin. */
export function createStaff(deps: Dependencies, username: string, roles: StaffRole[]): Promise<StaffCredentials> {
  return deps.staff.accounts.create({ username, roles }, { kind: 'system' }, {});
}

/**
 * The authenticator code for the current step plus `ahead` (the server accepts one step
 * either side, and never a step at or before the last one used): a second sign-in of the
 * same person within thirty seconds passes `ahead = 1`.
 */
export function totpCode(secret: string, ahead = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + ahead * 30 });
}

/** A cookie-keeping client signed in to the console, with the session's CSRF token for API writes. */
export interface StaffClient {
  browser: HttpBrowser;
  csrf: string;
  /** JSON API call with the session cookie and, for writes, the CSRF header. */
  api(method: 'GET' | 'POST', path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, any> }>;
}

export async function staffSignIn(server: TestServer, who: StaffCredentials, ahead = 0): Promise<StaffClient> {
  const browser = new HttpBrowser(server.url);
  const first = await browser.post('/admin/login', { username: who.username, password: who.password });
  if (!first.url.endsWith('/admin/login/totp')) throw new Error(`password step failed: ${first.response.status}`);
  const second = await browser.post('/admin/login/totp', { code: await totpCode(who.totpSecret, ahead) });
  if (!second.url.endsWith('/admin')) throw new Error(`totp step failed: ${second.response.status}`);
  const session = await (await browser.request('/api/v1/admin/session')).json() as { csrf_token: string };
  return clientFor(browser, session.csrf_token);
}

export function clientFor(browser: HttpBrowser, csrf: string): StaffClient {
  return {
    browser,
    csrf,
    async api(method, path, body, headers = {}) {
      const response = await browser.request(`/api/v1/admin${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(method === 'GET' ? {} : { 'x-csrf-token': csrf }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) as Record<string, any> : {} };
    },
  };
}

/** The audit records of one action, oldest first. */
export async function auditOf(deps: Dependencies, action: string) {
  return deps.database.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('seq').execute();
}
