import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config/load.js';
import { migrations } from './migrations/index.js';
import { runMigrations, type MigrationOutcome } from './migrator.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export interface DatabaseHandle {
  db: Db;
  kind: DatabaseConfig['kind'];
  schema: string;
  /** Applies every pending migration, or undoes the last one; returns what was done. */
  migrate(direction?: 'up' | 'down'): Promise<{ results: MigrationOutcome[] }>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

// timestamptz and bigint come back as Date and string by default; count(*) needs a number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

async function openPglite(config: Extract<DatabaseConfig, { kind: 'pglite' }>): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  const directory = join(config.dataDir, 'pglite');
  mkdirSync(directory, { recursive: true });
  const client = new PGlite(directory);
  await client.waitReady;
  await client.exec(`create schema if not exists "${config.schema}"; set search_path to "${config.schema}"`);
  return new Kysely<Database>({ dialect: new PGliteDialect(client) });
}

async function openPostgres(config: Extract<DatabaseConfig, { kind: 'postgres' }>): Promise<Db> {
  // The schema must exist before pooled connections put it on their search path.
  const bootstrap = new pg.Client({ connectionString: config.url });
  await bootstrap.connect();
  try {
    await bootstrap.query(`create schema if not exists "${config.schema}"`);
  } finally {
    await bootstrap.end();
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    options: `-c search_path="${config.schema}"`,
    idleTimeoutMillis: 30_000,
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

export async function openDatabase(config: DatabaseConfig): Promise<DatabaseHandle> {
  const db = config.kind === 'postgres' ? await openPostgres(config) : await openPglite(config);
  return {
    db,
    kind: config.kind,
    schema: config.schema,
    async migrate(direction = 'up') {
      return { results: await runMigrations(db, config.schema, migrations, direction) };
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}
