import { sql, type Kysely } from 'kysely';

/**
 * Logins an act has ended and the provider has still to end (`logout_outbox`): written in
 * the act's own transaction (a ban, a reset, a cancelled grant, a deregistration), so that
 * a store fault or a crash after the commit cannot leave the act done and its logins alive.
 * A row goes when the logins are ended; until then every instance retries it once it is due.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('logout_outbox')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('job', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('due_at', 'timestamptz', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .execute();
  await db.schema.createIndex('logout_outbox_due').on('logout_outbox').column('due_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('logout_outbox').execute();
}
