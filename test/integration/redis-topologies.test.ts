import test from 'ava';
import { StoreUnavailableError } from '../../src/store/faults.js';
import { RedisCache } from '../../src/store/redis-cache.js';
import { isolatedEnv, realDatabaseUrl, uniqueName } from '../helpers/env.js';
import { authenticates, registerClient } from '../helpers/policy.js';
import {
  eventually, redisCommand, startPrivateRedisCluster, startPrivateRedisSentinel, startTogether,
  type PrivateRedisCluster, type PrivateRedisSentinel,
} from '../helpers/private-stores.js';
import { startServer } from '../helpers/server.js';
import { startSlowProxy } from '../helpers/slow-proxy.js';

/**
 * Redis Cluster and Sentinel under faults, on instances of this file's own (never the
 * machine's Redis): a cluster master stopped and started under a connected cache, the
 * subscriber's node lost, a Sentinel master killed. The cache contract itself runs on
 * both topologies in test/contract/cache.test.ts.
 */

let cluster: PrivateRedisCluster;
let sentinel: PrivateRedisSentinel;
test.before(async () => {
  [cluster, sentinel] = await startTogether<[PrivateRedisCluster, PrivateRedisSentinel]>(startPrivateRedisCluster(), startPrivateRedisSentinel());
});
test.after.always(async () => {
  await Promise.all([cluster?.destroy(), sentinel?.destroy()]);
});

// First, while both topologies are as they started: the later tests stop and fail over their nodes.
test.serial('two servers on a Sentinel, and two on a cluster, agree on a client changed through one from the other\'s very next request', async (t) => {
  for (const [topology, redis] of [['sentinel', sentinel.url], ['cluster', cluster.url]] as const) {
    const stores = isolatedEnv({ urls: { database: realDatabaseUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres', redis } });
    const first = await startServer({}, { stores });
    const second = await startServer({}, { stores });
    try {
      const [oldSecret, newSecret] = ['first-secret-of-the-topology-client-0123456789', 'second-secret-of-the-topology-client-0123456789'];
      await registerClient(first, 'topology-web', {}, { client_secret: oldSecret, token_endpoint_auth_method: 'client_secret_basic' });
      t.true(await authenticates(second, 'topology-web', oldSecret), `${topology}: the other instance holds the client`);
      t.true(await first.deps.clients.replaceSecretDigest('topology-web', first.deps.clients.secretDigest(newSecret)));
      t.false(await authenticates(second, 'topology-web', oldSecret), `${topology}: the old secret is refused by the other instance`);
      t.true(await authenticates(second, 'topology-web', newSecret), topology);
    } finally {
      await second.close();
      await first.close();
      await stores.cleanup();
    }
  }
});

type Heard = string[];
function listen(heard: Heard) {
  return { onMessage: (message: string) => heard.push(message), onGap: () => heard.push('gap') };
}

/** Which master holds each of the keys written under `prefix` (by port). */
async function ownersOf(prefix: string): Promise<Map<string, number>> {
  const owners = new Map<string, number>();
  for (const port of cluster.ports) {
    const keys = (await redisCommand(port, ['--scan', '--pattern', `${prefix}*`])).split('\n').filter(Boolean);
    for (const key of keys) owners.set(key.slice(prefix.length), port);
  }
  return owners;
}

/**
 * Every kind of operation on every key at once, as a busy server sends them: whatever
 * fails must fail as a store fault (a 503), never as a raw reply such as MOVED or
 * EXECABORT (a 500). Returns the failures that were not store faults.
 */
async function burst(cache: RedisCache, names: string[]): Promise<string[]> {
  const operations = names.flatMap((name) => [
    cache.putRecord(`${name}:record`, 'v', 600),
    cache.consumeRecord(`${name}:record`, 1),
    cache.increment(`${name}:count`, 600),
    cache.reserve(`${name}:places`, 5, 600),
    cache.addToSet(`${name}:set`, 'm', 600),
    cache.get(name),
    cache.take(`${name}:taken`),
  ]);
  const outcomes = await Promise.allSettled(operations);
  return outcomes.flatMap((outcome) => (outcome.status === 'rejected' && !(outcome.reason instanceof StoreUnavailableError) ? [String(outcome.reason)] : []));
}

/** Where the named subscriber connection of `prefix` is, on the cluster. */
async function subscriberPort(prefix: string): Promise<number | undefined> {
  for (const port of cluster.ports) {
    const clients = await redisCommand(port, ['CLIENT', 'LIST']).catch(() => '');
    if (clients.includes(` name=civic-idp-broadcast:${prefix} `)) return port;
  }
  return undefined;
}

test.serial('cluster: keys spread over every master under the prefix, each command on the node of its slot', async (t) => {
  const prefix = `${uniqueName('t')}:`;
  const cache = await RedisCache.connect(cluster.url, prefix);
  t.teardown(() => cache.close());
  const names = Array.from({ length: 30 }, (_, i) => `key-${i}`);
  await Promise.all(names.map((name) => cache.set(name, name, 60)));
  await Promise.all(names.map((name) => cache.increment(`${name}:count`, 60)));
  await Promise.all(names.map((name) => cache.putRecord(`${name}:record`, name, 60)));
  await Promise.all(names.map((name) => cache.consumeRecord(`${name}:record`, 1)));
  await Promise.all(names.map((name) => cache.addToSet(`${name}:set`, name, 60)));
  const owners = await ownersOf(prefix);
  t.is(owners.size, names.length * 4, 'every key is found under the prefix on some master');
  t.deepEqual(new Set(owners.values()), new Set(cluster.ports), 'the prefix is no hash tag: keys land on every master');
  t.deepEqual(await Promise.all(names.map((name) => cache.get(name))), names);
});

test.serial('cluster: a master stopped is a fault of its own keys only, readiness says so, and the same cache serves again once it is back', async (t) => {
  const prefix = `${uniqueName('t')}:`;
  const cache = await RedisCache.connect(cluster.url, prefix);
  t.teardown(() => cache.close());
  const names = Array.from({ length: 30 }, (_, i) => `key-${i}`);
  await Promise.all(names.map((name) => cache.set(name, 'before', 600)));
  const owners = await ownersOf(prefix);
  const [stoppedPort] = cluster.ports;
  const lost = names.filter((name) => owners.get(name) === stoppedPort);
  const kept = names.filter((name) => owners.get(name) !== stoppedPort);
  t.true(lost.length > 0 && kept.length > 0);

  await cluster.nodes[0]!.stop();
  try {
    const down = await eventually(() => cache.ping().then(() => undefined, (error: unknown) => error));
    t.true(down instanceof StoreUnavailableError, 'readiness says the cache is down while a third of it is');
    for (const name of kept) t.is(await cache.get(name), 'before', `${name} lives on a master that is up`);
    for (const name of lost.slice(0, 3)) {
      await t.throwsAsync(cache.set(name, 'during', 600), { instanceOf: StoreUnavailableError }, `${name} lives on the stopped master`);
    }
    t.deepEqual(await burst(cache, names), [], 'every failure while the master is away is a store fault');
  } finally {
    await cluster.nodes[0]!.start();
  }
  t.deepEqual(await burst(cache, names), [], 'every failure while the master comes back is a store fault');
  // Not persistent: the master comes back empty, with its slots.
  await eventually(async () => (await cache.ping().then(() => true, () => undefined)));
  await eventually(async () => (await cache.set(lost[0]!, 'after', 600).then(() => true, () => undefined)));
  for (const name of lost) {
    await cache.set(name, 'after', 600);
    t.is(await cache.get(name), 'after');
  }
  for (const name of kept) t.is(await cache.get(name), 'before');
});

test.serial('cluster: broadcasts reach another instance; a lost subscriber connection or node moves it to another node and is reported as a gap', async (t) => {
  const prefix = `${uniqueName('t')}:`;
  const publisher = await RedisCache.connect(cluster.url, prefix);
  const listener = await RedisCache.connect(cluster.url, prefix);
  t.teardown(async () => {
    await publisher.close();
    await listener.close();
  });
  const heard: Heard = [];
  await listener.subscribe('changes', listen(heard));
  await publisher.publish('changes', 'portal');
  await eventually(async () => (heard.includes('portal') ? true : undefined), 5_000);
  t.deepEqual(heard, ['portal']);

  // The server closes the subscriber's connection.
  const first = await eventually(() => subscriberPort(prefix));
  const clients = await redisCommand(first, ['CLIENT', 'LIST']);
  const id = new RegExp(`id=(\\d+) [^\\n]* name=civic-idp-broadcast:${prefix} `).exec(clients)?.[1];
  t.truthy(id);
  await redisCommand(first, ['CLIENT', 'KILL', 'ID', id!]);
  await eventually(async () => (heard.includes('gap') ? true : undefined), 10_000);
  heard.length = 0;
  await eventually(async () => {
    await publisher.publish('changes', 'after-kill');
    return heard.includes('after-kill') ? true : undefined;
  }, 10_000);

  // The node it listens on stops: it listens on another, and says it may have missed messages.
  heard.length = 0;
  const second = await eventually(() => subscriberPort(prefix));
  const node = cluster.nodes[cluster.ports.indexOf(second)]!;
  await node.stop();
  try {
    await eventually(async () => (heard.includes('gap') ? true : undefined), 10_000);
    const third = await eventually(() => subscriberPort(prefix));
    t.not(third, second);
    await eventually(async () => {
      await publisher.publish('changes', 'node-down').catch(() => undefined);
      return heard.includes('node-down') ? true : undefined;
    }, 10_000);
  } finally {
    await node.start();
  }
  await eventually(async () => (await listener.ping().then(() => true, () => undefined)));
});

test.serial('sentinel: a planned failover demotes the master; the cache moves to the new one rather than meeting READONLY for long', async (t) => {
  const prefix = `${uniqueName('t')}:`;
  const cache = await RedisCache.connect(sentinel.url, prefix);
  t.teardown(() => cache.close());
  await cache.set('k', 'before', 600);
  const before = await sentinel.masterPort();
  const after = await sentinel.failover();
  t.not(after, before);
  await eventually(async () => (await cache.set('k', 'after', 600).then(() => true, () => undefined)));
  await cache.ping();
  t.is(await cache.get('k'), 'after');
  t.is((await redisCommand(after, ['GET', `${prefix}k`])).trim(), 'after', 'the write went to the new master');
  await eventually(async () => (/role:slave/.test(await redisCommand(before, ['INFO', 'replication'])) ? true : undefined));
});

test.serial('sentinel: the master killed, the sentinels promote the replica, and the same cache writes to it and hears broadcasts again', async (t) => {
  const prefix = `${uniqueName('t')}:`;
  const cache = await RedisCache.connect(sentinel.url, prefix);
  t.teardown(() => cache.close());
  const heard: Heard = [];
  await cache.subscribe('changes', listen(heard));
  await cache.set('before', 'v', 600);
  await cache.ping();

  const oldMaster = await sentinel.masterPort();
  const server = sentinel.servers.find((candidate) => candidate.url.endsWith(`:${oldMaster}`))!;
  await server.stop();
  await t.throwsAsync(cache.set('during', 'v', 600), { instanceOf: StoreUnavailableError }, 'a write while no master is known is a fault');
  const newMaster = await eventually(async () => {
    const port = await sentinel.masterPort();
    return port !== oldMaster ? port : undefined;
  });
  t.not(newMaster, oldMaster);
  await eventually(async () => (await cache.set('after', 'v', 600).then(() => true, () => undefined)));
  await cache.ping();
  t.is(await cache.get('after'), 'v');
  await eventually(async () => (heard.includes('gap') ? true : undefined), 10_000);
  await eventually(async () => {
    await cache.publish('changes', 'after-failover');
    return heard.includes('after-failover') ? true : undefined;
  }, 10_000);
  t.pass();
});

test.serial('sentinel: a failover announced while the connections are asking slow sentinels where the master is leaves neither of them closed for good', async (t) => {
  // The master killed by the test before comes back (start does nothing to a running one),
  // as the replica of the one promoted then.
  for (const server of sentinel.servers) await server.start();
  const master = await sentinel.masterPort();
  const replica = sentinel.servers.map((server) => Number(new URL(server.url).port)).find((port) => port !== master)!;
  await eventually(async () => (/master_link_status:up/.test(await redisCommand(replica, ['INFO', 'replication'])) ? true : undefined));

  // Each question to a sentinel takes 700 ms, so the failover is announced while one is asked.
  const proxies = await Promise.all(sentinel.sentinelPorts.map((port) => startSlowProxy(port, 700)));
  t.teardown(() => Promise.all(proxies.map((proxy) => proxy.close())).then(() => undefined));
  const url = `redis+sentinel://${proxies.map((proxy) => `127.0.0.1:${proxy.port}`).join(',')}/${sentinel.masterName}`;
  const prefix = `${uniqueName('t')}:`;
  const cache = await RedisCache.connect(url, prefix);
  t.teardown(() => cache.close());
  const heard: Heard = [];
  await cache.subscribe('changes', listen(heard));
  await cache.ping();

  const server = sentinel.servers.find((candidate) => candidate.url.endsWith(`:${master}`))!;
  await server.stop();
  t.teardown(() => server.start());
  await eventually(async () => ((await sentinel.masterPort()) !== master ? true : undefined));
  await eventually(async () => (await cache.set('after', 'v', 600).then(() => true, () => undefined)), 20_000);
  await eventually(async () => {
    await cache.publish('changes', 'after-failover');
    return heard.includes('after-failover') ? true : undefined;
  }, 20_000);
  t.true(heard.includes('gap'));
});
