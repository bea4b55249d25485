import { sql, type Kysely, type Migration } from 'kysely';

export interface MigrationOutcome {
  migrationName: string;
  direction: 'Up' | 'Down';
  status: 'Success';
}

/**
 * Applies the ordered migrations in one transaction under an advisory lock, so several
 * instances starting at once migrate exactly once and a failed migration leaves nothing
 * half-applied. It keeps its own ledger table rather than introspecting the catalogue,
 * which other sessions may be changing at the same moment.
 */
export async function runMigrations(
  db: Kysely<any>, // eslint-disable-line @typescript-eslint/no-explicit-any
  schema: string,
  migrations: Record<string, Migration>,
  direction: 'up' | 'down',
): Promise<MigrationOutcome[]> {
  return db.transaction().execute(async (trx) => {
    // A migration may take longer than a request may (an index on a large table), and so
    // may waiting for another instance's.
    await sql`set local statement_timeout = 0`.execute(trx);
    await sql`select pg_advisory_xact_lock(hashtext(${`civic-idp:migrate:${schema}`}))`.execute(trx);
    await sql`create table if not exists schema_migrations (
      name text primary key,
      applied_at timestamptz not null default now()
    )`.execute(trx);
    const applied = new Set((await trx.selectFrom('schema_migrations').select('name').execute()).map((row: { name: string }) => row.name));
    const names = Object.keys(migrations).sort();
    const unknown = [...applied].filter((name) => !names.includes(name));
    if (unknown.length > 0) throw new Error(`the database has migrations this code does not know: ${unknown.join(', ')} (is this an older version?)`);

    if (direction === 'up') {
      const outcomes: MigrationOutcome[] = [];
      for (const name of names.filter((n) => !applied.has(n))) {
        await migrations[name]!.up(trx);
        await trx.insertInto('schema_migrations').values({ name }).execute();
        outcomes.push({ migrationName: name, direction: 'Up', status: 'Success' });
      }
      return outcomes;
    }
    const last = names.filter((n) => applied.has(n)).pop();
    if (!last) return [];
    const migration = migrations[last]!;
    if (!migration.down) throw new Error(`migration ${last} cannot be undone`);
    await migration.down(trx);
    await trx.deleteFrom('schema_migrations').where('name', '=', last).execute();
    return [{ migrationName: last, direction: 'Down', status: 'Success' }];
  });
}
