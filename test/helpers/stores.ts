import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cache } from '../../src/store/cache.js';
import { MemoryCache } from '../../src/store/memory-cache.js';
import { RedisCache } from '../../src/store/redis-cache.js';
import { openDatabase, type DatabaseHandle } from '../../src/store/db.js';
import { deleteKeys, dropSchema, uniqueName } from './env.js';
import { copyPgliteTemplate } from './pglite-template.js';

/**
 * Every implementation of a store interface, each opened on isolated storage of its own,
 * for the shared contract suites in test/contract (in the manner of hono's common.case tests).
 * The real services are always exercised: they run on this machine and in CI.
 */
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface CacheFixture {
  cache: Cache;
  prefix: string;
  cleanup(): Promise<void>;
}

export interface CacheImplementation {
  name: Cache['kind'];
  open(): Promise<CacheFixture>;
}

export const cacheImplementations: CacheImplementation[] = [
  {
    name: 'memory',
    async open() {
      const prefix = `${uniqueName('t')}:`;
      const cache = new MemoryCache(prefix);
      return { cache, prefix, cleanup: () => cache.close() };
    },
  },
  {
    name: 'redis',
    async open() {
      const prefix = `${uniqueName('t')}:`;
      const cache = await RedisCache.connect(redisUrl, prefix);
      return {
        cache,
        prefix,
        async cleanup() {
          await cache.close();
          await deleteKeys(redisUrl, prefix);
        },
      };
    },
  },
];

export interface DatabaseFixture {
  handle: DatabaseHandle;
  cleanup(): Promise<void>;
}

export interface DatabaseImplementation {
  name: DatabaseHandle['kind'];
  /** Opens an empty, unmigrated database: a fresh schema in PostgreSQL, a fresh directory for PGlite. */
  open(): Promise<DatabaseFixture>;
}

export const databaseImplementations: DatabaseImplementation[] = [
  {
    name: 'pglite',
    async open() {
      const dataDir = mkdtempSync(join(tmpdir(), 'civic-idp-test-'));
      copyPgliteTemplate(join(dataDir, 'pglite'));
      const schema = uniqueName('t');
      const handle = await openDatabase({ kind: 'pglite', dataDir, schema });
      return {
        handle,
        async cleanup() {
          await handle.close();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = uniqueName('t');
      const handle = await openDatabase({ kind: 'postgres', url: postgresUrl, schema, poolSize: 4 });
      return {
        handle,
        async cleanup() {
          await handle.close();
          await dropSchema(postgresUrl, schema);
        },
      };
    },
  },
];

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
