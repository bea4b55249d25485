import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import type { Accounts } from './accounts.js';
import type { OwnerCodes, Principal } from './owner-codes.js';

const MAX_ADDRESS_LENGTH = 200;

/**
 * The one detail a citizen edits themselves: the contact address. Name and ID number are
 * what the population registry says and change only there; the phone has its own
 * re-binding flow. The address is personal data: stored encrypted, never audited in clear.
 */
export class AddressChange {
  constructor(private readonly accounts: Accounts, private readonly codes: OwnerCodes, private readonly audit: AuditLog) {}

  /** An empty address clears it. The input is checked before the code is spent on it. */
  async change(accountId: string, input: { address: string; code: string }, principal: Principal, meta: RequestMeta): Promise<void> {
    const address = input.address.normalize('NFC').replace(/\s+/g, ' ').trim();
    // Control characters have no place in an address and would corrupt what we print.
    if (address.length > MAX_ADDRESS_LENGTH || /\p{Cc}/u.test(address)) throw new AppError('invalid_input', { field: 'address' });
    const row = await this.accounts.row(accountId);
    if (!row || row.status !== 'active') throw new AppError('unauthenticated');
    try {
      await this.codes.verify(accountId, 'profile', principal, input.code);
    } catch (error) {
      await this.audit.append({ actor: { kind: 'citizen', id: accountId }, action: 'profile.update', target: { kind: 'account', id: accountId }, result: 'failure', details: { fields: ['address'], reason: (error as AppError).code ?? 'error' }, meta });
      throw error;
    }
    await this.accounts.transaction(async (trx) => {
      await this.accounts.update(accountId, { address_enc: address ? this.accounts.sealAddress(address) : null }, trx);
      await this.audit.append({ actor: { kind: 'citizen', id: accountId }, action: 'profile.update', target: { kind: 'account', id: accountId }, result: 'success', details: { fields: ['address'], cleared: address === '' }, meta }, trx);
    });
  }
}
