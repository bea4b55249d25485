import type { CacheConfig } from '../config/load.js';
import type { Logger } from '../log.js';

/** What `consumeRecord` found: it marks a record consumed exactly once, however many callers race. */
export type ConsumeOutcome = 'consumed' | 'already-consumed' | 'missing';

export interface CachedRecord {
  value: string;
  /** Epoch seconds at which the record was consumed, if it was. */
  consumedAt?: number;
}

/**
 * Short-lived state: sessions, interactions, codes, counters. Implemented by Redis and,
 * for a laptop, by an in-process map; one contract test suite runs against both.
 *
 * Every operation touches a single key, so the same code runs on Redis Cluster.
 * Keys are given without the configured prefix; implementations add it.
 */
export interface Cache {
  readonly kind: CacheConfig['kind'];
  get(key: string): Promise<string | null>;
  /** Stores a value that expires after ttlSeconds. */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Stores a value only when the key is free; true when this call stored it. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Reads and deletes in one step: of many concurrent callers, one gets the value. */
  take(key: string): Promise<string | null>;
  /** Adds one to a counter; the first increment starts its ttlSeconds window. */
  increment(key: string, ttlSeconds: number): Promise<number>;
  /**
   * Takes one place under a limit before the work it guards: adds one only while the count
   * is below `limit` (the first place starts its ttlSeconds window). Returns the count with
   * this place, or 0 when the limit is reached and nothing was taken. Of many concurrent
   * callers exactly `limit` get a place, which a read-then-increment cannot promise.
   */
  reserve(key: string, limit: number, ttlSeconds: number): Promise<number>;
  /** Gives back a place taken by `reserve` for work that did not count after all. */
  release(key: string): Promise<void>;
  /** Seconds until the key expires, or null when it does not exist. */
  ttl(key: string): Promise<number | null>;

  /** A value with a consumed mark, for codes and tokens that may be used once. */
  putRecord(key: string, value: string, ttlSeconds: number): Promise<void>;
  getRecord(key: string): Promise<CachedRecord | null>;
  consumeRecord(key: string, at: number): Promise<ConsumeOutcome>;

  /** A set of members whose expiry only ever extends, for indexes such as tokens per grant. */
  addToSet(key: string, member: string, ttlSeconds: number): Promise<void>;
  members(key: string): Promise<string[]>;

  /**
   * Tells every instance on this cache (this one included) that something changed, so that
   * what they keep in memory is dropped at once. Delivery is best effort: an instance that
   * is disconnected misses messages, and is told so through `onGap` when it reconnects.
   * A message may arrive more than once (on a cluster): what it says must be idempotent.
   */
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, listener: BroadcastListener): Promise<void>;

  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface BroadcastListener {
  onMessage(message: string): void;
  /** Messages may have been missed (the subscription was down); forget everything. */
  onGap(): void;
}

/**
 * Places taken under several limits for one piece of work: `take` reserves one more (false
 * when that limit is full), `giveBack` returns every place taken so far, for work that was
 * refused or did not happen.
 */
export function reservations(cache: Cache): { take(key: string, limit: number, ttlSeconds: number): Promise<boolean>; giveBack(): Promise<void> } {
  const taken: string[] = [];
  return {
    async take(key, limit, ttlSeconds) {
      if (!await cache.reserve(key, limit, ttlSeconds)) return false;
      taken.push(key);
      return true;
    },
    async giveBack() {
      await Promise.all(taken.splice(0).map((key) => cache.release(key)));
    },
  };
}

export async function openCache(config: CacheConfig, logger?: Logger): Promise<Cache> {
  if (config.kind === 'redis') {
    const { RedisCache } = await import('./redis-cache.js');
    return RedisCache.connect(config.url, config.prefix, { timeouts: config.timeouts, logger });
  }
  const { MemoryCache } = await import('./memory-cache.js');
  return new MemoryCache(config.prefix);
}
