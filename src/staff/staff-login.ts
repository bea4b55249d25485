import { randomBytes } from 'node:crypto';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { KeyedDigest } from '../crypto/digest.js';
import { AppError } from '../errors.js';
import { DUMMY_HASH, hashPassword, needsRehash, verifyPassword } from '../identity/password-hash.js';
import { verifyTotp } from '../identity/totp.js';
import type { Cache } from '../store/cache.js';
import type { StaffActor } from './roles.js';
import type { StaffAccounts } from './staff-accounts.js';
import { normaliseUsername } from './staff-accounts.js';
import type { StaffCredentials } from './staff-credentials.js';
import { StaffLock } from './staff-lock.js';
import type { StaffSessions } from './staff-sessions.js';
import type { StaffRow } from './staff-store.js';

/** Between the password and the authenticator code. */
const PENDING_SECONDS = 5 * 60;

/**
 * Staff sign-in: a password, then always an authenticator code; only then a console
 * session. Failures of either step count towards one lock per staff member (or per typed
 * name when there is no such member, which looks the same); every failure, the lock and
 * every success are audited. No progressive delays: a locked console is answered by a
 * colleague with an admin, not by waiting.
 */
export class StaffLogin {
  constructor(
    private readonly staff: StaffAccounts,
    private readonly sessions: StaffSessions,
    private readonly credentials: StaffCredentials,
    private readonly lock: StaffLock,
    private readonly cache: Cache,
    private readonly digest: KeyedDigest,
    private readonly audit: AuditLog,
  ) {}

  /**
   * The first step; returns a token for the second, which the caller keeps (a cookie) for
   * five minutes. `consoleSession` is the console session cookie the browser already
   * holds, if any: see refuseCreatorsHandover().
   */
  async password(input: { username: string; password: string }, meta: RequestMeta, consoleSession?: string): Promise<{ pending: string }> {
    const username = normaliseUsername(input.username).slice(0, 64);
    const row = await this.staff.byUsername(username);
    const subject = row ? StaffLock.member(row.id) : `typed:${this.digest.digest('staff-login-subject', username)}`;
    const failures = await this.lock.take(subject, row?.id, 'staff.login', meta);
    const matches = await verifyPassword(row?.password_hash ?? await DUMMY_HASH, input.password);
    if (!row || !matches || row.status !== 'active') {
      // What was typed is recorded only when it names a staff member: a password typed into
      // the username field must not end up in the log.
      await this.lock.failed(failures, row?.id, 'staff.login', { step: 'password', ...(row ? { username } : { unknown_username: true }) }, meta);
      throw new AppError('login_failed');
    }
    // A right password is no failure; the failures so far stand until the second step succeeds.
    await this.lock.release(subject);
    await this.refuseCreatorsHandover(row, consoleSession, meta);
    if (needsRehash(row.password_hash)) await this.staff.updatePasswordHash(row.id, await hashPassword(input.password));
    const pending = randomBytes(24).toString('base64url');
    await this.cache.set(`staff-pending:${this.digest.digest('staff-pending', pending)}`, row.id, PENDING_SECONDS);
    return { pending };
  }

  /**
   * A member's first sign-in, with the credentials an admin handed over, is refused (and
   * audited, with the admin as actor) in a browser where that admin's console session is
   * live: there it is the admin completing the hand-over to themselves, and whoever
   * completes the first sign-in keeps the account. An admin who signs out first, or uses
   * another browser, is not stopped here; the member's first credential change records the
   * creator and whether it came from their address (staff-credentials.ts).
   */
  private async refuseCreatorsHandover(row: StaffRow, consoleSession: string | undefined, meta: RequestMeta): Promise<void> {
    if (!row.password_must_change || !row.created_by || await this.sessions.holder(consoleSession) !== row.created_by) return;
    await this.audit.append({
      actor: { kind: 'staff', id: row.created_by }, action: 'staff.login', target: { kind: 'staff', id: row.id }, result: 'denied',
      details: { step: 'password', reason: 'staff_first_sign_in_by_creator', username: row.username }, meta,
    });
    throw new AppError('staff_first_sign_in_by_creator');
  }

  /**
   * The second step: a current authenticator code, never one already used. A missing or
   * wrong code is a failure like a wrong password. Returns the new session's cookie value,
   * and whether the member must replace credentials before anything else.
   */
  async totp(pending: string | undefined, code: string, meta: RequestMeta): Promise<{ sessionId: string; staffId: string; credentialsDue: boolean }> {
    const key = pending && /^[A-Za-z0-9_-]{32}$/.test(pending) ? `staff-pending:${this.digest.digest('staff-pending', pending)}` : undefined;
    const staffId = key ? await this.cache.get(key) : null;
    if (!key || !staffId) throw new AppError('login_state_invalid');
    const subject = StaffLock.member(staffId);
    const failures = await this.lock.take(subject, staffId, 'staff.login.totp', meta);
    const row = await this.staff.row(staffId);
    if (!row || row.status !== 'active') {
      await this.lock.release(subject);
      // Disabled between the two steps: no failure towards the lock, but a refusal on the member's record.
      await this.audit.append({
        actor: { kind: 'staff', id: staffId }, action: 'staff.login.totp', target: { kind: 'staff', id: staffId }, result: 'denied',
        details: { step: 'totp', reason: 'login_state_invalid', status: row?.status ?? 'unknown' }, meta,
      });
      throw new AppError('login_state_invalid');
    }
    const verified = await verifyTotp({ secret: this.staff.openTotpSecret(row), token: code, lastUsedStep: row.totp_last_step === null ? undefined : Number(row.totp_last_step) });
    if (!verified.ok || !await this.staff.useTotpStep(row.id, verified.step)) {
      await this.lock.failed(failures, row.id, 'staff.login.totp', { step: 'totp', missing: code.trim() === '' }, meta);
      throw new AppError('totp_invalid');
    }
    await this.cache.delete(key);
    await this.lock.clear(subject);
    const created = await this.sessions.create(row.id, row.session_epoch);
    await this.staff.signedIn(row.id);
    const due = this.credentials.due(row);
    await this.audit.append({
      actor: { kind: 'staff', id: row.id }, action: 'staff.login', target: { kind: 'staff', id: row.id }, result: 'success',
      details: { amr: ['pwd', 'otp'], session: created.session.handle, ...(due ? { credentials_due: true } : {}) }, meta,
    });
    return { sessionId: created.id, staffId: row.id, credentialsDue: Boolean(due) };
  }

  /**
   * The staff member behind a console session cookie, read afresh on every request: gone
   * once the member is disabled or the session's epoch has passed (a role withdrawn, the
   * authenticator reset, credentials replaced elsewhere), with roles as they are now and
   * whatever credentials are due.
   */
  async principal(sessionId: string | undefined): Promise<StaffActor | undefined> {
    const session = await this.sessions.use(sessionId);
    if (!session) return undefined;
    const row = await this.staff.row(session.staffId);
    if (!row || row.status !== 'active' || row.session_epoch !== session.epoch) {
      await this.sessions.end(sessionId!);
      return undefined;
    }
    const due = this.credentials.due(row);
    // A member created without a name has their username as display name: that is no name.
    const named = row.display_name && row.display_name !== row.username;
    return {
      id: row.id, username: row.username, ...(named ? { displayName: row.display_name } : {}),
      roles: await this.staff.roles(row.id), sessionHandle: session.handle, ...(due ? { due } : {}),
    };
  }

  async logout(sessionId: string, staffId: string, meta: RequestMeta): Promise<void> {
    await this.sessions.end(sessionId);
    await this.audit.append({ actor: { kind: 'staff', id: staffId }, action: 'staff.logout', target: { kind: 'staff', id: staffId }, result: 'success', meta });
  }
}
