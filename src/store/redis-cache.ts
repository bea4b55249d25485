import { Cluster } from 'ioredis';
import type { CacheTimeouts } from '../config/load.js';
import type { RedisTarget } from '../config/redis-url.js';
import type { Logger } from '../log.js';
import type { BroadcastListener, Cache, ConsumeOutcome } from './cache.js';
import { cacheFault } from './faults.js';
import { checkServing, clusterAddresses, createRedisClient, credentials, reconnectWhenEnded, type RedisClient } from './redis-connection.js';
import { clusterEnvelope, followingSubscriber, RotatingSubscriber, type Subscriber } from './redis-subscriber.js';

// Each script reads and writes the one key it is given (KEYS[1], never a name it makes
// up), so it runs on the node that owns that key's slot on Redis Cluster.
const SCRIPTS = {
  // A script rather than MULTI: a transaction that meets a node restarting fails as
  // EXECABORT, hiding the reason (LOADING, CLUSTERDOWN) a script's one reply gives.
  putRecord: {
    numberOfKeys: 1,
    lua: `redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1`,
  },
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

type ScriptedRedis = RedisClient & {
  putRecord(key: string, value: string, ttlSeconds: number): Promise<number>;
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
  private subscriber: Subscriber | undefined;
  private readonly listeners = new Map<string, BroadcastListener[]>();

  private constructor(
    private readonly redis: ScriptedRedis,
    private readonly target: RedisTarget,
    private readonly prefix: string,
    private readonly revival: { stop(): void } | undefined,
  ) {}

  /** Connects to REDIS_URL: one server, a Redis Cluster or a Sentinel set-up (config/redis-url.ts). */
  static async connect(url: string | RedisTarget, prefix: string, options: { timeouts?: CacheTimeouts; logger?: Logger } = {}): Promise<RedisCache> {
    const { timeouts, logger } = options;
    const { client, target } = createRedisClient(url, prefix, timeouts);
    const redis = client as ScriptedRedis;
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
    await redis.connect().catch((error: unknown) => {
      redis.disconnect();
      throw cacheFault(error);
    });
    // A cluster client finds its nodes again by itself.
    return new RedisCache(redis, target, prefix, redis instanceof Cluster ? undefined : reconnectWhenEnded(redis));
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
    await this.run(() => this.redis.putRecord(key, value, ttlSeconds));
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
  //
  // On a cluster a PUBLISH reaches the subscribers of other nodes over the cluster bus,
  // after its reply: another instance could serve its next request before it hears. So it
  // is sent to every master, each of which delivers to its own subscribers before it
  // answers, in an envelope naming it once (see clusterEnvelope) so that the copies the
  // bus also brings are heard once.
  async publish(channel: string, message: string) {
    const name = this.prefix + channel;
    await this.run(async () => {
      if (!(this.redis instanceof Cluster)) {
        await this.redis.publish(name, message);
        return;
      }
      const envelope = clusterEnvelope.wrap(message);
      await Promise.all(this.redis.nodes('master').map((node) => node.publish(name, envelope)));
    });
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

  private subscriberConnection(): Subscriber {
    if (this.subscriber) return this.subscriber;
    // Named, so that an operator's CLIENT LIST shows whose it is.
    const connectionName = `civic-idp-broadcast:${this.prefix.replace(/[^\w:.-]/g, '_')}`;
    const events = {
      message: (channel: string, message: string) => {
        for (const listener of this.listeners.get(channel) ?? []) listener.onMessage(message);
      },
      // What was published while the subscription was down is lost.
      gap: () => {
        for (const listener of [...this.listeners.values()].flat()) listener.onGap();
      },
    };
    const { redis, target } = this;
    this.subscriber = redis instanceof Cluster && target.mode === 'cluster'
      ? new RotatingSubscriber(() => clusterAddresses(redis, target.nodes), {
        ...credentials(target),
        connectTimeout: redis.options.redisOptions?.connectTimeout ?? 5_000,
        connectionName,
      }, events)
      : followingSubscriber(redis as Exclude<RedisClient, Cluster>, connectionName, events);
    return this.subscriber;
  }

  async ping() {
    await this.run(() => checkServing(this.redis, this.target));
  }

  async close() {
    this.revival?.stop();
    await this.subscriber?.close();
    await this.redis.quit().catch(() => undefined);
    // quit leaves a Sentinel client's failover watchers (connections to each sentinel)
    // running; disconnect ends them too, and is harmless otherwise.
    this.redis.disconnect();
  }
}
