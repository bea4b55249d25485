import type { RequestMeta } from '../audit/audit-log.js';
import type { KeepSignedIn, AccountSessions } from '../oidc/account-sessions.js';
import type { LogoutOutbox, LogoutOutcome, PendingLogout } from '../oidc/logout-outbox.js';
import { errorIs, type AttemptLimit } from './attempt-limit.js';
import type { Passwords } from './passwords.js';

/**
 * Changing the password from the account centre. Whoever else knew the old password may
 * be signed in somewhere: every other session, grant and token is revoked. The one the
 * person is using stays: they just proved the current password on it, and throwing them
 * out of the page where they changed it would only teach people not to change it.
 * The sign-out is written with the new password (the logout outbox), so it happens even
 * when the stores fail right after.
 */
export class PasswordChange {
  constructor(
    private readonly passwords: Passwords,
    private readonly sessions: AccountSessions,
    private readonly logouts: LogoutOutbox,
    private readonly attempts: AttemptLimit,
  ) {}

  async change(accountId: string, input: { current: string; next: string }, keep: KeepSignedIn, meta: RequestMeta): Promise<LogoutOutcome> {
    let pending: PendingLogout | undefined;
    const target = { kind: 'account', id: accountId };
    // Policy, hash, and the audit record `password.change` (success or wrong current password).
    await this.attempts.guard(
      `current-password:${accountId}`,
      () => this.passwords.set(accountId, input.next, {
        current: input.current,
        reason: 'change',
        within: async (trx) => {
          pending = await this.logouts.enqueue(trx, {
            kind: 'account_but',
            account_id: accountId,
            // The session by its handle: the outbox keeps no session id.
            keep: {
              ...(keep.sessionId ? { session_handle: this.sessions.handle(keep.sessionId) } : {}),
              ...(keep.sessionUid ? { session_uid: keep.sessionUid } : {}),
              grant_ids: keep.grantIds,
            },
          }, { actor: { kind: 'citizen', id: accountId }, action: 'session.end', target, details: { reason: 'password_change', scope: 'others' }, meta });
        },
      }, meta),
      errorIs('password_incorrect'),
    );
    return this.logouts.settle(pending!);
  }
}
