import type { Kysely } from 'kysely';

/**
 * An enterprise application is continued (code sent again, code confirmed) only by the
 * session or token that started it: the digest of its key (flows/holder.ts). Applications
 * started before have none and can no longer be continued, only withdrawn and started again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('enterprise_applications').addColumn('applicant_holder', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('enterprise_applications').dropColumn('applicant_holder').execute();
}
