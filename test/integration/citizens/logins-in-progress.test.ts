import test from 'ava';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { appToken, makePerson, totpCode } from '../../helpers/account-centre.js';
import { errorCode, hidden } from '../../helpers/http-browser.js';
import { beginAuthorization, PORTAL } from '../../helpers/oidc.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { auditOf, createStaff, staffSignIn, type StaffClient } from '../../helpers/staff.js';

/**
 * A login paused after its first factor (at the forced password change or the second
 * factor) ends when the account changes under it: a counter reset, a ban, a deregistration.
 * It never completes, never sets a password over the one staff handed out, and leaves an
 * audit record of the refusal.
 */

const NEW_PASSWORD = 'Quiet-Meadow-Lantern-58';
let server: TestServer;
let agent: StaffClient;

test.before(async () => {
  server = await startServer();
  agent = await staffSignIn(server, await createStaff(server.deps, 'agent.paused', ['agent']));
});
test.after.always(async () => { await server?.close(); });

async function found(person: { phone: string }, id: string): Promise<void> {
  const search = await agent.api('GET', `/citizens?q=${person.phone}`);
  if (search.body.results?.[0]?.id !== id) throw new Error('search did not find the account');
}

/** A portal login paused at `step`, in its own browser. */
async function pausedAt(person: { phone: string }, step: 'password-change' | 'totp') {
  const auth = await beginAuthorization(server.url, PORTAL);
  const page = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: person.phone, password: PASSWORD });
  if (!page.body.includes(`/interaction/${auth.uid}/login/${step}`)) throw new Error(`not paused at ${step}`);
  return { auth, csrf: hidden(page.body, 'csrf') };
}

async function loginRecords(accountId: string) {
  return (await auditOf(server.deps, 'login')).filter((r) => r.target_id === accountId);
}

test('a counter reset ends a login paused at the forced change: it never completes and the reset password stands', async (t) => {
  const person = makePerson();
  const id = await seedAccount(server.deps, person, { mustChange: true });
  const { auth, csrf } = await pausedAt(person, 'password-change');
  await found(person, id);
  const reset = await agent.api('POST', `/citizens/${id}/password-reset`, { name: person.name, id_number: person.idNumber });
  t.is(reset.status, 200);

  const after = await auth.browser.post(`/interaction/${auth.uid}/login/password-change`, { csrf, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
  t.is(after.response.status, 409);
  t.is(errorCode(after.body), 'login_restart');
  t.regex(after.body, /name="identifier"/, 'back at the login form');
  t.false(after.url.includes('code='), 'no code was issued');
  t.false((await loginRecords(id)).some((r) => r.result === 'success'));
  t.true((await loginRecords(id)).some((r) => r.result === 'denied' && r.details.reason === 'credentials_changed'));
  t.false((await auditOf(server.deps, 'password.change')).some((r) => r.target_id === id && r.result === 'success'));

  // The paused step is gone; the password staff handed out is the one that works.
  const again = await auth.browser.post(`/interaction/${auth.uid}/login/password-change`, { csrf, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
  t.is(errorCode(again.body), 'wrong_step');
  const fresh = await beginAuthorization(server.url, PORTAL);
  const withReset = await fresh.browser.post(`/interaction/${fresh.uid}/login/password`, { csrf: fresh.csrf, identifier: person.phone, password: reset.body.password });
  t.true(withReset.body.includes('/login/password-change'), 'the reset password leads to its own forced change');
});

test('a ban ends a login paused at the forced change or at the second factor, with account_banned and nothing recorded as a success', async (t) => {
  const forced = makePerson();
  const forcedId = await seedAccount(server.deps, forced, { mustChange: true });
  const second = makePerson();
  const secondId = await seedAccount(server.deps, second);
  const { accessToken } = await appToken(server, second.phone, PASSWORD);
  const enrol = await fetch(`${server.url}/api/v1/account/totp`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } });
  const secret = (await enrol.json() as { secret: string }).secret;
  const confirm = await fetch(`${server.url}/api/v1/account/totp/confirm`, {
    method: 'POST', headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ code: await totpCode(secret) }),
  });
  t.is(confirm.status, 200);

  const pausedForced = await pausedAt(forced, 'password-change');
  const pausedSecond = await pausedAt(second, 'totp');
  for (const [person, id] of [[forced, forcedId], [second, secondId]] as const) {
    await found(person, id);
    t.is((await agent.api('POST', `/citizens/${id}/ban`, { reason: 'abuse' })).status, 200);
  }
  const a = await pausedForced.auth.browser.post(`/interaction/${pausedForced.auth.uid}/login/password-change`, { csrf: pausedForced.csrf, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
  const b = await pausedSecond.auth.browser.post(`/interaction/${pausedSecond.auth.uid}/login/totp`, { csrf: pausedSecond.csrf, code: await totpCode(secret, 1) });
  for (const [answer, id] of [[a, forcedId], [b, secondId]] as const) {
    t.is(answer.response.status, 403);
    t.is(errorCode(answer.body), 'account_banned');
    t.false((await loginRecords(id)).some((r) => r.result === 'success' && r.details.client_id === PORTAL.client_id));
    t.true((await loginRecords(id)).some((r) => r.result === 'denied' && r.details.reason === 'banned' && r.details.step === 'in_progress'));
  }
  t.false((await auditOf(server.deps, 'password.change')).some((r) => r.target_id === forcedId && r.result === 'success'));
});

test('twenty submissions of a paused forced change racing a reset: none completes, none is a server error', async (t) => {
  const person = makePerson();
  const id = await seedAccount(server.deps, person, { mustChange: true });
  const { auth, csrf } = await pausedAt(person, 'password-change');
  await found(person, id);
  const [reset, ...answers] = await Promise.all([
    agent.api('POST', `/citizens/${id}/password-reset`, { name: person.name, id_number: person.idNumber }),
    ...Array.from({ length: 20 }, () => auth.browser.post(`/interaction/${auth.uid}/login/password-change`, { csrf, password: NEW_PASSWORD, confirm: NEW_PASSWORD })),
  ]);
  t.is(reset!.status, 200);
  t.true(answers.every((answer) => answer.response.status < 500), answers.map((a) => a.response.status).join());
  // Either the reset came first (every submission refused) or one change landed first and
  // the reset then ended everything it made: either way the reset password is the one.
  const fresh = await beginAuthorization(server.url, PORTAL);
  const withReset = await fresh.browser.post(`/interaction/${fresh.uid}/login/password`, { csrf: fresh.csrf, identifier: person.phone, password: reset!.body.password });
  t.true(withReset.body.includes('/login/password-change'));
  const withMine = await beginAuthorization(server.url, PORTAL);
  t.is(errorCode((await withMine.browser.post(`/interaction/${withMine.uid}/login/password`, { csrf: withMine.csrf, identifier: person.phone, password: NEW_PASSWORD })).body), 'login_failed');
});
