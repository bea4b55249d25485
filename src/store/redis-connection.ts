import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { parseRedisUrl, type RedisAddress, type RedisTarget } from '../config/redis-url.js';
import type { CacheTimeouts } from '../config/load.js';

/** One server or a Sentinel-watched master (both a Redis), or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

const CLUSTER_SLOTS = 16_384;

/**
 * The options every data connection shares, whatever the topology: while Redis is away a
 * command fails at once (the request answers 503 and may be retried) instead of waiting in
 * a queue for a reconnection that may be long, and a command whose caller was told it
 * failed never runs later behind its back (an INCR counted twice, a code stored after the
 * answer said it was not).
 */
function failFast(timeouts: CacheTimeouts | undefined): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: timeouts?.connectMs ?? 5_000,
    ...(timeouts ? { commandTimeout: timeouts.commandMs } : {}),
  };
}

/** The credentials and TLS choice of REDIS_URL, as every connection to its servers takes them. */
export function credentials(target: { username?: string; password?: string; tls: boolean }): RedisOptions {
  return {
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
  };
}

/** A client for REDIS_URL (or its parsed form), not yet connected; every key it sends starts with `prefix`. */
export function createRedisClient(url: string | RedisTarget, prefix: string, timeouts?: CacheTimeouts): { client: RedisClient; target: RedisTarget } {
  const target = typeof url === 'string' ? parseRedisUrl(url) : url;
  // Commands issued in the same tick share one round trip.
  const shared = { keyPrefix: prefix, lazyConnect: true, enableAutoPipelining: true } as const;
  switch (target.mode) {
    case 'standalone':
      return { target, client: new Redis(target.url, { ...shared, ...failFast(timeouts) }) };
    case 'sentinel':
      return {
        target,
        client: new Redis({
          ...shared,
          ...failFast(timeouts),
          ...credentials(target),
          sentinels: target.sentinels,
          name: target.name,
          db: target.db,
          ...(target.sentinelUsername ? { sentinelUsername: target.sentinelUsername } : {}),
          ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
          ...(target.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
          ...(timeouts ? { sentinelCommandTimeout: timeouts.commandMs } : {}),
          // Sentinels announce a failover (+switch-master): the client moves to the new
          // master then, rather than when its old connection happens to fail.
          failoverDetector: true,
          // A master demoted by a failover keeps its connections and answers writes with
          // READONLY: reconnect, which asks the sentinels again. The command that met it
          // fails (a 503) rather than being sent again behind its caller's back.
          reconnectOnError: (error) => error.message.startsWith('READONLY'),
        }),
      };
    case 'cluster':
      return {
        target,
        client: new Cluster(target.nodes, {
          ...shared,
          // Not on a cluster: a batch that meets a master going away gets MOVED and
          // NOSCRIPT back for some of its commands, which ioredis then does not redirect
          // or retry; one command at a time, it does.
          enableAutoPipelining: false,
          enableOfflineQueue: false,
          // How long the slot map may take to arrive, and how often it is read again, so
          // that a master that moved or came back is used within seconds.
          slotsRefreshTimeout: timeouts?.connectMs ?? 1_000,
          slotsRefreshInterval: 2_000,
          // While a master is away its keys' commands are redirected and tried again; each
          // still ends within the command timeout, as a 503.
          retryDelayOnFailover: 100,
          retryDelayOnClusterDown: 100,
          clusterRetryStrategy: (times) => Math.min(100 * times, 2_000),
          redisOptions: { ...failFast(timeouts), ...credentials(target) },
        }),
      };
  }
}

/** The data nodes a broadcast subscriber may listen on: those the cluster knows now, else the configured ones. */
export function clusterAddresses(cluster: Cluster, seeds: RedisAddress[]): RedisAddress[] {
  const known = cluster.nodes('all').map((node) => ({ host: node.options.host ?? '', port: node.options.port ?? 6379 }));
  return known.length > 0 ? known : seeds;
}

/**
 * Whether the cache can serve every key now, as readiness must say. One server: it
 * answers. Sentinel: the connection is to a master (not a demoted one). Cluster: every
 * slot has a master, and every master that owns slots answers with cluster_state:ok; a
 * PING to whichever node would have said yes while a third of the keys failed.
 */
export async function checkServing(client: RedisClient, target: RedisTarget): Promise<void> {
  if (client instanceof Cluster) {
    const owners = new Set<string>();
    for (let slot = 0; slot < CLUSTER_SLOTS; slot += 1) {
      const owner = client.slots[slot]?.[0];
      if (!owner) throw new Error(`slot ${slot} has no master`);
      owners.add(owner);
    }
    const nodes = new Map(client.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node]));
    await Promise.all([...owners].map(async (owner) => {
      const node = nodes.get(owner);
      if (!node) throw new Error(`master ${owner} is not connected`);
      const info = await node.cluster('INFO') as string;
      if (!/^cluster_state:ok\b/m.test(info)) throw new Error(`master ${owner} says the cluster is not ok`);
    }));
    return;
  }
  if (target.mode === 'sentinel') {
    const [role] = await client.role() as [string, ...unknown[]];
    if (role !== 'master') throw new Error(`connected to a ${role}, not the master`);
    return;
  }
  await client.ping();
}

/**
 * ioredis gives a connection up for good (status 'end') when, with Sentinel, a failover is
 * announced while it is asking the sentinels where the master is: its failover watcher
 * closes the connector under the reconnection in progress. Nothing would ever connect it
 * again, so every later command would fail until a restart. Until `stop` (a close on
 * purpose), a connection that ended is connected again, with ioredis' own backoff.
 */
export function reconnectWhenEnded(client: Redis): { stop(): void } {
  let stopped = false;
  let attempts = 0;
  let timer: NodeJS.Timeout | undefined;
  client.on('ready', () => {
    attempts = 0;
  });
  client.on('end', () => {
    if (stopped || timer) return;
    attempts += 1;
    timer = setTimeout(() => {
      timer = undefined;
      // A failed attempt ends again, and is retried from here.
      if (!stopped && client.status === 'end') client.connect().catch(() => undefined);
    }, Math.min(attempts * 50, 2_000));
    timer.unref();
  });
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
