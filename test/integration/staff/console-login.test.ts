import test from 'ava';
import { generate } from 'otplib';
import { MemoryCache } from '../../../src/store/memory-cache.js';
import { KeyedDigest } from '../../../src/crypto/digest.js';
import { STAFF_ABSOLUTE_SECONDS, STAFF_IDLE_SECONDS, StaffSessions } from '../../../src/staff/staff-sessions.js';
import { errorCode, hidden, HttpBrowser } from '../../helpers/http-browser.js';
import { sharedStoresEnv } from '../../helpers/env.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { runCli } from '../../helpers/process.js';
import { auditOf, createStaff, staffSignIn, totpCode } from '../../helpers/staff.js';

let server: TestServer;
const stores = sharedStoresEnv();
test.before(async () => { server = await startServer({}, { stores }); });
test.after.always(async () => { await server?.close(); await stores.cleanup(); });

const cli = (args: string[]) => runCli(args, { ...stores.env, ISSUER: server.url });

test.serial('the first admin comes from the CLI, which prints the password and the otpauth URI once; signing in needs both', async (t) => {
  const run = await cli(['staff:create', '--username', 'root', '--role', 'admin']);
  t.is(run.code, 0, run.stderr);
  const uri = /otpauth:\/\/totp\/\S+/.exec(run.stdout)?.[0];
  const password = /initial password \(shown once\): (\S+)/.exec(run.stdout)?.[1];
  t.truthy(uri);
  t.truthy(password);
  t.notRegex(run.stdout, /must choose a new password/, 'the very first admin is the operator\'s own: nobody else has seen it');
  const secret = new URL(uri!).searchParams.get('secret')!;

  const browser = new HttpBrowser(server.url);
  const first = await browser.post('/admin/login', { username: 'root', password: password! });
  t.true(first.url.endsWith('/admin/login/totp'));
  // The password alone opens nothing: no console page, no API.
  const early = await browser.get('/admin');
  t.true(early.url.endsWith('/admin/login'));
  t.is((await browser.request('/api/v1/admin/staff')).status, 401);
  // A missing code is a failed login, audited.
  const missing = await browser.post('/admin/login/totp', { code: '' });
  t.is(errorCode(missing.body), 'totp_invalid');
  t.true((await auditOf(server.deps, 'staff.login.totp')).some((r) => r.result === 'failure' && r.details.missing === true));

  const done = await browser.post('/admin/login/totp', { code: await generate({ secret }) });
  t.true(done.url.endsWith('/admin'));
  t.regex(done.body, /data-staff|管理控制台/);
  t.is(done.response.headers.get('cache-control'), 'no-store');
  const cookie = [...browser.cookies().keys()];
  t.true(cookie.includes('civic_staff'));
  t.false(cookie.includes('_session'), 'the console session is not the citizens\' SSO session');

  // Repeating the CLI for a taken name fails.
  const again = await cli(['staff:create', '--username', 'root', '--role', 'agent']);
  t.not(again.code, 0);
  const unknownRole = await cli(['staff:create', '--username', 'someone', '--role', 'superuser']);
  t.is(unknownRole.code, 2);
});

test.serial('a used authenticator code is refused the second time', async (t) => {
  const staff = await createStaff(server.deps, 'agent.replay', ['agent']);
  const code = await totpCode(staff.totpSecret);
  const a = new HttpBrowser(server.url);
  await a.post('/admin/login', { username: staff.username, password: staff.password });
  t.true((await a.post('/admin/login/totp', { code })).url.endsWith('/admin'));
  const b = new HttpBrowser(server.url);
  await b.post('/admin/login', { username: staff.username, password: staff.password });
  t.is(errorCode((await b.post('/admin/login/totp', { code })).body), 'totp_invalid');
});

test.serial('repeated wrong passwords lock the staff account, even for the right password, and the lock is audited', async (t) => {
  const staff = await createStaff(server.deps, 'agent.lock', ['agent']);
  const browser = new HttpBrowser(server.url);
  for (let i = 0; i < 5; i += 1) {
    const wrong = await browser.post('/admin/login', { username: staff.username, password: 'wrong-password-1' });
    t.is(errorCode(wrong.body), 'login_failed');
  }
  const right = await browser.post('/admin/login', { username: staff.username, password: staff.password });
  t.is(errorCode(right.body), 'account_locked');
  t.is((await auditOf(server.deps, 'staff.login.locked')).filter((r) => r.target_id === staff.id).length, 1);
});

test.serial('roles are exactly those granted: an auditor cannot search citizens or create staff, and each refusal is audited', async (t) => {
  const auditor = await createStaff(server.deps, 'auditor.one', ['auditor']);
  const client = await staffSignIn(server, auditor);
  const search = await client.api('GET', '/citizens?q=13800138000');
  t.is(search.status, 403);
  t.is(search.body.error, 'forbidden');
  const create = await client.api('POST', '/staff', { username: 'sneaky', roles: ['agent'] });
  t.is(create.status, 403);
  const denied = (await server.deps.database.db.selectFrom('audit_log').selectAll().where('actor_id', '=', auditor.id).where('result', '=', 'denied').execute()).map((r) => r.action);
  t.true(denied.includes('citizen.search'));
  t.true(denied.includes('staff.create'));
  t.is(await server.deps.staff.accounts.byUsername('sneaky'), undefined);
});

test.serial('a write without the CSRF token (or with another session\'s) is refused, changes nothing and is audited', async (t) => {
  const admin = await createStaff(server.deps, 'admin.csrf', ['admin']);
  const other = await createStaff(server.deps, 'admin.other', ['admin']);
  const client = await staffSignIn(server, admin);
  const otherClient = await staffSignIn(server, other);
  const bare = await client.api('POST', '/staff', { username: 'nocsrf', roles: ['agent'] }, { 'x-csrf-token': '' });
  t.is(bare.status, 403);
  t.is(bare.body.error, 'csrf');
  const foreign = await client.api('POST', '/staff', { username: 'nocsrf', roles: ['agent'] }, { 'x-csrf-token': otherClient.csrf });
  t.is(foreign.body.error, 'csrf');
  const page = await client.browser.post('/admin/staff', { csrf: 'forged', username: 'nocsrf', roles: 'agent' });
  t.is(errorCode(page.body), 'csrf');
  t.is(await server.deps.staff.accounts.byUsername('nocsrf'), undefined);
  t.is((await auditOf(server.deps, 'staff.csrf')).filter((r) => r.actor_id === admin.id).length, 3);

  // With the token, the same form works.
  const staffPage = await client.browser.get('/admin/staff');
  t.regex(staffPage.body, /<strong>admin\.other<\/strong> \(admin\.other\)/, 'each staff member is listed with their display name');
  const created = await client.browser.post('/admin/staff', { csrf: hidden(staffPage.body, 'csrf'), username: 'withcsrf', roles: 'agent' });
  t.regex(created.body, /data-created-staff="withcsrf"/);
  t.regex(created.body, /otpauth:\/\/totp\//);
});

test.serial('signing out ends the console session', async (t) => {
  const staff = await createStaff(server.deps, 'agent.out', ['agent']);
  const client = await staffSignIn(server, staff);
  t.is((await client.api('GET', '/approvals')).status, 200);
  t.is((await client.api('POST', '/logout')).status, 204);
  t.is((await client.api('GET', '/approvals')).status, 401);
});

test('console sessions end after 15 idle minutes and after 8 hours however busy', async (t) => {
  let now = Date.now();
  const sessions = new StaffSessions(new MemoryCache('t:'), new KeyedDigest(Buffer.alloc(32, 7)), () => now);
  const idle = await sessions.create('s1');
  now += (STAFF_IDLE_SECONDS - 60) * 1000;
  t.truthy(await sessions.use(idle.id));
  now += (STAFF_IDLE_SECONDS + 1) * 1000;
  t.is(await sessions.use(idle.id), undefined);

  const busy = await sessions.create('s2');
  const end = now + STAFF_ABSOLUTE_SECONDS * 1000;
  while (now + 10 * 60_000 < end) {
    now += 10 * 60_000;
    t.truthy(await sessions.use(busy.id));
  }
  now = end + 1;
  t.is(await sessions.use(busy.id), undefined);
});
