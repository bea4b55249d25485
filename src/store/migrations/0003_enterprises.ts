import { sql, type Kysely } from 'kysely';

/**
 * Legal persons and delegated authority. An enterprise is bound to the real-name account
 * of its legal representative (level 0); everyone else acts for it through a grant, and
 * grants chain at most three levels below the representative. A unified social credit
 * code is public register data, so it is stored in clear.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('enterprises')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('uscc', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('company', 'individual_business', 'social_organization', 'public_institution')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'banned', 'deregistered')`))
    // What the register said when last asked; a revoked or cancelled enterprise cannot act.
    .addColumn('registry_status', 'text', (c) => c.notNull().check(sql`registry_status in ('active', 'revoked', 'cancelled')`))
    .addColumn('registry_checked_at', 'timestamptz', (c) => c.notNull())
    // Blind index of the representative's ID number as the register names them.
    .addColumn('registry_representative_idx', 'text', (c) => c.notNull())
    // The account holding root authority; null between a change in the register and the new representative's claim.
    .addColumn('representative_account_id', 'text', (c) => c.references('accounts.id'))
    .addColumn('representative_since', 'timestamptz')
    // Optional enterprise-account login (统一社会信用代码 + 密码 + SMS to the representative).
    .addColumn('password_hash', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('enterprises_representative_idx').on('enterprises').column('representative_account_id').execute();

  // A registration started by someone other than the representative waits for their approval.
  await db.schema.createTable('enterprise_applications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('uscc', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('applicant_account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('representative_idx', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'approved', 'rejected', 'expired', 'withdrawn')`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('decided_by', 'text', (c) => c.references('accounts.id'))
    .addColumn('decided_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('enterprise_applications_pending_idx').on('enterprise_applications').column('uscc').unique()
    .where(sql.ref('status'), '=', 'pending').execute();
  await db.schema.createIndex('enterprise_applications_representative_idx').on('enterprise_applications').columns(['representative_idx', 'status']).execute();

  await db.schema.createTable('delegation_grants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('enterprise_id', 'text', (c) => c.notNull().references('enterprises.id'))
    // Null for a grant made with root authority; otherwise the grant the grantor acted under.
    .addColumn('parent_id', 'text', (c) => c.references('delegation_grants.id'))
    .addColumn('grantor_account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('grantee_account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('level', 'smallint', (c) => c.notNull().check(sql`level between 1 and 3`))
    // [{ "client_id": "...", "service_items": ["tax.declare", ...] }, ...]
    .addColumn('scope', 'jsonb', (c) => c.notNull())
    .addColumn('valid_from', 'timestamptz', (c) => c.notNull())
    .addColumn('valid_until', 'timestamptz', (c) => c.notNull())
    .addColumn('may_redelegate', 'boolean', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'active', 'revoked', 'expired')`))
    // Bumped by every change, so two operations racing on one grant cannot both win.
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_by', 'text', (c) => c.references('accounts.id'))
    .addCheckConstraint('delegation_grants_period', sql`valid_until > valid_from`)
    .addCheckConstraint('delegation_grants_not_self', sql`grantor_account_id <> grantee_account_id`)
    .addCheckConstraint('delegation_grants_root_level', sql`(parent_id is null) = (level = 1)`)
    .execute();
  await db.schema.createIndex('delegation_grants_grantee_idx').on('delegation_grants').columns(['grantee_account_id', 'status']).execute();
  await db.schema.createIndex('delegation_grants_enterprise_idx').on('delegation_grants').columns(['enterprise_id', 'status']).execute();
  await db.schema.createIndex('delegation_grants_parent_idx').on('delegation_grants').column('parent_id').execute();

  // A citizen asks an enterprise for authority; a holder who may re-delegate decides.
  await db.schema.createTable('delegation_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('enterprise_id', 'text', (c) => c.notNull().references('enterprises.id'))
    .addColumn('requester_account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('scope', 'jsonb', (c) => c.notNull())
    .addColumn('valid_from', 'timestamptz', (c) => c.notNull())
    .addColumn('valid_until', 'timestamptz', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'approved', 'rejected', 'withdrawn')`))
    .addColumn('decided_by', 'text', (c) => c.references('accounts.id'))
    .addColumn('decided_at', 'timestamptz')
    .addColumn('grant_id', 'text', (c) => c.references('delegation_grants.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('delegation_requests_period', sql`valid_until > valid_from`)
    .execute();
  await db.schema.createIndex('delegation_requests_enterprise_idx').on('delegation_requests').columns(['enterprise_id', 'status']).execute();
  await db.schema.createIndex('delegation_requests_requester_idx').on('delegation_requests').column('requester_account_id').execute();

  // The history of each grant, shown to its holders (the audit log keeps the security record).
  await db.schema.createTable('delegation_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('grant_id', 'text', (c) => c.notNull().references('delegation_grants.id'))
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('actor_account_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await db.schema.createIndex('delegation_events_grant_idx').on('delegation_events').columns(['grant_id', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('delegation_events').execute();
  await db.schema.dropTable('delegation_requests').execute();
  await db.schema.dropTable('delegation_grants').execute();
  await db.schema.dropTable('enterprise_applications').execute();
  await db.schema.dropTable('enterprises').execute();
}
