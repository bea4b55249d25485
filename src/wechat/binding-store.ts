import { sql, type Transaction } from 'kysely';
import type { Db } from '../store/db.js';
import type { Database, WechatBindingsTable } from '../store/schema.js';

export type BindingRow = Pick<WechatBindingsTable, 'id' | 'app_id' | 'openid_masked' | 'account_id' | 'client_id'> & {
  created_at: Date;
  last_login_at: Date | null;
};

const COLUMNS = ['id', 'app_id', 'openid_masked', 'account_id', 'client_id', 'created_at', 'last_login_at'] as const;

/** The queries on wechat_bindings, and the one on the provider's grants that unbinding needs. */
export class BindingStore {
  constructor(private readonly db: Db) {}

  findByIdentity(appId: string, openidIdx: string): Promise<BindingRow | undefined> {
    return this.db.selectFrom('wechat_bindings').select(COLUMNS)
      .where('app_id', '=', appId).where('openid_idx', '=', openidIdx).executeTakeFirst();
  }

  listForAccount(accountId: string): Promise<BindingRow[]> {
    return this.db.selectFrom('wechat_bindings').select(COLUMNS).where('account_id', '=', accountId).orderBy('created_at', 'desc').execute();
  }

  /** False when the identity or the account (for this app) is bound already. */
  async insert(row: Omit<WechatBindingsTable, 'created_at' | 'last_login_at'>): Promise<boolean> {
    const inserted = await this.db.insertInto('wechat_bindings').values(row).onConflict((conflict) => conflict.doNothing()).executeTakeFirst();
    return (inserted.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  /** Runs `work` in one transaction (an unbinding and the logins it ends). */
  transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(work);
  }

  async remove(accountId: string, id: string, trx: Transaction<Database>): Promise<BindingRow | undefined> {
    return trx.deleteFrom('wechat_bindings').where('id', '=', id).where('account_id', '=', accountId).returning(COLUMNS).executeTakeFirst();
  }

  async touch(id: string): Promise<void> {
    await this.db.updateTable('wechat_bindings').set({ last_login_at: sql`now()` }).where('id', '=', id).execute();
  }

  /** The provider's grants of this account for this client (grants live in oidc_artifacts, see oidc/adapters). */
  async grantsOf(accountId: string, clientId: string, trx: Transaction<Database>): Promise<string[]> {
    const rows = await trx.selectFrom('oidc_artifacts').select('id')
      .where('model', '=', 'Grant').where('account_id', '=', accountId)
      .where(sql<string>`payload->>'clientId'`, '=', clientId)
      .execute();
    return rows.map((row) => row.id);
  }
}

/**
 * Erases the account's WeChat bindings inside the transaction of the act that ends them
 * (deregistration, a counter reset, a recovery, a ban) and returns what was removed. The
 * openid index is personal data, and the WeChat identity must be free to bind again.
 */
export function deleteWechatBindings(db: Db | Transaction<Database>, accountId: string): Promise<BindingRow[]> {
  return db.deleteFrom('wechat_bindings').where('account_id', '=', accountId).returning(COLUMNS).execute();
}
