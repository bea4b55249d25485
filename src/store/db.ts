import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect, sql, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config/load.js';
import type { Logger } from '../log.js';
import { databaseFault, StoreUnavailableError } from './faults.js';
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

async function openPostgres(config: Extract<DatabaseConfig, { kind: 'postgres' }>, logger?: Logger): Promise<Db> {
  const timeouts = config.timeouts ? { connectionTimeoutMillis: config.timeouts.connectMs, statement_timeout: config.timeouts.statementMs } : {};
  // The schema must exist before pooled connections put it on their search path.
  const bootstrap = new pg.Client({ connectionString: config.url, ...timeouts });
  bootstrap.on('error', () => {});
  try {
    await bootstrap.connect();
    await bootstrap.query(`create schema if not exists "${config.schema}"`);
  } catch (error) {
    throw databaseFault(error);
  } finally {
    await bootstrap.end().catch(() => {});
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    options: `-c search_path="${config.schema}"`,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    ...timeouts,
  });
  // The server closing an idle pooled connection (a restart, a failover, a proxy's idle
  // timeout) is reported here; with no listener Node would end the whole process. The pool
  // has already dropped the connection and makes a new one at the next query.
  pool.on('error', (error) => logger?.warn({ err: error }, 'database connection lost; reconnecting at the next query'));
  // A connection in use between two statements (inside a transaction) has no pool listener:
  // this one keeps its error from ending the process; its next statement fails instead.
  pool.on('connect', (client) => client.on('error', () => {}));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: faultTagging(pool) }) });
}

/**
 * The pool as Kysely sees it, with every connection fault turned into a
 * StoreUnavailableError (a 503 at the edge), and a connection that faulted closed rather
 * than handed to the next request.
 */
function faultTagging(pool: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw databaseFault(error);
      }
      let faulted: Error | undefined;
      const query = async (text: string, parameters: readonly unknown[]) => {
        try {
          return await client.query(text, [...parameters]);
        } catch (error) {
          const fault = databaseFault(error);
          if (fault instanceof StoreUnavailableError) faulted = fault;
          throw fault;
        }
      };
      // Kysely streams through cursors only when given one; it is not, so plain queries are all it sends.
      return { query: query as unknown as PostgresPoolClient['query'], release: () => client.release(faulted) };
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
