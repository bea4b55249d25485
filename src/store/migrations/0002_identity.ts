import { sql, type Kysely } from 'kysely';

/**
 * Natural persons and the audit log. Personal data is stored encrypted (`*_enc`, see
 * crypto/field-cipher.ts) and found through keyed blind indexes (`*_idx`), never in clear.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'banned', 'deregistered')`))
    .addColumn('assurance_level', 'smallint', (c) => c.notNull().check(sql`assurance_level between 1 and 3`))
    .addColumn('registration_channel', 'text', (c) => c.notNull().check(sql`registration_channel in ('online', 'counter', 'federation')`))
    .addColumn('id_number_enc', 'text')
    .addColumn('id_number_idx', 'text')
    .addColumn('name_enc', 'text')
    .addColumn('phone_enc', 'text')
    .addColumn('phone_idx', 'text')
    .addColumn('address_enc', 'text')
    .addColumn('password_hash', 'text')
    .addColumn('password_must_change', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('password_changed_at', 'timestamptz')
    .addColumn('totp_secret_enc', 'text')
    .addColumn('totp_enabled_at', 'timestamptz')
    .addColumn('totp_last_step', 'bigint')
    .addColumn('agreement_version', 'text')
    .addColumn('agreement_accepted_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('deregistered_at', 'timestamptz')
    .execute();
  // One account per person and per phone; erased (deregistered) accounts free both.
  await db.schema.createIndex('accounts_id_number_idx').on('accounts').column('id_number_idx').unique()
    .where(sql.ref('id_number_idx'), 'is not', null).execute();
  await db.schema.createIndex('accounts_phone_idx').on('accounts').column('phone_idx').unique()
    .where(sql.ref('phone_idx'), 'is not', null).execute();

  await db.schema.createTable('account_factors')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('phone', 'social_security_card', 'bank_card', 'housing_fund', 'driving_licence')`))
    .addColumn('value_idx', 'text', (c) => c.notNull())
    .addColumn('masked', 'text', (c) => c.notNull())
    .addColumn('verified_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('account_factors_pk', ['account_id', 'kind'])
    .execute();

  await db.schema.createTable('recovery_codes')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('code_digest', 'text', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addPrimaryKeyConstraint('recovery_codes_pk', ['account_id', 'code_digest'])
    .execute();

  await db.schema.createTable('audit_log')
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor_kind', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_kind', 'text')
    .addColumn('target_id', 'text')
    .addColumn('result', 'text', (c) => c.notNull().check(sql`result in ('success', 'failure', 'denied')`))
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('request_id', 'text')
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_target_idx').on('audit_log').columns(['target_kind', 'target_id', 'seq']).execute();
  await db.schema.createIndex('audit_log_at_idx').on('audit_log').column('at').execute();
  // Append-only: the application can insert, never rewrite or remove history.
  await sql`create function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only (% refused)', tg_op using errcode = 'insufficient_privilege';
    end $$`.execute(db);
  await sql`create trigger audit_log_no_update before update or delete on audit_log
    for each row execute function audit_log_append_only()`.execute(db);
  await sql`create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_log_append_only()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_log').execute();
  await sql`drop function if exists audit_log_append_only()`.execute(db);
  await db.schema.dropTable('recovery_codes').execute();
  await db.schema.dropTable('account_factors').execute();
  await db.schema.dropTable('accounts').execute();
}
