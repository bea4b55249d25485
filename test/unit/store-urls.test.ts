import test from 'ava';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { parsePostgresUrl } from '../../src/config/postgres-url.js';
import { parseRedisUrl } from '../../src/config/redis-url.js';

/** REDIS_URL and DATABASE_URL in every form the README documents, and the forms refused. */

test('REDIS_URL: one server is left to ioredis as written', (t) => {
  t.deepEqual(parseRedisUrl('redis://127.0.0.1:6379'), { mode: 'standalone', url: 'redis://127.0.0.1:6379' });
  t.deepEqual(parseRedisUrl('rediss://:secret@cache.internal:6380/2'), { mode: 'standalone', url: 'rediss://:secret@cache.internal:6380/2' });
});

test('REDIS_URL: redis+cluster:// lists the nodes to start from, with the data nodes\' credentials', (t) => {
  t.deepEqual(parseRedisUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7001,cache-3.internal'), {
    mode: 'cluster',
    nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }, { host: 'cache-3.internal', port: 6379 }],
    tls: false,
  });
  t.deepEqual(parseRedisUrl('rediss+cluster://civic:p%40ss@[::1]:7000/'), {
    mode: 'cluster', nodes: [{ host: '::1', port: 7000 }], tls: true, username: 'civic', password: 'p@ss',
  });
});

test('REDIS_URL: redis+sentinel:// lists the sentinels and names the master', (t) => {
  t.deepEqual(parseRedisUrl('redis+sentinel://:secret@s1:26379,s2,s3:26380/civic-cache?db=3&sentinel_password=watch'), {
    mode: 'sentinel',
    sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }, { host: 's3', port: 26380 }],
    name: 'civic-cache',
    tls: false,
    db: 3,
    password: 'secret',
    sentinelPassword: 'watch',
  });
});

test('REDIS_URL: what cannot work is refused with the reason', (t) => {
  const refused: Array<[string, RegExp]> = [
    ['http://cache:6379', /must be redis:\/\//],
    ['redis://a:6379,b:6379', /one server/],
    ['redis+cluster://a:7000/1', /only database 0/],
    ['redis+cluster://a:7000,,b:7001', /empty one/],
    ['redis+cluster://a:70000', /not a host:port/],
    ['redis+cluster://a:7000?db=1', /unknown parameter "db"/],
    ['redis+sentinel://s1:26379,s2:26379', /master's name/],
    ['redis+sentinel://s1:26379/civic?role=slave', /unknown parameter "role"/],
    ['redis+sentinel://s1:26379/civic?db=x', /database number/],
  ];
  for (const [url, reason] of refused) t.throws(() => parseRedisUrl(url), { message: reason }, url);
});

test('DATABASE_URL: one host is used as written and may be anything', (t) => {
  t.deepEqual(parsePostgresUrl('postgres://idp:pw@db.internal:5432/idp?sslmode=require'), {
    hosts: [{ label: 'db.internal:5432', url: 'postgres://idp:pw@db.internal:5432/idp?sslmode=require' }],
    requirePrimary: false,
  });
  t.true(parsePostgresUrl('postgres://idp@pgbouncer:6432/idp?target_session_attrs=read-write').requirePrimary);
  t.is(parsePostgresUrl('postgres://idp@pgbouncer:6432/idp?target_session_attrs=read-write').hosts[0]!.url, 'postgres://idp@pgbouncer:6432/idp');
});

test('DATABASE_URL: several hosts become one URL each, in order, and only a primary will do', (t) => {
  t.deepEqual(parsePostgresUrl('postgresql://idp:p%40ss@db1:5432,db2:5433,[fd00::3]/idp?sslmode=require&target_session_attrs=primary'), {
    hosts: [
      { label: 'db1:5432', url: 'postgresql://idp:p%40ss@db1:5432/idp?sslmode=require' },
      { label: 'db2:5433', url: 'postgresql://idp:p%40ss@db2:5433/idp?sslmode=require' },
      { label: '[fd00::3]', url: 'postgresql://idp:p%40ss@[fd00::3]/idp?sslmode=require' },
    ],
    requirePrimary: true,
  });
  t.true(parsePostgresUrl('postgres://db1,db2/idp').requirePrimary, 'read-write by default with several hosts');
  t.throws(() => parsePostgresUrl('postgres://db1,db2/idp?target_session_attrs=any'), { message: /must be read-write or primary/ });
  t.throws(() => parsePostgresUrl('postgres://db1,db2/idp?target_session_attrs=standby'), { message: /any, read-write or primary/ });
  t.throws(() => parsePostgresUrl('postgres://db1,/idp'), { message: /host or host:port/ });
});

test('the configuration accepts each documented form and names the variable of a bad one', (t) => {
  for (const url of ['redis+cluster://c1:7000,c2:7000,c3:7000', 'rediss+sentinel://s1,s2,s3/civic']) {
    t.is(loadConfig({ NODE_ENV: 'test', REDIS_URL: url }).cache.kind, 'redis', url);
  }
  t.is(loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://idp@db1,db2:5433/idp' }).database.kind, 'postgres');
  const error = t.throws(() => loadConfig({ NODE_ENV: 'test', REDIS_URL: 'redis+sentinel://s1', DATABASE_URL: 'postgres://a,b/idp?target_session_attrs=any' }), { instanceOf: ConfigError });
  t.deepEqual(error?.problems.map((problem) => problem.split(':')[0]).sort(), ['DATABASE_URL', 'REDIS_URL']);
});
