import { sql, type Kysely } from 'kysely';

const KINDS_BEFORE = sql`kind in ('account.unban', 'enterprise.restore', 'staff.grant_admin')`;
const KINDS_AFTER = sql`kind in ('account.unban', 'enterprise.restore', 'staff.grant_admin', 'staff.enable')`;

/**
 * A staff member's credentials become their own, and their account has a lifecycle:
 * - `password_must_change` and `totp_must_enrol`: what an admin handed over (or an
 *   authenticator reset issued) must be replaced by the holder at the next sign-in;
 * - `password_changed_at`: the password expires after STAFF_PASSWORD_MAX_AGE_DAYS;
 * - `session_epoch`: every console session carries the epoch it began in, so raising it
 *   (disabling, withdrawing a role, resetting the authenticator) ends them all at once;
 * - `last_login_at`, shown in the staff list;
 * - requests to re-enable a disabled member (`staff.enable`), decided by a second admin.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('staff_accounts')
    .addColumn('password_must_change', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('totp_must_enrol', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('password_changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('session_epoch', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_login_at', 'timestamptz')
    .execute();
  // Members created in the console so far still hold what their admin saw: they choose their own at their next sign-in.
  await sql`update staff_accounts set password_must_change = true, totp_must_enrol = true where created_by is not null`.execute(db);
  await sql`alter table approvals drop constraint approvals_kind_check`.execute(db);
  await sql`alter table approvals add constraint approvals_kind_check check (${KINDS_AFTER})`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from approvals where kind = 'staff.enable'`.execute(db);
  await sql`alter table approvals drop constraint approvals_kind_check`.execute(db);
  await sql`alter table approvals add constraint approvals_kind_check check (${KINDS_BEFORE})`.execute(db);
  await db.schema.alterTable('staff_accounts')
    .dropColumn('password_must_change').dropColumn('totp_must_enrol').dropColumn('password_changed_at').dropColumn('session_epoch').dropColumn('last_login_at')
    .execute();
}
