import test from 'ava';
import { sql } from 'kysely';
import { startServer } from '../../helpers/server.js';

test('the audit log is append-only and its chain verifies, naming the first altered record', async (t) => {
  const server = await startServer();
  try {
    const { audit, database } = server.deps;
    for (let i = 0; i < 5; i += 1) {
      await audit.append({ actor: { kind: 'system' }, action: 'test.event', target: { kind: 'account', id: `a${i}` }, result: 'success', details: { n: i, nested: { list: [1, 2] } }, meta: { ip: '127.0.0.1', requestId: `r${i}` } });
    }
    const verified = await audit.verify();
    t.true(verified.ok);
    t.is(verified.count, 5);

    const update = await t.throwsAsync(sql`update audit_log set action = 'forged' where seq = 3`.execute(database.db));
    t.regex(update?.message ?? '', /append-only/);
    await t.throwsAsync(sql`delete from audit_log where seq = 3`.execute(database.db));
    await t.throwsAsync(sql`truncate audit_log`.execute(database.db));

    // Someone who can bypass the trigger (a superuser) edits a row: the chain names it.
    await database.db.transaction().execute(async (trx) => {
      await sql`alter table audit_log disable trigger audit_log_no_update`.execute(trx);
      await sql`update audit_log set details = '{"n": 99}'::jsonb where seq = 3`.execute(trx);
      await sql`alter table audit_log enable trigger audit_log_no_update`.execute(trx);
    });
    const broken = await audit.verify();
    t.false(broken.ok);
    t.like(broken, { ok: false, brokenAt: 3, reason: 'record altered' });
  } finally {
    await server.close();
  }
});

test('details that look like raw personal data or secrets are dropped', async (t) => {
  const server = await startServer();
  try {
    await server.deps.audit.append({ actor: { kind: 'system' }, action: 'test.scrub', result: 'success', details: { phone: '13800138000', password: 'x', id_number: '11010519491231002X', phone_masked: '138****8000' } });
    const row = await server.deps.database.db.selectFrom('audit_log').select('details').where('action', '=', 'test.scrub').executeTakeFirstOrThrow();
    t.deepEqual(row.details, { phone_masked: '138****8000' });
  } finally {
    await server.close();
  }
});

test('appends racing from many requests share writes yet each gets its own record, in one unbroken chain', async (t) => {
  const server = await startServer();
  try {
    const { audit, database } = server.deps;
    const written = await Promise.all(Array.from({ length: 60 }, (_, i) => audit.append({ actor: { kind: 'system' }, action: 'test.race', target: { kind: 'account', id: `r${i}` }, result: 'success' })));
    t.deepEqual(written.map((w) => w.seq).sort((a, b) => a - b), Array.from({ length: 60 }, (_, i) => i + 1));
    const rows = await database.db.selectFrom('audit_log').select(['seq', 'target_id', 'hash']).orderBy('seq').execute();
    for (const w of written) t.is(rows.find((row) => Number(row.seq) === w.seq)?.hash, w.hash);
    t.is(new Set(rows.map((row) => row.target_id)).size, 60);
    t.like(await audit.verify(), { ok: true, count: 60 });

    // Inside a caller's transaction the record shares its fate: rolled back, it never existed.
    await t.throwsAsync(database.db.transaction().execute(async (trx) => {
      await audit.append({ actor: { kind: 'system' }, action: 'test.rolled_back', result: 'success' }, trx);
      throw new Error('the act failed');
    }));
    t.is((await database.db.selectFrom('audit_log').select('seq').where('action', '=', 'test.rolled_back').execute()).length, 0);
    t.like(await audit.append({ actor: { kind: 'system' }, action: 'test.after', result: 'success' }), { seq: 61 });
  } finally {
    await server.close();
  }
});
