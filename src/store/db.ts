import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect, sql, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config/load.js';
import { parsePostgresUrl } from '../config/postgres-url.js';
import type { Logger } from '../log.js';
import { databaseFault } from './faults.js';
import { migrations } from './migrations/index.js';
import { runMigrations, type MigrationOutcome } from './migrator.js';
import { PGliteDialect } from './pglite-dialect.js';
import { faultTagged, newPool, PrimaryPool, type PoolSettings } from './primary-pool.js';
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
  let client: InstanceType<typeof PGlite>;
  if (config.memoryImage) {
    client = new PGlite({ loadDataDir: config.memoryImage });
  } else {
    const directory = join(config.dataDir, 'pglite');
    mkdirSync(directory, { recursive: true });
    client = new PGlite(directory);
  }
  await client.waitReady;
  await client.exec(`create schema if not exists "${config.schema}"; set search_path to "${config.schema}"`);
  return new Kysely<Database>({ dialect: new PGliteDialect(client) });
}

/** How much longer than the server's statement_timeout the driver waits for an answer. */
const QUERY_TIMEOUT_MARGIN_MS = 2_000;

async function openPostgres(config: Extract<DatabaseConfig, { kind: 'postgres' }>, logger?: Logger): Promise<Db> {
  const timeouts = config.timeouts
    ? {
      connectionTimeoutMillis: config.timeouts.connectMs,
      statement_timeout: config.timeouts.statementMs,
      // A server that hangs (its processes stopped, a frozen machine, a network that drops
      // packets without a reset) never enforces its own statement_timeout, and TCP would
      // wait hours: the driver gives up a moment after the server should have.
      query_timeout: config.timeouts.statementMs + QUERY_TIMEOUT_MARGIN_MS,
    }
    : {};
  const settings: PoolSettings = {
    max: config.poolSize,
    options: `-c search_path="${config.schema}"`,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    ...timeouts,
  };
  const target = parsePostgresUrl(config.url);
  const pool = target.hosts.length === 1 && !target.requirePrimary
    ? singleHost(newPool(target.hosts[0]!.url, settings, logger))
    : new PrimaryPool(target, settings, logger);
  // The schema must exist before pooled connections put it on their search path (a
  // missing schema on the path is no error: it is created here, on the primary).
  try {
    const client = await pool.connect();
    try {
      await client.query(`create schema if not exists "${config.schema}"`, []);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw databaseFault(error);
  }
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** One host as given (or a proxy in front of several): the pool as Kysely sees it, its faults tagged. */
function singleHost(pool: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      try {
        return faultTagged(await pool.connect());
      } catch (error) {
        throw databaseFault(error);
      }
    },
    end: () => pool.end(),
  };
}

export async function openDatabase(config: DatabaseConfig, logger?: Logger): Promise<DatabaseHandle> {
  const db = config.kind === 'postgres' ? await openPostgres(config, logger) : await openPglite(config);
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
