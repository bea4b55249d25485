import { sql, type Expression, type Insertable, type RawBuilder, type Selectable, type Transaction, type Updateable } from 'kysely';
import type { Db } from '../store/db.js';
import { forgetInRequest } from '../request-scope.js';
import type { AccountFactorsTable, AccountsTable, Database } from '../store/schema.js';

export type AccountRow = Selectable<AccountsTable>;
export type NewAccountRow = Insertable<AccountsTable>;
export type AccountPatch = Updateable<AccountsTable>;
export type FactorRow = Selectable<AccountFactorsTable>;

type Executor = Db | Transaction<Database>;

/** What tokens need of an account: whether it may hold them, and its sealed claims. */
export type ClaimsSource = Pick<AccountRow, 'id' | 'status' | 'assurance_level' | 'id_number_enc' | 'name_enc' | 'phone_enc'>;

/** Where a query that read an account's claims source along with a token leaves it (request-scope.ts). */
export function claimsSourceKey(accountId: string): string {
  return `account-claims:${accountId}`;
}

/** The account queries, by name: nothing outside identity/ writes SQL against these tables. */
export const accountStore = {
  byId(db: Executor, id: string): Promise<AccountRow | undefined> {
    return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  },

  /** The row locked for the rest of the transaction, so that a decision on it cannot race another. */
  byIdForUpdate(trx: Executor, id: string): Promise<AccountRow | undefined> {
    return trx.selectFrom('accounts').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
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

  claimsSource(db: Executor, id: string): Promise<ClaimsSource | undefined> {
    return db.selectFrom('accounts').select(['id', 'status', 'assurance_level', 'id_number_enc', 'name_enc', 'phone_enc'])
      .where('id', '=', id).executeTakeFirst();
  },

  /**
   * The claims source of the account `accountId` refers to, as one JSON value (its fields
   * are all text and numbers), for a query that reads a token and its account together.
   */
  claimsSourceOf(accountId: Expression<string | null>): RawBuilder<ClaimsSource | null> {
    return sql<ClaimsSource | null>`(select jsonb_build_object('id', a.id, 'status', a.status, 'assurance_level', a.assurance_level,
      'id_number_enc', a.id_number_enc, 'name_enc', a.name_enc, 'phone_enc', a.phone_enc) from accounts a where a.id = ${accountId})`;
  },

  async update(db: Executor, id: string, patch: AccountPatch): Promise<void> {
    forgetInRequest(claimsSourceKey(id));
    await db.updateTable('accounts').set({ ...patch, updated_at: new Date() }).where('id', '=', id).execute();
  },

  /** Records an authenticator step as used, only if no later or equal one was: of two racing uses of one code, one wins. */
  async useTotpStep(db: Executor, id: string, step: number): Promise<boolean> {
    forgetInRequest(claimsSourceKey(id));
    const result = await db.updateTable('accounts').set({ totp_last_step: step, updated_at: new Date() })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
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
