import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config/load.js';
import { copyPgliteTemplate, EMBEDDED_TEST_SCHEMA, pgliteImage } from './pglite-template.js';

/**
 * Each test gets stores of its own: a fresh PostgreSQL schema (or PGlite directory) and a
 * fresh Redis key prefix (or in-process cache), so tests run in parallel without sharing.
 * Real PostgreSQL and Redis are used whenever DATABASE_URL / REDIS_URL are set.
 */
export interface IsolatedEnv {
  env: Record<string, string>;
  config(extra?: Record<string, string>): Config;
  cleanup(): Promise<void>;
}

export const realDatabaseUrl = process.env.DATABASE_URL;
export const realRedisUrl = process.env.REDIS_URL;

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** A test's own Sentinel or cluster is destroyed with its keys; only a plain Redis URL names a server to clean. */
function plainRedis(url: string): boolean {
  return /^rediss?:\/\//.test(url);
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export function isolatedEnv(options: {
  database?: 'real' | 'embedded' | 'auto';
  cache?: 'real' | 'embedded' | 'auto';
  /** Instances of the test's own (test/helpers/private-stores.ts) instead of DATABASE_URL / REDIS_URL. */
  urls?: { database: string; redis: string };
  /**
   * The embedded database on disk (a copy of the template directory, which a second server
   * on the same stores finds as the first left it), or in memory from the template's image
   * (for stores that live and die with one server: nothing to copy or delete).
   */
  embeddedDatabase?: 'directory' | 'memory';
} = {}): IsolatedEnv {
  const useRealDb = options.database === 'real' || Boolean(options.urls) || ((options.database ?? 'auto') === 'auto' && Boolean(realDatabaseUrl));
  const useRealCache = options.cache === 'real' || Boolean(options.urls) || ((options.cache ?? 'auto') === 'auto' && Boolean(realRedisUrl));
  const schema = uniqueName('t');
  const prefix = `${uniqueName('t')}:`;
  const inMemory = !useRealDb && options.embeddedDatabase === 'memory';
  const dataDir = useRealDb || inMemory ? undefined : mkdtempSync(join(tmpdir(), 'civic-idp-test-'));
  if (dataDir) copyPgliteTemplate(join(dataDir, 'pglite'));
  const scratch = mkdtempSync(join(tmpdir(), 'civic-idp-scratch-'));
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    // An embedded database is a directory of its own, copied from a template migrated into EMBEDDED_TEST_SCHEMA.
    DATABASE_SCHEMA: useRealDb ? schema : EMBEDDED_TEST_SCHEMA,
    REDIS_PREFIX: prefix,
    KEYS_DIR: join(process.cwd(), 'keys'),
    SMS_OUTBOX: join(scratch, 'sms-outbox.jsonl'),
    ...(useRealDb ? { DATABASE_URL: options.urls?.database ?? realDatabaseUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres', DATABASE_POOL_SIZE: '4' } : { DATA_DIR: dataDir ?? join(scratch, 'unused-data') }),
    ...(useRealCache ? { REDIS_URL: options.urls?.redis ?? realRedisUrl ?? 'redis://127.0.0.1:6379' } : {}),
  };
  return {
    env,
    config(extra = {}) {
      const config = loadConfig({ ...env, ...extra });
      return inMemory && config.database.kind === 'pglite' ? { ...config, database: { ...config.database, memoryImage: pgliteImage() } } : config;
    },
    async cleanup() {
      if (useRealDb) await dropSchema(env.DATABASE_URL!, schema);
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      rmSync(scratch, { recursive: true, force: true });
      if (useRealCache && plainRedis(env.REDIS_URL!)) await deleteKeys(env.REDIS_URL!, prefix);
    },
  };
}

/**
 * For tests in which more than one process uses the same stores at once (a CLI child
 * beside the server, two instances behind one load balancer, a restart that must find the
 * cache as it was): the embedded stores live inside one process and cannot be shared, so
 * these tests always run on the machine's PostgreSQL and Redis (DATABASE_URL / REDIS_URL,
 * or the local defaults), as the store contract tests do.
 */
export function sharedStoresEnv(): IsolatedEnv {
  return isolatedEnv({ database: 'real', cache: 'real' });
}
