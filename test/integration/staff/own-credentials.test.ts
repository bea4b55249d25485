import test from 'ava';
import { sql } from 'kysely';
import { errorCode, HttpBrowser } from '../../helpers/http-browser.js';
import { isolatedEnv } from '../../helpers/env.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { apiSignIn, auditOf, completeFirstSignIn, createStaff, ownPassword, staffSignIn, totpCode, type StaffClient } from '../../helpers/staff.js';

/**
 * Credentials known only to their holder: what an admin hands over opens one thing, the
 * page where the holder replaces it, and stops working once they have; a password expires
 * after STAFF_PASSWORD_MAX_AGE_DAYS; a member changes either whenever they like.
 */

let server: TestServer;
let admin: StaffClient;
test.before(async () => {
  server = await startServer({ STAFF_PASSWORD_MAX_AGE_DAYS: '30' });
  admin = await staffSignIn(server, await createStaff(server.deps, 'admin.hands', ['admin']));
});
test.after.always(async () => { await server?.close(); });

async function refusals(staffId: string) {
  return (await auditOf(server.deps, 'staff.credentials.required')).filter((r) => r.actor_id === staffId && r.result === 'denied');
}

test.serial('a member created by an admin acts on nothing before replacing the handed-over password and authenticator; then the admin cannot sign in as them', async (t) => {
  const created = await admin.api('POST', '/staff', { username: 'agent.fresh', display_name: '新窗口', roles: ['agent'] });
  t.is(created.status, 201);
  t.true(created.body.must_change);
  const handed = { username: 'agent.fresh', password: created.body.password as string, totpSecret: new URL(created.body.otpauth_uri).searchParams.get('secret')! };
  const id = created.body.id as string;

  const first = await apiSignIn(server, handed);
  t.is(first.next, 'credentials');
  const member = first.client;
  t.like((await member.api('GET', '/session')).body, { credentials_change_required: true });
  // Every other route refuses, with its stable code, and each refusal is in the log.
  for (const [method, path] of [['GET', '/approvals'], ['GET', '/citizens?q=13800138000'], ['POST', '/counter/registrations']] as const) {
    const refused = await member.api(method, path, method === 'POST' ? { name: '黄丽', id_number: '310104200002290866', phone: '13900000009' } : undefined);
    t.is(refused.status, 403, path);
    t.is(refused.body.error, 'credentials_change_required', path);
  }
  t.is((await refusals(id)).length, 3);
  // The pages too: every page sends the member to the one that replaces them, and a form post is refused.
  const page = await member.browser.request('/admin/citizens');
  t.is(page.headers.get('location'), '/admin/credentials');
  const form = await member.browser.post('/admin/counter/register', { csrf: member.csrf, name: '黄丽', id_number: '310104200002290866', phone: '13900000009' });
  t.is(errorCode(form.body), 'credentials_change_required');
  t.is((await refusals(id)).length, 5);

  // Someone else holding the same handed-over credentials (the admin who created them) gets the same restricted session.
  const other = await apiSignIn(server, handed, 1);
  t.is(other.next, 'credentials');

  t.like((await member.api('GET', '/credentials')).body, { password_change_required: true, authenticator_enrolment_required: true, password_expired: false });
  const enrolment = await member.api('POST', '/credentials/authenticator');
  t.is(enrolment.status, 201);
  const secret = enrolment.body.secret as string;
  const own = ownPassword();
  // Both are due: the password alone is refused; a wrong current password, a weak new one, a wrong code too; each audited.
  t.like((await member.api('POST', '/credentials', { current_password: handed.password, new_password: own })).body, { error: 'invalid_input' });
  t.is((await member.api('POST', '/credentials', { current_password: 'not-it-at-all', new_password: own, code: await totpCode(secret) })).body.error, 'password_incorrect');
  t.is((await member.api('POST', '/credentials', { current_password: handed.password, new_password: 'password', code: await totpCode(secret) })).body.error, 'weak_password');
  t.is((await member.api('POST', '/credentials', { current_password: handed.password, new_password: handed.password, code: await totpCode(secret) })).body.error, 'weak_password');
  t.is((await member.api('POST', '/credentials', { current_password: handed.password, new_password: own, code: '000000' })).body.error, 'totp_invalid');
  const failed = (await auditOf(server.deps, 'staff.credentials.change')).filter((r) => r.actor_id === id && r.result !== 'success');
  t.deepEqual(failed.map((r) => r.details.reason).sort(), ['invalid_input', 'password_incorrect', 'totp_invalid', 'weak_password', 'weak_password']);

  const done = await member.api('POST', '/credentials', { current_password: handed.password, new_password: own, code: await totpCode(secret, -1) });
  t.is(done.status, 200, JSON.stringify(done.body));
  t.like(done.body, { password_changed: true, authenticator_changed: true, password_change_required: false, authenticator_enrolment_required: false });
  t.like((await auditOf(server.deps, 'staff.credentials.change')).at(-1), { actor_id: id, result: 'success', details: { password_replaced: true, authenticator_replaced: true, was_due: 'first_sign_in' } });
  // The session it was done in goes on, now free to act; the other one opened with the handed-over credentials has ended.
  t.is((await member.api('GET', '/approvals')).status, 200);
  t.is((await other.client.api('GET', '/session')).status, 401);

  // Nobody but the holder: the handed-over password fails, and so does the handed-over secret behind the right password.
  const browser = new HttpBrowser(server.url);
  t.is(errorCode((await browser.post('/admin/login', { username: handed.username, password: handed.password })).body), 'login_failed');
  const pending = await browser.post('/admin/login', { username: handed.username, password: own });
  t.true(pending.url.endsWith('/admin/login/totp'));
  t.is(errorCode((await browser.post('/admin/login/totp', { code: await totpCode(handed.totpSecret, 1) })).body), 'totp_invalid');
  const holder = await apiSignIn(server, { ...handed, password: own, totpSecret: secret });
  t.is(holder.next, 'session');
  t.like((await admin.api('GET', '/staff')).body.staff.find((s: { id: string }) => s.id === id), { credentials: 'set', status: 'active' });
});

/** A member the admin creates in the console, with what is handed over. */
async function handedOver(username: string) {
  const created = await admin.api('POST', '/staff', { username, roles: ['agent'] });
  if (created.status !== 201) throw new Error(`${username}: ${created.status} ${JSON.stringify(created.body)}`);
  const otpauthUri = created.body.otpauth_uri as string;
  return { id: created.body.id as string, username, roles: ['agent' as const], password: created.body.password as string, otpauthUri, totpSecret: new URL(otpauthUri).searchParams.get('secret')!, mustChange: true };
}

test.serial('the admin who created a member cannot do the member\'s first sign-in in the browser where the admin is signed in: refused, audited; the member\'s own browser can', async (t) => {
  const adminId = (await admin.api('GET', '/session')).body.staff.id as string;
  const handed = await handedOver('agent.sealed');
  const refusals = async () => (await auditOf(server.deps, 'staff.login')).filter((r) => r.target_id === handed.id && r.result === 'denied');

  const page = await admin.browser.post('/admin/login', { username: handed.username, password: handed.password });
  t.is(errorCode(page.body), 'staff_first_sign_in_by_creator');
  t.false(page.url.endsWith('/admin/login/totp'), 'no second step');
  const api = await admin.browser.request('/api/v1/admin/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: handed.username, password: handed.password }) });
  t.is(api.status, 403);
  t.is((await api.json() as { error: string }).error, 'staff_first_sign_in_by_creator');
  const recorded = await refusals();
  t.is(recorded.length, 2);
  t.like(recorded[0], { actor_kind: 'staff', actor_id: adminId, target_kind: 'staff', details: { step: 'password', reason: 'staff_first_sign_in_by_creator', username: handed.username } });
  t.is((await admin.api('GET', '/session')).status, 200, 'the admin\'s own session goes on');

  // Another admin's browser is not the creator's; the member's own browser signs in; a wrong password is still only login_failed.
  const colleague = await staffSignIn(server, await createStaff(server.deps, 'admin.colleague', ['admin']));
  t.regex((await colleague.browser.post('/admin/login', { username: handed.username, password: handed.password })).url, /\/admin\/login\/totp$/);
  t.is(errorCode((await admin.browser.post('/admin/login', { username: handed.username, password: 'not-the-password' })).body), 'login_failed');
  t.is((await apiSignIn(server, handed)).next, 'credentials');
  t.is((await refusals()).filter((r) => r.details.reason === 'staff_first_sign_in_by_creator').length, 2);
});

test.serial('a member\'s first credential change records who handed the credentials over and whether it came from that admin\'s address', async (t) => {
  const adminId = (await admin.api('GET', '/session')).body.staff.id as string;
  const change = async (id: string) => (await auditOf(server.deps, 'staff.credentials.change')).filter((r) => r.actor_id === id && r.result === 'success').at(-1);

  // Signed in and changed from the machine the admin created the member from.
  const near = await handedOver('agent.near');
  const { client } = await apiSignIn(server, near);
  const enrolment = await client.api('POST', '/credentials/authenticator');
  const own = ownPassword();
  t.is((await client.api('POST', '/credentials', { current_password: near.password, new_password: own, code: await totpCode(enrolment.body.secret) })).status, 200);
  const nearRecord = await change(near.id);
  t.like(nearRecord, { details: { was_due: 'first_sign_in', handed_over_by: adminId, handed_over_by_username: 'admin.hands', from_creator_address: true } });
  t.is(nearRecord?.ip, (await auditOf(server.deps, 'staff.create')).find((r) => r.target_id === near.id)?.ip, 'the record carries where it came from');

  // From an address the admin has not used.
  const far = await handedOver('agent.far');
  await completeFirstSignIn(server.deps, far, { ip: '198.51.100.7' });
  t.like(await change(far.id), { ip: '198.51.100.7', details: { was_due: 'first_sign_in', handed_over_by: adminId, from_creator_address: false } });

  // A later change, and the first one of a member made at the command line, name no hand-over.
  const later = await client.api('POST', '/credentials/authenticator');
  t.is((await client.api('POST', '/credentials', { current_password: own, code: await totpCode(later.body.secret) })).status, 200);
  t.like(await change(near.id), { details: { was_due: 'none', authenticator_replaced: true } });
  t.false('handed_over_by' in (await change(near.id))!.details);
  const cli = await createStaff(server.deps, 'agent.cli', ['agent']);
  t.like(await change(cli.id), { details: { was_due: 'first_sign_in' } });
  t.false('handed_over_by' in (await change(cli.id))!.details);
});

test.serial('twenty replacements at once from the holder\'s and another session of the handed-over credentials: exactly one takes effect, and only its password opens the account', async (t) => {
  const created = await admin.api('POST', '/staff', { username: 'agent.raced', display_name: '并发窗口', roles: ['agent'] });
  const handed = { username: 'agent.raced', password: created.body.password as string, totpSecret: new URL(created.body.otpauth_uri).searchParams.get('secret')! };
  const sessions = [(await apiSignIn(server, handed)).client, (await apiSignIn(server, handed, 1)).client];
  const secrets = await Promise.all(sessions.map(async (session) => (await session.api('POST', '/credentials/authenticator')).body.secret as string));
  const tries = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    const session = i % 2;
    const password = ownPassword();
    const answer = await sessions[session]!.api('POST', '/credentials', { current_password: handed.password, new_password: password, code: await totpCode(secrets[session]!, -1) });
    return { session, password, answer };
  }));
  const won = tries.filter((attempt) => attempt.answer.status === 200);
  t.is(won.length, 1, JSON.stringify(tries.map((attempt) => attempt.answer.body.error ?? attempt.answer.status)));
  const successes = (await auditOf(server.deps, 'staff.credentials.change')).filter((r) => r.actor_id === created.body.id && r.result === 'success');
  t.is(successes.length, 1);
  const winner = won[0]!;
  t.is((await apiSignIn(server, { ...handed, password: winner.password, totpSecret: secrets[winner.session]! }, 1)).next, 'session');
  for (const loser of tries.filter((attempt) => attempt !== winner).slice(0, 3)) {
    t.is(errorCode((await new HttpBrowser(server.url).post('/admin/login', { username: handed.username, password: loser.password })).body), 'login_failed');
  }
});

test.serial('a password older than STAFF_PASSWORD_MAX_AGE_DAYS must be changed at the next sign-in, before any act', async (t) => {
  const member = await createStaff(server.deps, 'head.expired', ['supervisor']);
  t.is((await apiSignIn(server, member)).next, 'session');
  await sql`update staff_accounts set password_changed_at = now() - interval '31 days' where id = ${member.id}`.execute(server.deps.database.db);
  t.like((await admin.api('GET', '/staff')).body.staff.find((s: { id: string }) => s.id === member.id), { credentials: 'password_expired' });

  const { next, client } = await apiSignIn(server, member, 1);
  t.is(next, 'credentials');
  t.is((await client.api('GET', '/approvals')).body.error, 'credentials_change_required');
  t.like((await client.api('GET', '/credentials')).body, { password_change_required: true, password_expired: true, authenticator_enrolment_required: false });
  const own = ownPassword();
  const changed = await client.api('POST', '/credentials', { current_password: member.password, new_password: own });
  t.is(changed.status, 200, JSON.stringify(changed.body));
  t.like(changed.body, { password_changed: true, authenticator_changed: false, password_expired: false });
  t.true(Date.parse(changed.body.password_expires_at) > Date.now() + 29 * 86_400_000);
  t.is((await client.api('GET', '/approvals')).status, 200);
  t.like((await auditOf(server.deps, 'staff.credentials.change')).at(-1), { actor_id: member.id, details: { was_due: 'password_expired', password_replaced: true, authenticator_replaced: false } });
});

test.serial('a member changes their authenticator whenever they like: the old one stops working and their other sessions end', async (t) => {
  const member = await createStaff(server.deps, 'auditor.careful', ['auditor']);
  const here = await staffSignIn(server, member);
  const elsewhere = await staffSignIn(server, member, 1);
  const enrolment = await here.api('POST', '/credentials/authenticator');
  const changed = await here.api('POST', '/credentials', { current_password: member.password, code: await totpCode(enrolment.body.secret, -1) });
  t.like(changed.body, { password_changed: false, authenticator_changed: true });
  t.is((await here.api('GET', '/audit?action=staff.')).status, 200);
  t.is((await elsewhere.api('GET', '/audit?action=staff.')).status, 401);
  const browser = new HttpBrowser(server.url);
  await browser.post('/admin/login', { username: member.username, password: member.password });
  t.is(errorCode((await browser.post('/admin/login/totp', { code: await totpCode(member.totpSecret, 1) })).body), 'totp_invalid');
  // A change needs the current password: an open session is not enough.
  t.is((await here.api('POST', '/credentials', { current_password: 'wrong-password-9', new_password: ownPassword() })).body.error, 'password_incorrect');
});

test('STAFF_PASSWORD_MAX_AGE_DAYS is 90 days unless set', (t) => {
  const env = isolatedEnv({ database: 'embedded', cache: 'embedded' });
  t.is(env.config().staffPasswordMaxAgeDays, 90);
  t.is(env.config({ STAFF_PASSWORD_MAX_AGE_DAYS: '60' }).staffPasswordMaxAgeDays, 60);
  t.throws(() => env.config({ STAFF_PASSWORD_MAX_AGE_DAYS: '0' }), { message: /STAFF_PASSWORD_MAX_AGE_DAYS/ });
});
