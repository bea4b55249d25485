import { randomBytes } from 'node:crypto';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { KeyedDigest } from '../crypto/digest.js';
import { AppError } from '../errors.js';
import { DUMMY_HASH, hashPassword, needsRehash, verifyPassword } from '../identity/password-hash.js';
import { verifyTotp } from '../identity/totp.js';
import type { Cache } from '../store/cache.js';
import type { StaffAccounts } from './staff-accounts.js';
import { normaliseUsername } from './staff-accounts.js';
import type { StaffSessions } from './staff-sessions.js';

/** Wrong passwords or codes before a staff account locks, and for how long. */
export const STAFF_LOCK_THRESHOLD = 5;
export const STAFF_LOCK_MINUTES = 30;
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
    private readonly cache: Cache,
    private readonly digest: KeyedDigest,
    private readonly audit: AuditLog,
  ) {}

  private failuresKey(subject: string) {
    return `staff-login-fail:${subject}`;
  }

  /**
   * Takes this attempt's place under the lock before anything is judged, so that a burst of
   * guesses gets no more than the threshold judged; a failure keeps its place. A refused
   * attempt is audited like any other refusal. Returns the attempt's count.
   */
  private async reserve(subject: string, staffId: string | undefined, action: string, meta: RequestMeta): Promise<number> {
    const count = await this.cache.reserve(this.failuresKey(subject), STAFF_LOCK_THRESHOLD, STAFF_LOCK_MINUTES * 60);
    if (count) return count;
    await this.audit.append({
      actor: staffId ? { kind: 'staff', id: staffId } : { kind: 'anonymous' }, action, ...(staffId ? { target: { kind: 'staff', id: staffId } } : {}),
      result: 'denied', details: { reason: 'locked' }, meta,
    });
    throw new AppError('account_locked', { minutes: STAFF_LOCK_MINUTES });
  }

  private async fail(failures: number, staffId: string | undefined, action: string, details: Record<string, unknown>, meta: RequestMeta): Promise<void> {
    const target = staffId ? { target: { kind: 'staff', id: staffId } } : {};
    await this.audit.append({ actor: staffId ? { kind: 'staff', id: staffId } : { kind: 'anonymous' }, action, ...target, result: 'failure', details, meta });
    if (failures === STAFF_LOCK_THRESHOLD) {
      await this.audit.append({ actor: { kind: 'system' }, action: 'staff.login.locked', ...target, result: 'success', details: { minutes: STAFF_LOCK_MINUTES, ...details }, meta });
    }
  }

  /** The first step; returns a token for the second, which the caller keeps (a cookie) for five minutes. */
  async password(input: { username: string; password: string }, meta: RequestMeta): Promise<{ pending: string }> {
    const username = normaliseUsername(input.username).slice(0, 64);
    const row = await this.staff.byUsername(username);
    const subject = row ? `staff:${row.id}` : `typed:${this.digest.digest('staff-login-subject', username)}`;
    const failures = await this.reserve(subject, row?.id, 'staff.login', meta);
    const matches = await verifyPassword(row?.password_hash ?? await DUMMY_HASH, input.password);
    if (!row || !matches || row.status !== 'active') {
      // What was typed is recorded only when it names a staff member: a password typed into
      // the username field must not end up in the log.
      await this.fail(failures, row?.id, 'staff.login', { step: 'password', ...(row ? { username } : { unknown_username: true }) }, meta);
      throw new AppError('login_failed');
    }
    // A right password is no failure; the failures so far stand until the second step succeeds.
    await this.cache.release(this.failuresKey(subject));
    if (needsRehash(row.password_hash)) await this.staff.updatePasswordHash(row.id, await hashPassword(input.password));
    const pending = randomBytes(24).toString('base64url');
    await this.cache.set(`staff-pending:${this.digest.digest('staff-pending', pending)}`, row.id, PENDING_SECONDS);
    return { pending };
  }

  /**
   * The second step: a current authenticator code, never one already used. A missing or
   * wrong code is a failure like a wrong password. Returns the new session's cookie value.
   */
  async totp(pending: string | undefined, code: string, meta: RequestMeta): Promise<{ sessionId: string; staffId: string }> {
    const key = pending && /^[A-Za-z0-9_-]{32}$/.test(pending) ? `staff-pending:${this.digest.digest('staff-pending', pending)}` : undefined;
    const staffId = key ? await this.cache.get(key) : null;
    if (!key || !staffId) throw new AppError('login_state_invalid');
    const subject = `staff:${staffId}`;
    const failures = await this.reserve(subject, staffId, 'staff.login.totp', meta);
    const row = await this.staff.row(staffId);
    if (!row || row.status !== 'active') {
      await this.cache.release(this.failuresKey(subject));
      throw new AppError('login_state_invalid');
    }
    const verified = await verifyTotp({ secret: this.staff.openTotpSecret(row), token: code, lastUsedStep: row.totp_last_step === null ? undefined : Number(row.totp_last_step) });
    if (!verified.ok || !await this.staff.useTotpStep(row.id, verified.step)) {
      await this.fail(failures, row.id, 'staff.login.totp', { step: 'totp', missing: code.trim() === '' }, meta);
      throw new AppError('totp_invalid');
    }
    await this.cache.delete(key);
    await this.cache.delete(this.failuresKey(subject));
    const created = await this.sessions.create(row.id);
    await this.audit.append({ actor: { kind: 'staff', id: row.id }, action: 'staff.login', target: { kind: 'staff', id: row.id }, result: 'success', details: { amr: ['pwd', 'otp'], session: created.session.handle }, meta });
    return { sessionId: created.id, staffId: row.id };
  }

  async logout(sessionId: string, staffId: string, meta: RequestMeta): Promise<void> {
    await this.sessions.end(sessionId);
    await this.audit.append({ actor: { kind: 'staff', id: staffId }, action: 'staff.logout', target: { kind: 'staff', id: staffId }, result: 'success', meta });
  }
}
