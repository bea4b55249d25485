import { tmpdir } from 'node:os';
import type { Cache } from '../../src/store/cache.js';
import { MemoryCache } from '../../src/store/memory-cache.js';
import { RedisCache } from '../../src/store/redis-cache.js';
import { openDatabase, type DatabaseHandle } from '../../src/store/db.js';
import { deleteKeys, dropSchema, uniqueName } from './env.js';
import { pgliteImage } from './pglite-template.js';
import { freePort } from './server.js';
import { startPrivateRedisCluster, startPrivateRedisSentinel, type PrivateRedisCluster, type PrivateRedisSentinel } from './private-stores.js';

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
  /** What the suite calls it: the kind, or the Redis topology it runs on. */
  name: string;
  kind: Cache['kind'];
  open(): Promise<CacheFixture>;
}

export const cacheImplementations: CacheImplementation[] = [
  {
    name: 'memory',
    kind: 'memory',
    async open() {
      const prefix = `${uniqueName('t')}:`;
      const cache = new MemoryCache(prefix);
      return { cache, prefix, cleanup: () => cache.close() };
    },
  },
  {
    name: 'redis',
    kind: 'redis',
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

/**
 * The Redis topologies besides one server: a three-master Redis Cluster and a Sentinel
 * set-up (master, replica, three sentinels), private to the test process, started at the
 * first `open` and stopped by `destroy` (call it from test.after.always). Keys need no
 * cleanup: the instances are thrown away.
 */
export function redisTopologies(): { implementations: CacheImplementation[]; destroy(): Promise<void> } {
  let cluster: Promise<PrivateRedisCluster> | undefined;
  let sentinel: Promise<PrivateRedisSentinel> | undefined;
  const opener = (url: () => Promise<string>) => async (): Promise<CacheFixture> => {
    const prefix = `${uniqueName('t')}:`;
    const cache = await RedisCache.connect(await url(), prefix);
    return { cache, prefix, cleanup: () => cache.close() };
  };
  return {
    implementations: [
      { name: 'redis-cluster', kind: 'redis', open: opener(async () => (await (cluster ??= startPrivateRedisCluster())).url) },
      { name: 'redis-sentinel', kind: 'redis', open: opener(async () => (await (sentinel ??= startPrivateRedisSentinel())).url) },
    ],
    async destroy() {
      await Promise.all([cluster, sentinel].map((setup) => setup?.then((started) => started.destroy(), () => undefined)));
    },
  };
}

export interface DatabaseFixture {
  handle: DatabaseHandle;
  cleanup(): Promise<void>;
}

export interface DatabaseImplementation {
  /** What the suite calls it: the kind, or how it is reached. */
  name: string;
  kind: DatabaseHandle['kind'];
  /** Opens an empty, unmigrated database: a fresh schema in PostgreSQL, a fresh directory for PGlite. */
  open(): Promise<DatabaseFixture>;
}

export const databaseImplementations: DatabaseImplementation[] = [
  {
    name: 'pglite',
    kind: 'pglite',
    async open() {
      // In memory: nothing of it is left on disk when it is closed.
      const handle = await openDatabase({ kind: 'pglite', dataDir: tmpdir(), schema: uniqueName('t'), memoryImage: pgliteImage() });
      return {
        handle,
        cleanup: () => handle.close(),
      };
    },
  },
  postgresOn('postgres', async () => postgresUrl),
];

/**
 * The same PostgreSQL reached through a DATABASE_URL of two hosts, the first of which
 * refuses connections: the pool that looks for the primary (store/primary-pool.ts) in the
 * database contract.
 */
export const multiHostPostgres: DatabaseImplementation = postgresOn('postgres-multi-host', async () => {
  const [, scheme, userinfo, hosts, rest] = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]*)(.*)$/.exec(postgresUrl)!;
  return `${scheme}${userinfo === undefined ? '' : `${userinfo}@`}127.0.0.1:${await freePort()},${hosts}${rest}`;
});

function postgresOn(name: string, url: () => Promise<string>): DatabaseImplementation {
  return {
    name,
    kind: 'postgres',
    async open() {
      const schema = uniqueName('t');
      const handle = await openDatabase({ kind: 'postgres', url: await url(), schema, poolSize: 4 });
      return {
        handle,
        async cleanup() {
          await handle.close();
          await dropSchema(postgresUrl, schema);
        },
      };
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
