import { sql, type Kysely } from 'kysely';

/**
 * The identity a login acts as, per oidc-provider Grant: the person themselves, or an
 * enterprise through root authority (no delegation grant) or a delegation grant. Every
 * token of the Grant is checked against it when issued and when used, so cancelling a
 * delegation grant or its expiry stops them at once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('acting_identities')
    .addColumn('oidc_grant_id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('entity_type', 'text', (c) => c.notNull().check(sql`entity_type in ('natural', 'legal')`))
    .addColumn('enterprise_id', 'text', (c) => c.references('enterprises.id'))
    .addColumn('delegation_grant_id', 'text', (c) => c.references('delegation_grants.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('acting_identities_legal', sql`(entity_type = 'legal') = (enterprise_id is not null)`)
    .execute();
  await db.schema.createIndex('acting_identities_delegation_idx').on('acting_identities').column('delegation_grant_id').execute();
  await db.schema.createIndex('acting_identities_enterprise_idx').on('acting_identities').column('enterprise_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('acting_identities').execute();
}
