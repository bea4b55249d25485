import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import type { LogoutOutbox } from '../oidc/logout-outbox.js';
import { accountStore } from './account-store.js';
import type { Accounts } from './accounts.js';
import type { OwnerCodes, Principal } from './owner-codes.js';
import { deleteWechatBindings } from '../wechat/binding-store.js';

/**
 * Closing an account at its owner's request (注销), after an SMS code to the bound phone.
 * In one transaction the account is marked deregistered, everything the provider issued
 * is written to be revoked (the logout outbox, done before this returns unless the stores
 * fail, and then soon after), and its personal data erased: the encrypted values, their blind
 * indexes (which frees the ID number and the phone for a new registration), the password,
 * the second factor, the factors and the recovery codes. The row stays, holding no
 * personal data, so the audit records that name it keep their subject: the law requires
 * them to be kept, and they hold only masked details.
 */
export class Deregistration {
  constructor(
    private readonly accounts: Accounts,
    private readonly codes: OwnerCodes,
    private readonly logouts: LogoutOutbox,
    private readonly audit: AuditLog,
  ) {}

  async deregister(accountId: string, input: { code: string }, principal: Principal, meta: RequestMeta): Promise<void> {
    const row = await this.accounts.row(accountId);
    if (!row || row.status !== 'active') throw new AppError('unauthenticated');
    await this.codes.verify(accountId, 'deregister', principal, input.code);
    const idNumberMasked = this.accounts.profileOf(row).masked.idNumber;
    const ending = await this.accounts.transaction(async (trx) => {
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
      // After the erasure, so a login that raced it (the provider no longer finds the account) goes too.
      return this.logouts.enqueue(trx, { kind: 'account', account_id: accountId });
    });
    await this.logouts.settle(ending);
  }
}
