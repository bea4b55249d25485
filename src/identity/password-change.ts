import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { KeepSignedIn, AccountSessions } from '../oidc/account-sessions.js';
import { errorIs, type AttemptLimit } from './attempt-limit.js';
import type { Passwords } from './passwords.js';

/**
 * Changing the password from the account centre. Whoever else knew the old password may
 * be signed in somewhere: every other session, grant and token is revoked. The one the
 * person is using stays: they just proved the current password on it, and throwing them
 * out of the page where they changed it would only teach people not to change it.
 */
export class PasswordChange {
  constructor(
    private readonly passwords: Passwords,
    private readonly sessions: AccountSessions,
    private readonly attempts: AttemptLimit,
    private readonly audit: AuditLog,
  ) {}

  async change(accountId: string, input: { current: string; next: string }, keep: KeepSignedIn, meta: RequestMeta): Promise<{ sessions: number; grants: number }> {
    // Policy, hash, and the audit record `password.change` (success or wrong current password).
    await this.attempts.guard(
      `current-password:${accountId}`,
      () => this.passwords.set(accountId, input.next, { current: input.current, reason: 'change' }, meta),
      errorIs('password_incorrect'),
    );
    const revoked = await this.sessions.revokeOthers(accountId, keep);
    await this.audit.append({
      actor: { kind: 'citizen', id: accountId },
      action: 'session.end',
      target: { kind: 'account', id: accountId },
      result: 'success',
      details: { reason: 'password_change', scope: 'others', sessions: revoked.sessions, grants: revoked.grants },
      meta,
    });
    return revoked;
  }
}
