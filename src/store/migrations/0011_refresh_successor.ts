import type { Kysely } from 'kysely';

/**
 * A rotated refresh token names its one successor, so that presenting it again within the
 * reuse interval is answered with that same successor and never a second one (see
 * oidc/refresh-rotation.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('oidc_artifacts').addColumn('successor_id', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('oidc_artifacts').dropColumn('successor_id').execute();
}
