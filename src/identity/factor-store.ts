import type { Transaction } from 'kysely';
import type { Db } from '../store/db.js';
import type { Database, FactorKind } from '../store/schema.js';

/** Factor queries account-store.ts does not have; same rule: only identity/ writes this table. */
export const factorStore = {
  /** Forgets one verified factor of an account, when what it proved is no longer true. */
  async remove(db: Db | Transaction<Database>, accountId: string, kind: FactorKind): Promise<void> {
    await db.deleteFrom('account_factors').where('account_id', '=', accountId).where('kind', '=', kind).execute();
  },
};
