import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { DatabaseConfig } from '../../src/config/load.js';

/** Why the bench will not run: it only ever works in storage it created itself. */
export class RefusedError extends Error {}

const SCHEMA_NAME = /^bench_[a-z0-9_]{1,56}$/;

export interface StoreChoice {
  databaseUrl?: string;
  redisUrl?: string;
  /** A schema name to use instead of a random one; it must not exist yet. */
  schema?: string;
}

/**
 * The bench's own storage: a PostgreSQL schema it creates (and refuses to use if it
 * already exists), or a fresh PGlite directory; a Redis key prefix under which nothing
 * exists yet, or the server's in-process cache. Everything is removed by `cleanup`.
 */
export class BenchStores {
  readonly schema: string;
  readonly prefix: string;
  readonly scratch: string;
  readonly dataDir: string | undefined;
  private schemaCreated = false;
  private prefixClaimed = false;

  constructor(readonly choice: StoreChoice) {
    const tag = randomBytes(6).toString('hex');
    this.schema = choice.schema ?? `bench_${tag}`;
    if (!SCHEMA_NAME.test(this.schema)) throw new RefusedError(`schema "${this.schema}": the bench only uses schemas named bench_<letters, digits, _>`);
    this.prefix = `bench_${tag}:`;
    this.scratch = mkdtempSync(join(tmpdir(), 'civic-idp-bench-'));
    this.dataDir = choice.databaseUrl ? undefined : join(this.scratch, 'data');
  }

  get database(): 'postgres' | 'pglite' {
    return this.choice.databaseUrl ? 'postgres' : 'pglite';
  }

  get cache(): 'redis' | 'memory' {
    return this.choice.redisUrl ? 'redis' : 'memory';
  }

  get outbox(): string {
    return join(this.scratch, 'sms-outbox.jsonl');
  }

  databaseConfig(): DatabaseConfig {
    return this.choice.databaseUrl
      ? { kind: 'postgres', url: this.choice.databaseUrl, schema: this.schema, poolSize: 4 }
      : { kind: 'pglite', dataDir: this.dataDir!, schema: this.schema };
  }

  /** Creates the schema (failing if it exists) and checks the key prefix is unused. */
  async claim(): Promise<void> {
    if (this.choice.databaseUrl) {
      const client = new pg.Client({ connectionString: this.choice.databaseUrl });
      await client.connect();
      try {
        // Not "if not exists": an existing schema holds data that is not ours.
        await client.query(`create schema "${this.schema}"`);
        this.schemaCreated = true;
      } catch (error) {
        if ((error as { code?: string }).code === '42P06') {
          throw new RefusedError(`schema "${this.schema}" already exists in ${redact(this.choice.databaseUrl)}: the bench only runs in a schema it creates itself, and drops it afterwards`);
        }
        throw error;
      } finally {
        await client.end();
      }
    }
    if (this.choice.redisUrl) {
      const redis = await connectRedis(this.choice.redisUrl);
      try {
        let cursor = '0';
        let found = false;
        do {
          const [next, batch] = await redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 5000);
          cursor = next;
          found = batch.length > 0;
        } while (cursor !== '0' && !found);
        if (found) throw new RefusedError(`Redis already holds keys under "${this.prefix}": not ours, refusing`);
        this.prefixClaimed = true;
      } finally {
        redis.disconnect();
      }
    }
  }

  /** Drops what `claim` created and removes the scratch directory. Safe to call twice. */
  async cleanup(): Promise<string[]> {
    const done: string[] = [];
    if (this.schemaCreated && this.choice.databaseUrl) {
      const client = new pg.Client({ connectionString: this.choice.databaseUrl });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${this.schema}" cascade`);
        this.schemaCreated = false;
        done.push(`dropped schema ${this.schema}`);
      } finally {
        await client.end();
      }
    }
    if (this.prefixClaimed && this.choice.redisUrl) {
      const removed = await deleteKeys(this.choice.redisUrl, this.prefix);
      this.prefixClaimed = false;
      done.push(`deleted ${removed} Redis keys under ${this.prefix}`);
    }
    rmSync(this.scratch, { recursive: true, force: true });
    return done;
  }
}

export async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  redis.on('error', () => {});
  await redis.connect();
  return redis;
}

async function deleteKeys(url: string, prefix: string): Promise<number> {
  const redis = await connectRedis(url);
  let removed = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 2000);
      cursor = next;
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return removed;
}

export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+)(:[^@/]*)?@/, '//$1@');
}

/** Secrets for one run, handed to both the server and the seeder so both read the same data. */
export function generateSecrets(): { DATA_ENCRYPTION_KEYS: string; BLIND_INDEX_KEY: string; COOKIE_KEYS: string } {
  return {
    DATA_ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64url')}`,
    BLIND_INDEX_KEY: randomBytes(32).toString('base64url'),
    COOKIE_KEYS: randomBytes(32).toString('base64url'),
  };
}
