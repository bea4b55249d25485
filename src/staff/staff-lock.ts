import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import type { Cache } from '../store/cache.js';

/** Wrong passwords or codes before a staff account locks, and for how long. */
export const STAFF_LOCK_THRESHOLD = 5;
export const STAFF_LOCK_MINUTES = 30;

/**
 * One lock per staff member (or per typed name when there is no such member, which looks
 * the same), counting failed sign-in steps and wrong current passwords alike; every
 * failure, the lock and every attempt refused by it are audited. An admin may lift a
 * member's lock early (staff-lifecycle.ts); nothing else but time does.
 */
export class StaffLock {
  constructor(private readonly cache: Cache, private readonly audit: AuditLog) {}

  static member(staffId: string): string {
    return `staff:${staffId}`;
  }

  private key(subject: string) {
    return `staff-login-fail:${subject}`;
  }

  /**
   * Takes this attempt's place under the lock before anything is judged, so that a burst of
   * guesses gets no more than the threshold judged; a failure keeps its place. A refused
   * attempt is audited like any other refusal. Returns the attempt's count.
   */
  async take(subject: string, staffId: string | undefined, action: string, meta: RequestMeta): Promise<number> {
    const count = await this.cache.reserve(this.key(subject), STAFF_LOCK_THRESHOLD, STAFF_LOCK_MINUTES * 60);
    if (count) return count;
    await this.audit.append({
      actor: staffId ? { kind: 'staff', id: staffId } : { kind: 'anonymous' }, action, ...(staffId ? { target: { kind: 'staff', id: staffId } } : {}),
      result: 'denied', details: { reason: 'locked' }, meta,
    });
    throw new AppError('account_locked', { minutes: STAFF_LOCK_MINUTES });
  }

  /** Records a failed attempt (its place stays taken) and, at the threshold, the lock. */
  async failed(failures: number, staffId: string | undefined, action: string, details: Record<string, unknown>, meta: RequestMeta): Promise<void> {
    const target = staffId ? { target: { kind: 'staff', id: staffId } } : {};
    await this.audit.append({ actor: staffId ? { kind: 'staff', id: staffId } : { kind: 'anonymous' }, action, ...target, result: 'failure', details, meta });
    if (failures === STAFF_LOCK_THRESHOLD) {
      await this.audit.append({ actor: { kind: 'system' }, action: 'staff.login.locked', ...target, result: 'success', details: { minutes: STAFF_LOCK_MINUTES, ...details }, meta });
    }
  }

  /** Gives back an attempt's place: it was no failure. */
  release(subject: string): Promise<void> {
    return this.cache.release(this.key(subject));
  }

  /** Forgets every failure: after a success, or when an admin unlocks. */
  clear(subject: string): Promise<void> {
    return this.cache.delete(this.key(subject));
  }

  async locked(staffId: string): Promise<boolean> {
    return Number(await this.cache.get(this.key(StaffLock.member(staffId))) ?? 0) >= STAFF_LOCK_THRESHOLD;
  }
}
