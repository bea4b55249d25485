import { sql, type Kysely } from 'kysely';

/** Clients, signing keys, and the durable oidc-provider artifacts (Grant, RefreshToken). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('oidc_clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('metadata', 'jsonb', (c) => c.notNull())
    .addColumn('secret_digest', 'text')
    .addColumn('access_policy', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('file', 'console')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema.createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('private_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('activate_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('retire_after', 'timestamptz')
    .execute();
  // One current key per algorithm, even when several instances start at once.
  await db.schema.createIndex('signing_keys_current_idx').on('signing_keys').column('alg').unique()
    .where(sql.ref('retire_after'), 'is', null).execute();

  await db.schema.createTable('oidc_artifacts')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('grant_id', 'text')
    .addColumn('account_id', 'text')
    .addColumn('uid', 'text')
    .addColumn('user_code', 'text')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('consumed_at', 'timestamptz')
    .addPrimaryKeyConstraint('oidc_artifacts_pk', ['model', 'id'])
    .execute();
  await db.schema.createIndex('oidc_artifacts_grant_idx').on('oidc_artifacts').column('grant_id')
    .where(sql.ref('grant_id'), 'is not', null).execute();
  await db.schema.createIndex('oidc_artifacts_account_idx').on('oidc_artifacts').column('account_id')
    .where(sql.ref('account_id'), 'is not', null).execute();
  await db.schema.createIndex('oidc_artifacts_expiry_idx').on('oidc_artifacts').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('oidc_artifacts').execute();
  await db.schema.dropTable('signing_keys').execute();
  await db.schema.dropTable('oidc_clients').execute();
}
