import test from 'ava';
import { sql } from 'kysely';
import { GENESIS_HASH, hashRecord } from '../../../src/audit/audit-log.js';
import { AuditRetention } from '../../../src/audit/audit-retention.js';
import { startAuditSchedule } from '../../../src/audit/audit-schedule.js';
import { createLogger } from '../../../src/log.js';
import { ConfigError } from '../../../src/config/load.js';
import { isolatedEnv } from '../../helpers/env.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { auditOf, createStaff, staffSignIn } from '../../helpers/staff.js';

let server: TestServer;
test.before(async () => { server = await startServer(); });
test.after.always(async () => { await server?.close(); });

test.serial('the auditor reads the log with filters and exports CSV; both are audited', async (t) => {
  const agent = await createStaff(server.deps, 'agent.audited', ['agent']);
  const auditor = await createStaff(server.deps, 'auditor.reads', ['auditor']);
  const agentClient = await staffSignIn(server, agent);
  await agentClient.api('POST', '/citizens/00000000-0000-0000-0000-000000000000/ban', { reason: 'abuse' });
  const client = await staffSignIn(server, auditor);

  const denied = await client.api('GET', `/audit?actor_id=${agent.id}&result=denied`);
  t.is(denied.status, 200, JSON.stringify(denied.body));
  t.true(denied.body.records.length >= 1);
  t.true(denied.body.records.every((r: { actor_id: string; result: string }) => r.actor_id === agent.id && r.result === 'denied'));
  t.true(denied.body.records.some((r: { action: string; details: { reason: string } }) => r.action === 'account.ban' && r.details.reason === 'outside_search'));

  const logins = await client.api('GET', '/audit?action=staff.');
  t.true(logins.body.records.length >= 2);
  t.true(logins.body.records.every((r: { action: string }) => r.action.startsWith('staff.')));
  const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
  t.true((await client.api('GET', `/audit?from=${today}&to=${today}`)).body.records.length >= 1);
  t.is((await client.api('GET', '/audit?from=2000-01-01&to=2000-01-02')).body.records.length, 0);

  const csv = await client.browser.request(`/api/v1/admin/audit/export?actor_id=${agent.id}`);
  t.regex(csv.headers.get('content-type') ?? '', /text\/csv/);
  t.regex(csv.headers.get('content-disposition') ?? '', /audit-log\.csv/);
  const lines = (await csv.text()).replace(/^\uFEFF/, '').trim().split('\r\n');
  t.is(lines[0], 'seq,at,actor_kind,actor_id,action,target_kind,target_id,result,ip,user_agent,request_id,details,prev_hash,hash');
  t.true(lines.length >= 2);
  t.true(lines.slice(1).every((line) => line.includes(agent.id)));

  const page = await client.browser.get('/admin/audit?action=account.');
  t.regex(page.body, /data-action="account\.ban"/);
  t.is(page.response.headers.get('cache-control'), 'no-store');
  // People by their usernames, acts by their names (zh-CN first), never by their codes or ids.
  t.true(denied.body.records.every((r: { actor_username: string }) => r.actor_username === 'agent.audited'));
  const named = await client.browser.get(`/admin/audit?actor_id=agent.audited`);
  const rows = [...named.body.matchAll(/<tr data-seq[\s\S]*?<\/tr>/g)].map((m) => m[0]);
  t.true(rows.length >= 2);
  for (const row of rows) {
    t.regex(row, /<td data-actor><a href="[^"]+" title="[0-9a-f-]{36}">agent\.audited<\/a><\/td>/);
    const name = /<td data-action-name title="([a-z_.]+)">([^<]+)<\/td>/.exec(row);
    t.truthy(name);
    t.not(name![2], name![1], `${name![1]} is shown by its name`);
  }
  t.regex(named.body, /<td data-action-name title="account\.ban">禁用账号<\/td>/);
  t.regex(named.body, /<td data-action-name title="staff\.login">工作人员登录<\/td>/);
  t.regex(named.body, /<td>工作人员<\/td>/, 'the actor kind in words');
  // The page's export link carries the same filter, username and all.
  const namedCsv = (await (await client.browser.request('/api/v1/admin/audit/export?actor_id=agent.audited')).text()).replace(/^\uFEFF/, '').trim().split('\r\n');
  t.is(namedCsv.length - 1, lines.length - 1, 'the same records as by the member\'s id');
  t.regex((await client.browser.get('/admin/audit?action=account.&lang=en')).body, /<td data-action-name title="account\.ban">Ban an account<\/td>/);

  t.true((await auditOf(server.deps, 'audit.view')).some((r) => r.actor_id === auditor.id));
  t.true((await auditOf(server.deps, 'audit.export')).some((r) => r.actor_id === auditor.id && r.details.count === lines.length - 1));
});

test.serial('separation of duties: those who act on accounts or administer staff cannot read or export the log, and trying is audited', async (t) => {
  for (const [username, role] of [['agent.nosy', 'agent'], ['head.nosy', 'supervisor'], ['admin.nosy', 'admin']] as const) {
    const member = await createStaff(server.deps, username, [role]);
    const client = await staffSignIn(server, member);
    t.is((await client.api('GET', '/audit')).body.error, 'forbidden', role);
    t.is((await client.api('GET', '/audit/export')).body.error, 'forbidden', role);
    t.true((await auditOf(server.deps, 'audit.export')).some((r) => r.actor_id === member.id && r.result === 'denied'), role);
  }
});

test('retention: never configurable below 180 days', (t) => {
  const env = isolatedEnv({ database: 'embedded', cache: 'embedded' });
  t.throws(() => env.config({ AUDIT_RETENTION_DAYS: '179' }), { instanceOf: ConfigError, message: /AUDIT_RETENTION_DAYS/ });
  t.is(env.config({ AUDIT_RETENTION_DAYS: '365' }).auditRetentionDays, 365);
  t.is(env.config().auditRetentionDays, 180);
});

test.serial('the daily job verifies the chain, records its head, purges only records past retention; the database refuses younger ones', async (t) => {
  const fresh = await startServer();
  try {
    const { database, audit } = fresh.deps;
    // A properly chained first record, 200 days old (appends always stamp now), then recent ones.
    const before = await database.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    t.is(Number(before.n), 0, 'a fresh server has an empty audit log');
    const old = { seq: 1, at: new Date(Date.now() - 200 * 86_400_000), actor_kind: 'system', actor_id: null, action: 'test.old', target_kind: null, target_id: null, result: 'success' as const, ip: null, user_agent: null, request_id: null, details: {}, prev_hash: GENESIS_HASH };
    await database.db.insertInto('audit_log').values({ ...old, details: '{}', hash: hashRecord(old) }).execute();
    for (let i = 0; i < 3; i += 1) await audit.append({ actor: { kind: 'system' }, action: 'test.recent', result: 'success' });

    // Even saying it is the purge, a young record cannot be deleted.
    const young = await t.throwsAsync(database.db.transaction().execute(async (trx) => {
      await sql`select set_config('civic.audit_purge', 'on', true)`.execute(trx);
      await sql`delete from audit_log where seq = 2`.execute(trx);
    }));
    t.regex(young?.message ?? '', /append-only/);
    // And without saying so, not even an old one.
    await t.throwsAsync(sql`delete from audit_log where seq = 1`.execute(database.db));

    const result = await new AuditRetention(database.db, audit, 180).daily();
    t.true(result.verified.ok);
    t.is(result.purged, 1);
    const head = (await auditOf(fresh.deps, 'audit.verify'))[0];
    t.like(head?.details, { count: 4, head: result.verified.ok ? result.verified.head : '' });
    t.deepEqual((await auditOf(fresh.deps, 'test.old')), []);
    const after = await audit.verify();
    t.true(after.ok, 'the oldest kept record anchors the chain');
    t.true((await auditOf(fresh.deps, 'audit.purge')).length === 1);
    t.throws(() => new AuditRetention(database.db, audit, 90), { instanceOf: RangeError });
  } finally {
    await fresh.close();
  }
});

test.serial('the process runs the daily check, once a day across instances, and logs the head hash', async (t) => {
  const lines: string[] = [];
  let logged: () => void = () => {};
  const seen = new Promise<void>((resolve) => { logged = resolve; });
  const logger = createLogger('info', { write(line: string) { lines.push(line); if (line.includes('audit log verified')) logged(); } });
  const stopFirst = startAuditSchedule(server.deps.auditRetention, server.deps.cache, logger, { firstRunMs: 0 });
  await seen;
  stopFirst();
  const entry = JSON.parse(lines.find((line) => line.includes('audit log verified'))!) as { head: string; records: number };
  t.regex(entry.head, /^[0-9a-f]{64}$/);
  t.true(entry.records > 0);
  // The day is taken in the shared cache: any other instance's tick today finds it and returns.
  t.false(await server.deps.cache.setIfAbsent(`audit-daily:${new Date().toISOString().slice(0, 10)}`, '1', 60));
});
