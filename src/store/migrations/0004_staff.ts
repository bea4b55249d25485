import { sql, type Kysely } from 'kysely';

/**
 * Helpdesk and administration staff, kept apart from citizens: their own accounts, with a
 * password and a mandatory authenticator (TOTP); their roles, one row each, so a person
 * holds exactly the roles granted; and requests that need a second person's decision
 * (maker-checker): unbanning an account, restoring an enterprise, granting the admin role.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('staff_accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // Lower case, letters, digits, dot, dash and underscore (checked by the domain).
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'disabled')`))
    .addColumn('password_hash', 'text', (c) => c.notNull())
    // Mandatory: a staff account cannot exist without its second factor.
    .addColumn('totp_secret_enc', 'text', (c) => c.notNull())
    .addColumn('totp_last_step', 'bigint')
    .addColumn('created_by', 'text', (c) => c.references('staff_accounts.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema.createTable('staff_roles')
    .addColumn('staff_id', 'text', (c) => c.notNull().references('staff_accounts.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('agent', 'supervisor', 'auditor', 'admin')`))
    .addColumn('granted_by', 'text', (c) => c.references('staff_accounts.id'))
    .addColumn('granted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('staff_roles_pk', ['staff_id', 'role'])
    .execute();

  await db.schema.createTable('approvals')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('account.unban', 'enterprise.restore', 'staff.grant_admin')`))
    .addColumn('target_kind', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull().references('staff_accounts.id'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'approved', 'rejected', 'expired')`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('decided_by', 'text', (c) => c.references('staff_accounts.id'))
    .addColumn('decided_at', 'timestamptz')
    .addColumn('decision_note', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // Nobody decides their own request, whatever the code above does.
    .addCheckConstraint('approvals_two_persons', sql`decided_by is null or decided_by <> requested_by`)
    .execute();
  // At most one open request per act and target; decided ones are all kept.
  await db.schema.createIndex('approvals_one_pending').on('approvals').columns(['kind', 'target_id']).unique()
    .where(sql.ref('status'), '=', 'pending').execute();
  await db.schema.createIndex('approvals_status_idx').on('approvals').columns(['status', 'created_at']).execute();

  // Retention: the daily purge may remove audit records, but only those older than 180 days
  // (GB/T 22239 level 3 keeps six months) and only inside a transaction that says it is the
  // purge. Everything else stays refused: UPDATE always, DELETE of younger records, TRUNCATE.
  await sql`create or replace function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' and current_setting('civic.audit_purge', true) = 'on' and old.at < now() - interval '180 days' then
        return old;
      end if;
      raise exception 'audit_log is append-only (% refused)', tg_op using errcode = 'insufficient_privilege';
    end $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`create or replace function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only (% refused)', tg_op using errcode = 'insufficient_privilege';
    end $$`.execute(db);
  await db.schema.dropTable('approvals').execute();
  await db.schema.dropTable('staff_roles').execute();
  await db.schema.dropTable('staff_accounts').execute();
}
