import { Redis } from 'ioredis';
import type { CacheTimeouts } from '../config/load.js';
import type { Logger } from '../log.js';
import type { BroadcastListener, Cache, ConsumeOutcome } from './cache.js';
import { cacheFault } from './faults.js';

// Each script reads and writes one key only, so it is valid on Redis Cluster.
const SCRIPTS = {
  consumeRecord: {
    numberOfKeys: 1,
    lua: `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'c', ARGV[1]) == 1 then return 1 end
return 2`,
  },
  incrementWindow: {
    numberOfKeys: 1,
    lua: `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n`,
  },
  reserve: {
    numberOfKeys: 1,
    lua: `local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then return 0 end
n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return n`,
  },
  release: {
    numberOfKeys: 1,
    lua: `local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then return redis.call('DECR', KEYS[1]) end
return 0`,
  },
  addToExtendingSet: {
    numberOfKeys: 1,
    lua: `redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1`,
  },
} as const;

type ScriptedRedis = Redis & {
  consumeRecord(key: string, at: number): Promise<number>;
  incrementWindow(key: string, ttlSeconds: number): Promise<number>;
  reserve(key: string, limit: number, ttlSeconds: number): Promise<number>;
  release(key: string): Promise<number>;
  addToExtendingSet(key: string, member: string, ttlSeconds: number): Promise<number>;
};

const CONSUME_OUTCOMES: Record<number, ConsumeOutcome> = { 0: 'missing', 1: 'consumed', 2: 'already-consumed' };

export class RedisCache implements Cache {
  readonly kind = 'redis' as const;

  /** A connection in subscriber mode can do nothing else; made at the first subscribe. */
  private subscriber: Redis | undefined;
  private readonly listeners = new Map<string, BroadcastListener[]>();

  private constructor(private readonly redis: ScriptedRedis, private readonly prefix: string) {}

  static async connect(url: string, prefix: string, options: { timeouts?: CacheTimeouts; logger?: Logger } = {}): Promise<RedisCache> {
    const { timeouts, logger } = options;
    const redis = new Redis(url, {
      keyPrefix: prefix,
      lazyConnect: true,
      // Commands issued in the same tick share one round trip.
      enableAutoPipelining: true,
      // While Redis is away a command fails at once (the request answers 503 and may be
      // retried) instead of waiting in a queue for a reconnection that may be long.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // A command whose caller was told it failed must not run later behind its back
      // (an INCR counted twice, a code stored after the answer said it was not).
      autoResendUnfulfilledCommands: false,
      connectTimeout: timeouts?.connectMs ?? 5_000,
      ...(timeouts ? { commandTimeout: timeouts.commandMs } : {}),
    }) as ScriptedRedis;
    for (const [name, script] of Object.entries(SCRIPTS)) {
      redis.defineCommand(name, { numberOfKeys: script.numberOfKeys, lua: script.lua });
    }
    // ioredis reconnects by itself; an outage is logged once when it starts and once when it ends.
    let lost = false;
    redis.on('error', (error: Error) => {
      if (lost) return;
      lost = true;
      logger?.warn({ err: error }, 'cache connection lost; reconnecting');
    });
    redis.on('ready', () => {
      if (lost) logger?.info('cache connection restored');
      lost = false;
    });
    await redis.connect().catch((error: unknown) => { throw cacheFault(error); });
    return new RedisCache(redis, prefix);
  }

  /** Runs one operation, its connection faults turned into StoreUnavailableError. */
  private async run<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw cacheFault(error);
    }
  }

  async get(key: string) {
    return this.run(() => this.redis.get(key));
  }

  async set(key: string, value: string, ttlSeconds: number) {
    await this.run(() => this.redis.set(key, value, 'EX', ttlSeconds));
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number) {
    return (await this.run(() => this.redis.set(key, value, 'EX', ttlSeconds, 'NX'))) === 'OK';
  }

  async delete(key: string) {
    await this.run(() => this.redis.del(key));
  }

  async take(key: string) {
    return this.run(() => this.redis.getdel(key));
  }

  async increment(key: string, ttlSeconds: number) {
    return this.run(() => this.redis.incrementWindow(key, ttlSeconds));
  }

  async reserve(key: string, limit: number, ttlSeconds: number) {
    return this.run(() => this.redis.reserve(key, limit, ttlSeconds));
  }

  async release(key: string) {
    await this.run(() => this.redis.release(key));
  }

  async ttl(key: string) {
    const seconds = await this.run(() => this.redis.ttl(key));
    return seconds < 0 ? null : seconds;
  }

  async putRecord(key: string, value: string, ttlSeconds: number) {
    await this.run(() => this.redis.multi().del(key).hset(key, 'v', value).expire(key, ttlSeconds).exec());
  }

  async getRecord(key: string) {
    const [value, consumed] = await this.run(() => this.redis.hmget(key, 'v', 'c'));
    if (value === null || value === undefined) return null;
    return consumed ? { value, consumedAt: Number(consumed) } : { value };
  }

  async consumeRecord(key: string, at: number) {
    return CONSUME_OUTCOMES[await this.run(() => this.redis.consumeRecord(key, at))] ?? 'missing';
  }

  async addToSet(key: string, member: string, ttlSeconds: number) {
    await this.run(() => this.redis.addToExtendingSet(key, member, ttlSeconds));
  }

  async members(key: string) {
    return this.run(() => this.redis.smembers(key));
  }

  // ioredis' keyPrefix does not apply to channels: the prefix is added here, so that
  // deployments sharing one Redis do not hear each other.
  async publish(channel: string, message: string) {
    await this.run(() => this.redis.publish(this.prefix + channel, message));
  }

  async subscribe(channel: string, listener: BroadcastListener) {
    const name = this.prefix + channel;
    const known = this.listeners.get(name);
    if (known) {
      known.push(listener);
      return;
    }
    this.listeners.set(name, [listener]);
    await this.run(() => this.subscriberConnection().subscribe(name));
  }

  private subscriberConnection(): Redis {
    if (this.subscriber) return this.subscriber;
    const subscriber = this.redis.duplicate({
      keyPrefix: '',
      enableAutoPipelining: false,
      // The subscription waits out an outage and is renewed by ioredis when Redis returns.
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      autoResendUnfulfilledCommands: true,
      // Named, so that an operator's CLIENT LIST shows whose it is.
      connectionName: `civic-idp-broadcast:${this.prefix.replace(/[^\w:.-]/g, '_')}`,
    });
    subscriber.on('error', () => {});
    subscriber.on('message', (channel: string, message: string) => {
      for (const listener of this.listeners.get(channel) ?? []) listener.onMessage(message);
    });
    // ioredis resubscribes by itself after a reconnect; what was published meanwhile is lost.
    let connectedBefore = false;
    subscriber.on('ready', () => {
      if (connectedBefore) for (const listener of [...this.listeners.values()].flat()) listener.onGap();
      connectedBefore = true;
    });
    this.subscriber = subscriber;
    return subscriber;
  }

  async ping() {
    await this.run(() => this.redis.ping());
  }

  async close() {
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
