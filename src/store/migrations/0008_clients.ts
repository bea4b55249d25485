import { sql, type Kysely } from 'kysely';

/**
 * Who last set a client's access policy. CLIENTS_FILE is imported at every start and
 * would otherwise put back the file's policy over one an administrator set in the console
 * (a tightened minimum level, a deny list). Once the console has set it, the import keeps
 * the stored policy and says so in the log.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('oidc_clients')
    .addColumn('policy_source', 'text', (c) => c.notNull().defaultTo('file').check(sql`policy_source in ('file', 'console')`))
    .execute();
  await sql`update oidc_clients set policy_source = 'console' where source = 'console'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('oidc_clients').dropColumn('policy_source').execute();
}
