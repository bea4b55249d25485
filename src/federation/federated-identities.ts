import type { Insertable, Selectable, Transaction } from 'kysely';
import type { Db } from '../store/db.js';
import type { Database, FederatedIdentitiesTable } from '../store/schema.js';

export type FederatedIdentityRow = Selectable<FederatedIdentitiesTable>;

type Executor = Db | Transaction<Database>;

/** The federation queries, by name: nothing else writes SQL against `federated_identities`. */
export const federatedIdentityStore = {
  find(db: Executor, upstreamIssuer: string, subject: string): Promise<FederatedIdentityRow | undefined> {
    return db.selectFrom('federated_identities').selectAll()
      .where('upstream_issuer', '=', upstreamIssuer).where('subject', '=', subject)
      .executeTakeFirst();
  },

  forAccount(db: Executor, accountId: string): Promise<FederatedIdentityRow[]> {
    return db.selectFrom('federated_identities').selectAll().where('account_id', '=', accountId).orderBy('created_at').execute();
  },

  async insert(db: Executor, row: Insertable<FederatedIdentitiesTable>): Promise<void> {
    await db.insertInto('federated_identities').values(row).execute();
  },

  async touch(db: Executor, upstreamIssuer: string, subject: string): Promise<void> {
    await db.updateTable('federated_identities').set({ last_login_at: new Date() })
      .where('upstream_issuer', '=', upstreamIssuer).where('subject', '=', subject)
      .execute();
  },

  async remove(db: Executor, upstreamIssuer: string, subject: string): Promise<void> {
    await db.deleteFrom('federated_identities')
      .where('upstream_issuer', '=', upstreamIssuer).where('subject', '=', subject)
      .execute();
  },
};
