import { sql, type Kysely } from 'kysely';

/**
 * An enterprise application can be superseded: the legal representative's own application
 * ends one that someone else started on their behalf (which would otherwise hold the
 * enterprise's registration for a week).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table enterprise_applications drop constraint enterprise_applications_status_check`.execute(db);
  await sql`alter table enterprise_applications add constraint enterprise_applications_status_check
    check (status in ('pending', 'approved', 'rejected', 'expired', 'withdrawn', 'superseded'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`update enterprise_applications set status = 'withdrawn' where status = 'superseded'`.execute(db);
  await sql`alter table enterprise_applications drop constraint enterprise_applications_status_check`.execute(db);
  await sql`alter table enterprise_applications add constraint enterprise_applications_status_check
    check (status in ('pending', 'approved', 'rejected', 'expired', 'withdrawn'))`.execute(db);
}
