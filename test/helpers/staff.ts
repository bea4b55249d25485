import { randomBytes } from 'node:crypto';
import { generate } from 'otplib';
import type { RequestMeta } from '../../src/audit/audit-log.js';
import type { Dependencies } from '../../src/deps.js';
import type { StaffCredentials } from '../../src/staff/staff-accounts.js';
import type { StaffRole } from '../../src/store/schema.js';
import { HttpBrowser } from './http-browser.js';
import type { TestServer } from './server.js';

/**
 * A staff account straight from the service, as the command line makes it, with what is
 * handed over: the holder must replace both at the first sign-in (but the very first admin).
 */
export function createHandedOver(deps: Dependencies, username: string, roles: StaffRole[], options: { displayName?: string } = {}): Promise<StaffCredentials> {
  return deps.staff.accounts.create({ username, roles, ...options }, { kind: 'system' }, {});
}

/** A password of a member's own choosing, as the first sign-in asks for. */
export function ownPassword(): string {
  return `Own-${randomBytes(6).toString('hex')}`;
}

/**
 * The holder's first sign-in, through the same domain operations the console's uses:
 * password and handed-over code, then a new password and a new authenticator confirmed
 * with a code, from the address in `meta`. Returns the holder's own credentials; what
 * was handed over stops working.
 */
export async function completeFirstSignIn(deps: Dependencies, handed: StaffCredentials, meta: RequestMeta = {}): Promise<StaffCredentials> {
  const { pending } = await deps.staff.login.password({ username: handed.username, password: handed.password }, meta);
  const session = await deps.staff.login.totp(pending, await totpCode(handed.totpSecret), meta);
  const actor = await deps.staff.login.principal(session.sessionId);
  if (!actor?.due) throw new Error(`${handed.username} has nothing to replace`);
  const enrolment = await deps.staff.credentials.startAuthenticator(actor);
  const password = ownPassword();
  // Confirmed with the previous step's code, so that a sign-in in the same thirty seconds is
  // not a replay of it.
  await deps.staff.credentials.change(actor, { currentPassword: handed.password, newPassword: password, code: await totpCode(enrolment.secret, -1) }, meta);
  await deps.staff.sessions.end(session.sessionId);
  return { ...handed, password, totpSecret: enrolment.secret, otpauthUri: enrolment.otpauth_uri, mustChange: false };
}

/** A staff member who has made their credentials their own, as every member must before any act. */
export async function createStaff(deps: Dependencies, username: string, roles: StaffRole[], options: { displayName?: string } = {}): Promise<StaffCredentials> {
  const handed = await createHandedOver(deps, username, roles, options);
  return handed.mustChange ? completeFirstSignIn(deps, handed) : handed;
}

const STEP_MS = 30_000;
/** Time a request needs to reach the server's check (an argon2 verification included). */
const CHECK_MARGIN_MS = 5_000;

/**
 * The authenticator code for the current step plus `ahead` (the server accepts one step
 * either side, and never a step at or before the last one used): a second sign-in of the
 * same person within thirty seconds passes `ahead = 1`. A code of an earlier step would be
 * two steps old if the step rolled over before the server checks it, so when the current
 * step is about to end it is made in the next one instead.
 */
export async function totpCode(secret: string, ahead = 0): Promise<string> {
  const left = STEP_MS - (Date.now() % STEP_MS);
  if (ahead < 0 && left < CHECK_MARGIN_MS) await new Promise((resolve) => setTimeout(resolve, left + 50));
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

/**
 * Signs in through the JSON API (password, then code) whatever is due; `next` says where
 * the console sends the member: `credentials` while handed-over or expired ones stand.
 */
export async function apiSignIn(server: TestServer, who: { username: string; password: string; totpSecret: string }, ahead = 0): Promise<{ next: string; client: StaffClient }> {
  const browser = new HttpBrowser(server.url);
  const post = (path: string, body: unknown) => browser.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const first = await post('/api/v1/admin/login', { username: who.username, password: who.password });
  if (first.status !== 200) throw new Error(`password step failed: ${first.status} ${await first.text()}`);
  const second = await post('/api/v1/admin/login/totp', { code: await totpCode(who.totpSecret, ahead) });
  if (second.status !== 200) throw new Error(`totp step failed: ${second.status} ${await second.text()}`);
  const { next } = await second.json() as { next: string };
  const session = await (await browser.request('/api/v1/admin/session')).json() as { csrf_token: string };
  return { next, client: clientFor(browser, session.csrf_token) };
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

/** An admin moves a member from one role to another: withdrawn, then granted, never both at once. */
export async function moveRole(server: TestServer, memberId: string, from: StaffRole, to: StaffRole): Promise<void> {
  const admin = await staffSignIn(server, await createStaff(server.deps, `admin.${randomBytes(3).toString('hex')}`, ['admin']));
  const steps: Array<[string, Record<string, string>]> = [[`/staff/${memberId}/roles/${from}/withdraw`, { reason: '调整岗位' }], [`/staff/${memberId}/roles`, { role: to, reason: '调整岗位' }]];
  for (const [path, body] of steps) {
    const done = await admin.api('POST', path, body);
    if (done.status !== 200) throw new Error(`${path}: ${done.status} ${JSON.stringify(done.body)}`);
  }
}
