import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import type { AccountSessions } from '../oidc/account-sessions.js';
import { accountStore } from './account-store.js';
import type { Accounts } from './accounts.js';
import type { OwnerCodes, Principal } from './owner-codes.js';
import { deleteWechatBindings } from '../wechat/binding-store.js';

/**
 * Closing an account at its owner's request (注销), after an SMS code to the bound phone.
 * Everything the provider issued is revoked, then, in one transaction, the account is
 * marked deregistered and its personal data erased: the encrypted values, their blind
 * indexes (which frees the ID number and the phone for a new registration), the password,
 * the second factor, the factors and the recovery codes. The row stays, holding no
 * personal data, so the audit records that name it keep their subject: the law requires
 * them to be kept, and they hold only masked details.
 */
export class Deregistration {
  constructor(
    private readonly accounts: Accounts,
    private readonly codes: OwnerCodes,
    private readonly sessions: AccountSessions,
    private readonly audit: AuditLog,
  ) {}

  async deregister(accountId: string, input: { code: string }, principal: Principal, meta: RequestMeta): Promise<void> {
    const row = await this.accounts.row(accountId);
    if (!row || row.status !== 'active') throw new AppError('unauthenticated');
    await this.codes.verify(accountId, 'deregister', principal, input.code);
    const idNumberMasked = this.accounts.profileOf(row).masked.idNumber;
    await this.sessions.revokeAll(accountId);
    await this.accounts.transaction(async (trx) => {
      await this.accounts.update(accountId, {
        status: 'deregistered',
        deregistered_at: new Date(),
        id_number_enc: null,
        id_number_idx: null,
        name_enc: null,
        phone_enc: null,
        phone_idx: null,
        address_enc: null,
        password_hash: null,
        totp_secret_enc: null,
        totp_enabled_at: null,
        totp_last_step: null,
      }, trx);
      await accountStore.deleteFactors(trx, accountId);
      await deleteWechatBindings(trx, accountId);
      await this.accounts.replaceRecoveryCodes(accountId, [], trx);
      await this.audit.append({ actor: { kind: 'citizen', id: accountId }, action: 'account.deregister', target: { kind: 'account', id: accountId }, result: 'success', details: { id_number_masked: idNumberMasked }, meta }, trx);
    });
    // A login that raced the erasure: the provider no longer finds the account, but its artifacts go too.
    await this.sessions.revokeAll(accountId);
  }
}
