import type { Insertable, Selectable, Transaction, Updateable } from 'kysely';
import type { Db } from '../store/db.js';
import type { AccountFactorsTable, AccountsTable, Database } from '../store/schema.js';

export type AccountRow = Selectable<AccountsTable>;
export type NewAccountRow = Insertable<AccountsTable>;
export type AccountPatch = Updateable<AccountsTable>;
export type FactorRow = Selectable<AccountFactorsTable>;

type Executor = Db | Transaction<Database>;

/** The account queries, by name: nothing outside identity/ writes SQL against these tables. */
export const accountStore = {
  byId(db: Executor, id: string): Promise<AccountRow | undefined> {
    return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  },

  byIdNumberIndex(db: Executor, index: string): Promise<AccountRow | undefined> {
    return db.selectFrom('accounts').selectAll().where('id_number_idx', '=', index).executeTakeFirst();
  },

  byPhoneIndex(db: Executor, index: string): Promise<AccountRow | undefined> {
    return db.selectFrom('accounts').selectAll().where('phone_idx', '=', index).executeTakeFirst();
  },

  async insert(db: Executor, row: NewAccountRow): Promise<void> {
    await db.insertInto('accounts').values(row).execute();
  },

  async update(db: Executor, id: string, patch: AccountPatch): Promise<void> {
    await db.updateTable('accounts').set({ ...patch, updated_at: new Date() }).where('id', '=', id).execute();
  },

  factors(db: Executor, accountId: string): Promise<FactorRow[]> {
    return db.selectFrom('account_factors').selectAll().where('account_id', '=', accountId).orderBy('kind').execute();
  },

  async replaceFactor(db: Executor, row: Insertable<AccountFactorsTable>): Promise<void> {
    await db.insertInto('account_factors').values(row)
      .onConflict((c) => c.columns(['account_id', 'kind']).doUpdateSet({ value_idx: row.value_idx, masked: row.masked, verified_at: new Date() }))
      .execute();
  },

  async deleteFactors(db: Executor, accountId: string): Promise<void> {
    await db.deleteFrom('account_factors').where('account_id', '=', accountId).execute();
  },

  async replaceRecoveryCodes(db: Executor, accountId: string, digests: string[]): Promise<void> {
    await db.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
    if (digests.length > 0) {
      await db.insertInto('recovery_codes').values(digests.map((code_digest) => ({ account_id: accountId, code_digest }))).execute();
    }
  },

  /** Marks one unused recovery code used; false when it does not exist or was used. */
  async useRecoveryCode(db: Executor, accountId: string, digest: string): Promise<boolean> {
    const result = await db.updateTable('recovery_codes').set({ used_at: new Date() })
      .where('account_id', '=', accountId).where('code_digest', '=', digest).where('used_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  },

  async unusedRecoveryCodes(db: Executor, accountId: string): Promise<number> {
    const row = await db.selectFrom('recovery_codes').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('account_id', '=', accountId).where('used_at', 'is', null).executeTakeFirstOrThrow();
    return Number(row.n);
  },
};

/** True when a database error is a unique-constraint violation on the named index. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: string; constraint?: string; message?: string };
  return e?.code === '23505' && (e.constraint === constraint || Boolean(e.message?.includes(constraint)));
}
