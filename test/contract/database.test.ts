import test, { type ExecutionContext } from 'ava';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle } from '../../src/store/db.js';
import { StoreUnavailableError } from '../../src/store/faults.js';
import { migrations } from '../../src/store/migrations/index.js';
import { dropSchema, uniqueName } from '../helpers/env.js';
import { databaseImplementations, multiHostPostgres, postgresUrl, type DatabaseImplementation } from '../helpers/stores.js';

/** The database contract: one suite, run against embedded PGlite and real PostgreSQL alike. */

/** Tables this suite relies on; later migrations add more, which the up/down test accepts. */
const CORE_TABLES = ['oidc_artifacts', 'oidc_clients', 'signing_keys'];
const MIGRATION_NAMES = Object.keys(migrations);

async function tablesIn(handle: DatabaseHandle): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = ${handle.schema} and table_type = 'BASE TABLE'
    order by table_name`.execute(handle.db);
  return rows.map((row) => row.table_name).filter((name) => name !== 'schema_migrations');
}

async function indexesIn(handle: DatabaseHandle): Promise<string[]> {
  const { rows } = await sql<{ indexname: string }>`
    select indexname from pg_indexes where schemaname = ${handle.schema} order by indexname`.execute(handle.db);
  return rows.map((row) => row.indexname);
}

async function migrateAllDown(handle: DatabaseHandle) {
  const names: string[] = [];
  for (let i = 0; i < MIGRATION_NAMES.length; i += 1) {
    const result = await handle.migrate('down');
    names.push(...(result.results ?? []).map((r) => `${r.migrationName}:${r.direction}:${r.status}`));
  }
  return names;
}

function databaseContract(implementation: DatabaseImplementation) {
  const it = (title: string, body: (t: ExecutionContext, handle: DatabaseHandle) => Promise<void>, options: { migrated?: boolean } = {}) => {
    test(`${implementation.name}: ${title}`, async (t) => {
      const fixture = await implementation.open();
      t.teardown(() => fixture.cleanup());
      if (options.migrated ?? true) await fixture.handle.migrate('up');
      await body(t, fixture.handle);
    });
  };

  it('reports its kind and answers ping', async (t, handle) => {
    t.is(handle.kind, implementation.kind);
    await t.notThrowsAsync(handle.ping());
  }, { migrated: false });

  it('migrates an empty database up, down to empty, and up again', async (t, handle) => {
    t.deepEqual(await tablesIn(handle), []);

    const up = await handle.migrate('up');
    t.deepEqual(up.results?.map((r) => `${r.migrationName}:${r.direction}:${r.status}`), MIGRATION_NAMES.map((name) => `${name}:Up:Success`));
    const migrated = await tablesIn(handle);
    for (const table of CORE_TABLES) t.true(migrated.includes(table), `table ${table} is missing`);
    const indexes = await indexesIn(handle);
    for (const index of ['signing_keys_current_idx', 'oidc_artifacts_grant_idx', 'oidc_artifacts_expiry_idx']) {
      t.true(indexes.includes(index), `index ${index} is missing`);
    }

    const again = await handle.migrate('up');
    t.deepEqual(again.results, [], 'migrating an up-to-date database changes nothing');

    const down = await migrateAllDown(handle);
    t.deepEqual(down, [...MIGRATION_NAMES].reverse().map((name) => `${name}:Down:Success`));
    t.deepEqual(await tablesIn(handle), []);

    const reapplied = await handle.migrate('up');
    t.is(reapplied.results?.length, MIGRATION_NAMES.length);
    t.deepEqual(await tablesIn(handle), migrated);
  }, { migrated: false });

  it('keeps its tables in its own schema', async (t, handle) => {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(handle.db);
    t.is(rows[0]?.schema, handle.schema);
    const { rows: elsewhere } = await sql<{ table_schema: string }>`
      select table_schema from information_schema.tables
      where table_name = 'oidc_artifacts' and table_schema = 'public'`.execute(handle.db);
    t.deepEqual(elsewhere, [], 'a test database must not create tables in public');
  });

  it('two databases do not see each other', async (t, handle) => {
    const other = await implementation.open();
    t.teardown(() => other.cleanup());
    t.deepEqual(await tablesIn(other.handle), []);
    await other.handle.migrate('up');
    await handle.db.insertInto('signing_keys').values({ kid: 'mine', alg: 'RS256', private_jwk: 'x' }).execute();
    t.deepEqual(await other.handle.db.selectFrom('signing_keys').select('kid').execute(), []);
  });

  it('a JSON string written into jsonb comes back as the same object', async (t, handle) => {
    const metadata = {
      client_name: '政务服务网',
      redirect_uris: ['https://a.example/cb', 'https://b.example/cb'],
      nested: { list: [1, 2.5, -3, { deep: [true, false, null] }], empty: {}, none: [] },
      flag: true,
      nothing: null,
      quote: 'a "quoted" \\ back\\slash\nnewline',
    };
    const policy = { allowed_acr: ['level2', 'level3'], limits: { perMinute: 60 } };
    await handle.db.insertInto('oidc_clients').values({
      client_id: 'portal',
      metadata: JSON.stringify(metadata),
      access_policy: JSON.stringify(policy),
      source: 'file',
    }).execute();

    const row = await handle.db.selectFrom('oidc_clients').select(['metadata', 'access_policy']).where('client_id', '=', 'portal').executeTakeFirstOrThrow();
    t.deepEqual(row.metadata, metadata);
    t.deepEqual(row.access_policy, policy);

    // The database itself must hold an object, not a JSON string that merely looks like one.
    const { rows } = await sql<{ kind: string; list_kind: string; name: string; second: string }>`
      select jsonb_typeof(metadata) as kind, jsonb_typeof(metadata->'redirect_uris') as list_kind,
             metadata->>'client_name' as name, metadata->'redirect_uris'->>1 as second
      from oidc_clients where client_id = 'portal'`.execute(handle.db);
    t.deepEqual(rows[0], { kind: 'object', list_kind: 'array', name: '政务服务网', second: 'https://b.example/cb' });
  });

  it('an upsert of jsonb keeps it an object', async (t, handle) => {
    const first = { version: 1, scopes: ['openid'] };
    const second = { version: 2, scopes: ['openid', 'profile'], extra: { a: [{ b: 'c' }] } };
    for (const metadata of [first, second]) {
      await handle.db.insertInto('oidc_clients')
        .values({ client_id: 'app', metadata: JSON.stringify(metadata), access_policy: JSON.stringify({ v: metadata.version }), source: 'console' })
        .onConflict((c) => c.column('client_id').doUpdateSet({ metadata: JSON.stringify(metadata) }))
        .execute();
    }
    const row = await handle.db.selectFrom('oidc_clients').select(['metadata', 'access_policy']).executeTakeFirstOrThrow();
    t.deepEqual(row.metadata, second);
    t.deepEqual(row.access_policy, { v: 1 }, 'the conflict update leaves columns it does not name alone');
    const { rows } = await sql<{ kind: string }>`select jsonb_typeof(metadata) as kind from oidc_clients`.execute(handle.db);
    t.is(rows[0]?.kind, 'object');
  });

  it('an omitted access_policy defaults to an empty object', async (t, handle) => {
    await sql`insert into oidc_clients (client_id, metadata, source) values ('bare', ${JSON.stringify({ a: 1 })}, 'file')`.execute(handle.db);
    const row = await handle.db.selectFrom('oidc_clients').select(['metadata', 'access_policy']).executeTakeFirstOrThrow();
    t.deepEqual(row, { metadata: { a: 1 }, access_policy: {} });
  });

  it('timestamps come back as Date', async (t, handle) => {
    await handle.db.insertInto('signing_keys').values({ kid: 'k', alg: 'RS256', private_jwk: 'x', retire_after: new Date('2030-01-02T03:04:05.678Z') }).execute();
    const row = await handle.db.selectFrom('signing_keys').selectAll().executeTakeFirstOrThrow();
    t.true(row.created_at instanceof Date);
    t.true(row.activate_at instanceof Date);
    t.deepEqual(row.retire_after, new Date('2030-01-02T03:04:05.678Z'));
  });

  it('a transaction that throws rolls back, and the database stays usable', async (t, handle) => {
    const error = await t.throwsAsync(handle.db.transaction().execute(async (trx) => {
      await trx.insertInto('signing_keys').values({ kid: 'k1', alg: 'RS256', private_jwk: 'x' }).execute();
      await trx.insertInto('signing_keys').values({ kid: 'k2', alg: 'ES256', private_jwk: 'y' }).execute();
      t.is((await trx.selectFrom('signing_keys').select('kid').execute()).length, 2, 'the transaction sees its own writes');
      throw new Error('boom');
    }));
    t.is(error?.message, 'boom');
    t.deepEqual(await handle.db.selectFrom('signing_keys').select('kid').execute(), []);

    await handle.db.transaction().execute(async (trx) => {
      await trx.insertInto('signing_keys').values({ kid: 'k3', alg: 'RS256', private_jwk: 'z' }).execute();
    });
    t.deepEqual(await handle.db.selectFrom('signing_keys').select('kid').execute(), [{ kid: 'k3' }]);
  });

  it('a failing statement inside a transaction rolls back the earlier ones', async (t, handle) => {
    await handle.db.insertInto('signing_keys').values({ kid: 'existing', alg: 'RS256', private_jwk: 'x' }).execute();
    await t.throwsAsync(handle.db.transaction().execute(async (trx) => {
      await trx.insertInto('signing_keys').values({ kid: 'new', alg: 'ES256', private_jwk: 'y' }).execute();
      await trx.insertInto('signing_keys').values({ kid: 'existing', alg: 'PS256', private_jwk: 'z' }).execute();
    }));
    t.deepEqual(await handle.db.selectFrom('signing_keys').select('kid').execute(), [{ kid: 'existing' }]);
  });

  it('allows one current signing key per algorithm, and any number of retired ones', async (t, handle) => {
    const insert = (kid: string, alg: string, retireAfter: Date | null = null) =>
      handle.db.insertInto('signing_keys').values({ kid, alg, private_jwk: 'x', retire_after: retireAfter }).execute();
    await insert('rs-1', 'RS256');
    await t.throwsAsync(insert('rs-2', 'RS256'), { message: /duplicate key|unique/i });
    await insert('es-1', 'ES256');

    await handle.db.updateTable('signing_keys').set({ retire_after: new Date() }).where('kid', '=', 'rs-1').execute();
    await insert('rs-2', 'RS256');
    await insert('rs-0', 'RS256', new Date(Date.now() - 86_400_000));

    const current = await handle.db.selectFrom('signing_keys').select(['kid', 'alg'])
      .where('retire_after', 'is', null).orderBy('alg').execute();
    t.deepEqual(current, [{ kid: 'es-1', alg: 'ES256' }, { kid: 'rs-2', alg: 'RS256' }]);
    t.is((await handle.db.selectFrom('signing_keys').select('kid').where('alg', '=', 'RS256').execute()).length, 3);
  });

  it('of instances racing to create the current key for an algorithm exactly one succeeds', async (t, handle) => {
    const attempts = await Promise.allSettled(Array.from({ length: 10 }, (_, i) =>
      handle.db.insertInto('signing_keys').values({ kid: `race-${i}`, alg: 'ES256', private_jwk: 'x' }).execute()));
    t.is(attempts.filter((a) => a.status === 'fulfilled').length, 1);
    t.is((await handle.db.selectFrom('signing_keys').select('kid').execute()).length, 1);
  });
}

for (const implementation of [...databaseImplementations, multiHostPostgres]) databaseContract(implementation);

test('postgres: a statement past its time is a store fault, unless its transaction lifted the limit as migrations and the audit purge do: then neither the server nor the driver cuts it short', async (t) => {
  // Connecting is not what is measured: a loaded machine may take seconds to start a backend.
  const handle = await openDatabase({ kind: 'postgres', url: postgresUrl, schema: uniqueName('t'), poolSize: 2, timeouts: { connectMs: 15_000, statementMs: 300 } });
  t.teardown(async () => {
    await handle.close();
    await dropSchema(postgresUrl, handle.schema);
  });
  await t.throwsAsync(sql`select pg_sleep(1)`.execute(handle.db), { instanceOf: StoreUnavailableError });
  // 2.5 s is past the driver's own limit too (300 ms and its 2 s margin).
  await t.notThrowsAsync(handle.db.transaction().execute(async (trx) => {
    await sql`set local statement_timeout = 0`.execute(trx);
    await sql`select pg_sleep(2.5)`.execute(trx);
  }));
  await t.throwsAsync(sql`select pg_sleep(1)`.execute(handle.db), { instanceOf: StoreUnavailableError }, 'the next statement is limited again');
});
