import { sql, type Kysely } from 'kysely';

/**
 * Mutual recognition: a person known to an upstream identity provider (the national
 * platform, another province) is mapped to one local account by the upstream's issuer and
 * subject, never by a name or an ID number the upstream asserts. A local account holds at
 * most one identity per upstream.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('federated_identities')
    .addColumn('upstream_issuer', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    // The configured id of the upstream when the link was made, for people and operators to read.
    .addColumn('upstream_id', 'text', (c) => c.notNull())
    .addColumn('linked_by', 'text', (c) => c.notNull().check(sql`linked_by in ('created', 'local_login')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_login_at', 'timestamptz')
    .addPrimaryKeyConstraint('federated_identities_pk', ['upstream_issuer', 'subject'])
    .execute();
  await db.schema.createIndex('federated_identities_account_idx').on('federated_identities')
    .columns(['upstream_issuer', 'account_id']).unique().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('federated_identities').execute();
}
