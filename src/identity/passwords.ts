import type { Transaction } from 'kysely';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { Database } from '../store/schema.js';
import { AppError } from '../errors.js';
import type { Accounts } from './accounts.js';
import { credentialStamp } from './authentication.js';
import { hashPassword, verifyPassword } from './password-hash.js';
import { checkPassword } from './password-policy.js';

/** Setting a password: the policy, the hash, the audit record; nothing else. */
export class Passwords {
  constructor(private readonly accounts: Accounts, private readonly audit: AuditLog) {}

  /**
   * `expectStamp`: the credentials the caller saw (a login paused at the forced change). The
   * new password is written only if they are still those, checked on the locked row, so a
   * reset or ban that lands meanwhile wins (login_restart, account_banned).
   */
  async set(
    accountId: string,
    password: string,
    options: {
      current?: string;
      reason: 'change' | 'forced_change' | 'recovery';
      expectStamp?: string;
      /** More of the same act, committed with the new password or not at all (the logins it ends). */
      within?: (trx: Transaction<Database>) => Promise<void>;
    },
    meta: RequestMeta,
  ): Promise<{ credentialStamp: string }> {
    const row = await this.accounts.row(accountId);
    if (!row || row.status === 'deregistered') throw new AppError('account_not_found');
    if (options.current !== undefined) {
      const ok = row.password_hash ? await verifyPassword(row.password_hash, options.current.normalize('NFKC')) : false;
      if (!ok) {
        await this.audit.append({ actor: { kind: 'citizen', id: accountId }, action: 'password.change', target: { kind: 'account', id: accountId }, result: 'failure', details: { reason: 'current_password_wrong' }, meta });
        throw new AppError('password_incorrect');
      }
    }
    const profile = this.accounts.profileOf(row);
    // The policy reads the birth date out of the ID number itself.
    const policy = checkPassword(password, { idNumber: profile.idNumber, phone: profile.phone });
    if (!policy.ok) throw new AppError('weak_password', { reason: policy.reason });
    const hash = await hashPassword(policy.normalised);
    const changedAt = new Date();
    await this.accounts.transaction(async (trx) => {
      if (options.expectStamp !== undefined) {
        const locked = await this.accounts.rowForUpdate(accountId, trx);
        if (locked?.status === 'banned') throw new AppError('account_banned');
        if (!locked || locked.status !== 'active' || credentialStamp(locked) !== options.expectStamp) throw new AppError('login_restart');
      }
      await this.accounts.update(accountId, { password_hash: hash, password_must_change: false, password_changed_at: changedAt }, trx);
      await this.audit.append({ actor: { kind: 'citizen', id: accountId }, action: options.reason === 'recovery' ? 'password.recover' : 'password.change', target: { kind: 'account', id: accountId }, result: 'success', details: { reason: options.reason }, meta }, trx);
      await options.within?.(trx);
    });
    return { credentialStamp: credentialStamp({ password_changed_at: changedAt }) };
  }
}
