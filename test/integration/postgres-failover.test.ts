import test from 'ava';
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../../src/store/db.js';
import { StoreUnavailableError } from '../../src/store/faults.js';
import { uniqueName } from '../helpers/env.js';
import { eventually, startPrivatePostgresPair, type PrivatePostgresPair } from '../helpers/private-stores.js';

/**
 * A DATABASE_URL naming a primary and its streaming standby (the standby first), on a pair
 * of this file's own: only the primary is ever used, a standby is refused, and when the
 * primary crashes and the standby is promoted the same handle writes to the new primary,
 * having answered 503 meanwhile. Replication is synchronous, so nothing committed is lost.
 */

let pair: PrivatePostgresPair;
test.before(async () => {
  pair = await startPrivatePostgresPair({ synchronous: true });
});
test.after.always(async () => {
  await pair?.destroy();
});

async function open(url: string): Promise<DatabaseHandle> {
  return openDatabase({ kind: 'postgres', url, schema: uniqueName('t'), poolSize: 4, timeouts: { connectMs: 2_000, statementMs: 5_000 } });
}

async function count(handle: DatabaseHandle): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from notes`.execute(handle.db);
  return rows[0]!.n;
}

async function onHost(url: string, query: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(query)).rows;
  } finally {
    await client.end();
  }
}

test.serial('a standby alone is refused when a primary is required, and a write to it is a store fault', async (t) => {
  await t.throwsAsync(open(`${pair.standby.url}?target_session_attrs=read-write`), { instanceOf: StoreUnavailableError, message: /no primary among the hosts .*a standby or read-only/ });
  // Without the requirement (one host, as written) it opens, reads, and a write is a 503, not a 500.
  await t.throwsAsync(open(pair.standby.url), { instanceOf: StoreUnavailableError }, 'the schema cannot be created on a standby');
});

test.serial('the standby listed first is skipped: every write goes to the primary', async (t) => {
  const handle = await open(pair.url);
  t.teardown(() => handle.close());
  await sql`create table notes (id serial primary key, body text not null)`.execute(handle.db);
  await sql`insert into notes (body) values ('first')`.execute(handle.db);
  t.is(await count(handle), 1);
  const written = await onHost(pair.primary.url, `select count(*)::int as n from pg_tables where tablename = 'notes'`);
  t.deepEqual(written, [{ n: 1 }], 'the table was made on the primary');
  t.deepEqual(await onHost(pair.standby.url, 'select pg_is_in_recovery() as standby'), [{ standby: true }]);
});

test.serial('the primary crashes and the standby is promoted: 503 while there is no primary, then the same handle writes to the new one and nothing committed is lost', async (t) => {
  const handle = await open(pair.url);
  t.teardown(() => handle.close());
  await sql`create table notes (id serial primary key, body text not null)`.execute(handle.db);
  for (let i = 0; i < 50; i += 1) await sql`insert into notes (body) values (${`note ${i}`})`.execute(handle.db);

  await pair.primary.crash();
  // Whatever connection the pool held is gone; the standby is the only host left, and it may not write.
  const down = await eventually(() => handle.ping().then(() => undefined, (error: unknown) => error));
  t.true(down instanceof StoreUnavailableError, 'readiness says the database is down');
  await t.throwsAsync(sql`insert into notes (body) values ('during')`.execute(handle.db), { instanceOf: StoreUnavailableError });

  await pair.standby.promote();
  await eventually(() => sql`insert into notes (body) values ('after')`.execute(handle.db).then(() => true, () => undefined));
  await handle.ping();
  t.is(await count(handle), 51, 'the 50 committed before the crash, and the one after');
  t.deepEqual(await onHost(pair.standby.url, 'select pg_is_in_recovery() as standby'), [{ standby: false }]);
});
