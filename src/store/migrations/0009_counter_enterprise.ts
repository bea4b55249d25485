import { sql, type Kysely } from 'kysely';

/**
 * Enterprises registered at a service counter (线下窗口注册): how the agent satisfied
 * themselves of the applicant — the legal representative in person with ID card and
 * licence, or a delegate with a power of attorney (委托书), whose number and the SHA-256
 * digest of its scan are kept. The scan itself is never stored. The delegate is kept
 * masked only: the power of attorney names them, the counter keeps the paper.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('enterprise_counter_registrations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('enterprise_id', 'text', (c) => c.notNull().references('enterprises.id'))
    .addColumn('staff_id', 'text', (c) => c.notNull().references('staff_accounts.id'))
    .addColumn('representative_account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('mode', 'text', (c) => c.notNull().check(sql`mode in ('in_person', 'power_of_attorney')`))
    .addColumn('power_of_attorney_number', 'text')
    .addColumn('power_of_attorney_sha256', 'text')
    .addColumn('delegate_name_masked', 'text')
    .addColumn('delegate_id_number_masked', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('enterprise_counter_registrations_poa', sql`(mode = 'power_of_attorney') = (power_of_attorney_number is not null and power_of_attorney_sha256 is not null)`)
    .addCheckConstraint('enterprise_counter_registrations_digest', sql`power_of_attorney_sha256 is null or power_of_attorney_sha256 ~ '^[0-9a-f]{64}$'`)
    .execute();
  await db.schema.createIndex('enterprise_counter_registrations_enterprise_idx').on('enterprise_counter_registrations').column('enterprise_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('enterprise_counter_registrations').execute();
}
