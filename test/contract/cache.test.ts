import test, { type ExecutionContext } from 'ava';
import { Redis } from 'ioredis';
import type { Cache } from '../../src/store/cache.js';
import { startPrivateRedis } from '../helpers/private-stores.js';
import { cacheImplementations, redisTopologies, redisUrl, sleep, type CacheFixture, type CacheImplementation } from '../helpers/stores.js';

/**
 * The Cache contract: one suite, run against the in-process cache and Redis alike.
 * Expiry tests use one-second TTLs and wait past them; nothing here times how fast a call is.
 */
function cacheContract(implementation: CacheImplementation) {
  const it = (title: string, body: (t: ExecutionContext, cache: Cache, fixture: CacheFixture) => Promise<void>) => {
    test(`${implementation.name}: ${title}`, async (t) => {
      const fixture = await implementation.open();
      t.teardown(() => fixture.cleanup());
      await body(t, fixture.cache, fixture);
    });
  };

  it('reports its kind and answers ping', async (t, cache) => {
    t.is(cache.kind, implementation.kind);
    await t.notThrowsAsync(cache.ping());
  });

  it('get returns what set stored, and null for an absent key', async (t, cache) => {
    t.is(await cache.get('absent'), null);
    await cache.set('greeting', 'hello 你好', 60);
    t.is(await cache.get('greeting'), 'hello 你好');
    await cache.set('greeting', 'replaced', 60);
    t.is(await cache.get('greeting'), 'replaced');
  });

  it('ttl reports the remaining seconds, and null for an absent key', async (t, cache) => {
    t.is(await cache.ttl('absent'), null);
    await cache.set('k', 'v', 100);
    const ttl = await cache.ttl('k');
    t.truthy(ttl);
    t.true(ttl! > 90 && ttl! <= 100, `ttl was ${ttl}`);
  });

  it('a value disappears after its ttl', async (t, cache) => {
    await cache.set('short', 'v', 1);
    await cache.set('long', 'v', 60);
    t.is(await cache.get('short'), 'v');
    await sleep(1_600);
    t.is(await cache.get('short'), null);
    t.is(await cache.ttl('short'), null);
    t.is(await cache.get('long'), 'v');
  });

  it('setIfAbsent stores only when the key is free', async (t, cache) => {
    t.true(await cache.setIfAbsent('lock', 'first', 60));
    t.false(await cache.setIfAbsent('lock', 'second', 60));
    t.is(await cache.get('lock'), 'first');
    await cache.delete('lock');
    t.true(await cache.setIfAbsent('lock', 'third', 60));
    t.is(await cache.get('lock'), 'third');
  });

  it('setIfAbsent succeeds again once the earlier value expired', async (t, cache) => {
    t.true(await cache.setIfAbsent('lock', 'first', 1));
    await sleep(1_600);
    t.true(await cache.setIfAbsent('lock', 'second', 60));
    t.is(await cache.get('lock'), 'second');
  });

  it('of concurrent setIfAbsent calls exactly one wins', async (t, cache) => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => cache.setIfAbsent('race', `v${i}`, 60)));
    t.is(results.filter(Boolean).length, 1);
    t.is(await cache.get('race'), `v${results.indexOf(true)}`);
  });

  it('delete removes a key and ignores an absent one', async (t, cache) => {
    await cache.set('k', 'v', 60);
    await cache.delete('k');
    t.is(await cache.get('k'), null);
    await t.notThrowsAsync(cache.delete('never-set'));
  });

  it('take returns the value once and removes it', async (t, cache) => {
    t.is(await cache.take('absent'), null);
    await cache.set('code', 'secret', 60);
    t.is(await cache.take('code'), 'secret');
    t.is(await cache.take('code'), null);
    t.is(await cache.get('code'), null);
  });

  it('of 20 concurrent takes exactly one gets the value', async (t, cache) => {
    await cache.set('code', 'secret', 60);
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.take('code')));
    t.deepEqual(results.filter((value) => value !== null), ['secret']);
    t.is(results.filter((value) => value === null).length, 19);
  });

  it('increment counts from one', async (t, cache) => {
    t.is(await cache.increment('hits', 60), 1);
    t.is(await cache.increment('hits', 60), 2);
    t.is(await cache.increment('hits', 60), 3);
    t.is(await cache.increment('other', 60), 1);
  });

  it('the first increment starts the window and later ones do not move it', async (t, cache) => {
    await cache.increment('hits', 100);
    await cache.increment('hits', 1_000);
    await cache.increment('hits', 5);
    const ttl = await cache.ttl('hits');
    t.true(ttl !== null && ttl > 90 && ttl <= 100, `ttl was ${ttl}`);
  });

  it('a counter starts again from one after its window', async (t, cache) => {
    t.is(await cache.increment('hits', 1), 1);
    t.is(await cache.increment('hits', 1), 2);
    await sleep(1_600);
    t.is(await cache.increment('hits', 1), 1);
  });

  it('reserve takes places up to the limit, and only then; release gives one back', async (t, cache) => {
    t.is(await cache.reserve('places', 2, 60), 1);
    t.is(await cache.reserve('places', 2, 60), 2);
    t.is(await cache.reserve('places', 2, 60), 0, 'full: nothing taken');
    t.is(await cache.get('places'), '2');
    await cache.release('places');
    t.is(await cache.reserve('places', 2, 60), 2);
    await cache.release('nothing-here');
    t.is(await cache.get('nothing-here'), null, 'releasing a missing key makes nothing');
  });

  it('fifty concurrent reservations against a limit of ten: exactly ten places', async (t, cache) => {
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.reserve('burst', 10, 60)));
    t.is(results.filter((n) => n > 0).length, 10);
    t.deepEqual(results.filter((n) => n > 0).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    t.is(await cache.get('burst'), '10');
  });

  it('concurrent increments lose no count', async (t, cache) => {
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.increment('hits', 60)));
    t.deepEqual([...results].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('putRecord and getRecord round-trip a value without a consumed mark', async (t, cache) => {
    t.is(await cache.getRecord('absent'), null);
    const value = JSON.stringify({ nested: { list: [1, 'two', null] }, text: '中文' });
    await cache.putRecord('rec', value, 60);
    t.deepEqual(await cache.getRecord('rec'), { value });
    const ttl = await cache.ttl('rec');
    t.true(ttl !== null && ttl > 50 && ttl <= 60, `ttl was ${ttl}`);
  });

  it('consumeRecord marks a record once and reports later attempts', async (t, cache) => {
    await cache.putRecord('rec', 'payload', 60);
    t.is(await cache.consumeRecord('rec', 1_700_000_000), 'consumed');
    t.deepEqual(await cache.getRecord('rec'), { value: 'payload', consumedAt: 1_700_000_000 });
    t.is(await cache.consumeRecord('rec', 1_700_000_999), 'already-consumed');
    t.deepEqual(await cache.getRecord('rec'), { value: 'payload', consumedAt: 1_700_000_000 });
  });

  it('consumeRecord reports missing for an absent or expired record', async (t, cache) => {
    t.is(await cache.consumeRecord('absent', 1), 'missing');
    t.is(await cache.getRecord('absent'), null, 'consuming an absent record must not create it');
    await cache.putRecord('short', 'payload', 1);
    await sleep(1_600);
    t.is(await cache.getRecord('short'), null);
    t.is(await cache.consumeRecord('short', 1), 'missing');
  });

  it('of 20 concurrent consumeRecord calls exactly one consumes', async (t, cache) => {
    await cache.putRecord('code', 'payload', 60);
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => cache.consumeRecord('code', 1_000 + i)));
    t.is(outcomes.filter((o) => o === 'consumed').length, 1);
    t.is(outcomes.filter((o) => o === 'already-consumed').length, 19);
    const winner = outcomes.indexOf('consumed');
    t.deepEqual(await cache.getRecord('code'), { value: 'payload', consumedAt: 1_000 + winner });
  });

  it('putRecord over a consumed record starts it afresh', async (t, cache) => {
    await cache.putRecord('rec', 'one', 60);
    await cache.consumeRecord('rec', 5);
    await cache.putRecord('rec', 'two', 60);
    t.deepEqual(await cache.getRecord('rec'), { value: 'two' });
    t.is(await cache.consumeRecord('rec', 6), 'consumed');
  });

  it('delete removes a record', async (t, cache) => {
    await cache.putRecord('rec', 'payload', 60);
    await cache.delete('rec');
    t.is(await cache.getRecord('rec'), null);
    t.is(await cache.consumeRecord('rec', 1), 'missing');
  });

  it('addToSet collects distinct members', async (t, cache) => {
    t.deepEqual(await cache.members('absent'), []);
    await cache.addToSet('set', 'a', 60);
    await cache.addToSet('set', 'b', 60);
    await cache.addToSet('set', 'a', 60);
    t.deepEqual((await cache.members('set')).sort(), ['a', 'b']);
  });

  it('addToSet only ever extends the set expiry', async (t, cache) => {
    await cache.addToSet('set', 'a', 100);
    await cache.addToSet('set', 'b', 5);
    let ttl = await cache.ttl('set');
    t.true(ttl !== null && ttl > 90 && ttl <= 100, `a shorter ttl shortened the set to ${ttl}`);
    await cache.addToSet('set', 'c', 1_000);
    ttl = await cache.ttl('set');
    t.true(ttl !== null && ttl > 990 && ttl <= 1_000, `a longer ttl did not extend the set: ${ttl}`);
    t.deepEqual((await cache.members('set')).sort(), ['a', 'b', 'c']);
  });

  it('a set disappears after its ttl unless extended', async (t, cache) => {
    await cache.addToSet('short', 'a', 1);
    await cache.addToSet('extended', 'a', 1);
    await cache.addToSet('extended', 'b', 60);
    await sleep(1_600);
    t.deepEqual(await cache.members('short'), []);
    t.deepEqual((await cache.members('extended')).sort(), ['a', 'b']);
  });

  it('concurrent addToSet calls lose no member', async (t, cache) => {
    const members = Array.from({ length: 20 }, (_, i) => `m${String(i).padStart(2, '0')}`);
    await Promise.all(members.map((member) => cache.addToSet('set', member, 60)));
    t.deepEqual((await cache.members('set')).sort(), members);
  });

  it('two caches with different prefixes do not see each other', async (t, cache) => {
    const other = await implementation.open();
    t.teardown(() => other.cleanup());
    await cache.set('shared', 'mine', 60);
    await cache.putRecord('record', 'mine', 60);
    await cache.addToSet('set', 'mine', 60);
    await cache.increment('counter', 60);

    t.is(await other.cache.get('shared'), null);
    t.is(await other.cache.getRecord('record'), null);
    t.deepEqual(await other.cache.members('set'), []);
    t.is(await other.cache.increment('counter', 60), 1);
    t.true(await other.cache.setIfAbsent('shared', 'theirs', 60));
    t.is(await other.cache.take('shared'), 'theirs');
    t.is(await other.cache.consumeRecord('record', 1), 'missing');

    t.is(await cache.get('shared'), 'mine');
    t.deepEqual(await cache.getRecord('record'), { value: 'mine' });
    t.deepEqual(await cache.members('set'), ['mine']);
    t.is(await cache.increment('counter', 60), 2);
  });

  it('a broadcast reaches the listeners of its channel, this instance included, and no other channel', async (t, cache) => {
    const heard: string[] = [];
    const elsewhere: string[] = [];
    await cache.subscribe('changes', { onMessage: (message) => heard.push(message), onGap: () => heard.push('gap') });
    await cache.subscribe('other', { onMessage: (message) => elsewhere.push(message), onGap: () => undefined });
    await cache.publish('changes', 'portal');
    await cache.publish('changes', 'app');
    await waitFor(() => heard.length === 2);
    t.deepEqual(heard, ['portal', 'app']);
    t.deepEqual(elsewhere, []);
  });

  it('a broadcast does not cross into a cache with another prefix', async (t, cache) => {
    const other = await implementation.open();
    t.teardown(() => other.cleanup());
    const heard: string[] = [];
    await other.cache.subscribe('changes', { onMessage: (message) => heard.push(message), onGap: () => undefined });
    await other.cache.publish('changes', 'theirs');
    await cache.publish('changes', 'mine');
    await waitFor(() => heard.length > 0);
    await sleep(100);
    t.deepEqual(heard, ['theirs']);
  });
}

async function waitFor(done: () => boolean, timeoutMs = 3_000) {
  const until = Date.now() + timeoutMs;
  while (!done() && Date.now() < until) await sleep(10);
}

// Redis Cluster and Sentinel of this file's own, never the machine's shared Redis.
const topologies = redisTopologies();
test.after.always(() => topologies.destroy());
for (const implementation of [...cacheImplementations, ...topologies.implementations]) cacheContract(implementation);

// Redis only: the prefix really is applied on the server, so cleanup and other tenants are safe.
test('redis: every key is written under the configured prefix', async (t) => {
  const redis = cacheImplementations.find((implementation) => implementation.name === 'redis')!;
  const fixture = await redis.open();
  const raw = new Redis(redisUrl, { lazyConnect: true });
  t.teardown(async () => {
    raw.disconnect();
    await fixture.cleanup();
  });
  await raw.connect();
  const { cache, prefix } = fixture;
  await cache.set('plain', 'v', 60);
  await cache.increment('counter', 60);
  await cache.putRecord('record', 'v', 60);
  await cache.consumeRecord('record', 1);
  await cache.addToSet('set', 'm', 60);

  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  t.deepEqual(keys.sort(), ['counter', 'plain', 'record', 'set'].map((key) => prefix + key));
  t.is(await raw.exists('plain', 'counter', 'record', 'set'), 0);
  // Every key carries an expiry, so nothing outlives its purpose.
  for (const key of keys) t.true((await raw.ttl(key)) > 0, `${key} has no expiry`);
});

test('redis: a broadcast reaches another connection on the same prefix, and a reconnect is reported as a gap', async (t) => {
  // A connection is killed from the server side: on a Redis of the test's own, not the machine's.
  const own = await startPrivateRedis();
  const { RedisCache } = await import('../../src/store/redis-cache.js');
  const prefix = 'gap-test:';
  const fixture = { cache: await RedisCache.connect(own.url, prefix), prefix };
  const second = await RedisCache.connect(own.url, prefix);
  const raw = new Redis(own.url);
  t.teardown(async () => {
    raw.disconnect();
    await Promise.all([second.close(), fixture.cache.close()]);
    await own.destroy();
  });
  const heard: string[] = [];
  await second.subscribe('changes', { onMessage: (message) => heard.push(message), onGap: () => heard.push('gap') });
  await fixture.cache.publish('changes', 'portal');
  await waitFor(() => heard.length === 1);
  t.deepEqual(heard, ['portal']);

  // Kill the subscriber's connection from the server side: it reconnects, resubscribes, and says messages may be lost.
  const clients = (await raw.client('LIST')) as string;
  const subscriberIds = clients.split('\n').filter((line) => line.includes(` name=civic-idp-broadcast:${fixture.prefix} `))
    .map((line) => /id=(\d+)/.exec(line)?.[1]).filter((id): id is string => Boolean(id));
  t.is(subscriberIds.length, 1, 'the subscriber connection is named after its prefix');
  for (const id of subscriberIds) await raw.client('KILL', 'ID', id);
  await waitFor(() => heard.includes('gap'));
  t.true(heard.includes('gap'));
  heard.length = 0;
  await sleep(300);
  await fixture.cache.publish('changes', 'after');
  await waitFor(() => heard.includes('after'));
  t.true(heard.includes('after'));
});
