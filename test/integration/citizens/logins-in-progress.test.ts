import test, { type ExecutionContext } from 'ava';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { appToken, GENEROUS_SMS, latestCode, makePerson, totpCode } from '../../helpers/account-centre.js';
import { jsonApi } from '../../helpers/json-api.js';
import { errorCode, hidden, type HttpBrowser } from '../../helpers/http-browser.js';
import { beginAuthorization, PORTAL } from '../../helpers/oidc.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { auditOf, createStaff, staffSignIn, type StaffClient } from '../../helpers/staff.js';

/**
 * A login paused after its first factor (at the forced password change or the second
 * factor) ends when the account changes under it: a counter reset, a ban, a deregistration,
 * a recovery. It never completes, never sets a password over the one staff handed out or
 * the person recovered, and leaves an audit record of the refusal.
 */

const NEW_PASSWORD = 'Quiet-Meadow-Lantern-58';
let server: TestServer;
let agent: StaffClient;

test.before(async () => {
  // Deregistration and recovery send codes from this one address.
  server = await startServer(GENEROUS_SMS);
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

/** A person with an app token for the account API, and with two-step verification on. */
async function withTotp() {
  const person = makePerson();
  const id = await seedAccount(server.deps, person);
  const { accessToken } = await appToken(server, person.phone, PASSWORD);
  const enrol = await fetch(`${server.url}/api/v1/account/totp`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } });
  const secret = (await enrol.json() as { secret: string }).secret;
  const confirm = await fetch(`${server.url}/api/v1/account/totp/confirm`, {
    method: 'POST', headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ code: await totpCode(secret) }),
  });
  if (confirm.status !== 200) throw new Error(`TOTP not enabled: ${confirm.status}`);
  return { person, id, secret, accessToken };
}

/** A person with an app token, whose next login must change the password first. */
async function mustChange() {
  const person = makePerson();
  const id = await seedAccount(server.deps, person);
  const { accessToken } = await appToken(server, person.phone, PASSWORD);
  await server.deps.accounts.update(id, { password_must_change: true });
  return { person, id, accessToken };
}

/** One login paused at the forced change and one at the second factor; `resume()` posts each paused step. */
async function twoPausedLogins() {
  const forced = await mustChange();
  const second = await withTotp();
  const pausedForced = await pausedAt(forced.person, 'password-change');
  const pausedSecond = await pausedAt(second.person, 'totp');
  return {
    forced,
    second,
    resume: async () => [
      [await pausedForced.auth.browser.post(`/interaction/${pausedForced.auth.uid}/login/password-change`, { csrf: pausedForced.csrf, password: NEW_PASSWORD, confirm: NEW_PASSWORD }), forced.id],
      [await pausedSecond.auth.browser.post(`/interaction/${pausedSecond.auth.uid}/login/totp`, { csrf: pausedSecond.csrf, code: await totpCode(second.secret, 1) }), second.id],
    ] as const,
  };
}

/** The paused step answered `code`, sent back to the login form, with the refusal on record and no success. */
async function endedWith(t: ExecutionContext, answer: Awaited<ReturnType<HttpBrowser['post']>>, id: string, code: string, reason: string, status: number) {
  t.is(answer.response.status, status);
  t.is(errorCode(answer.body), code);
  t.false(answer.url.includes('code='), 'no code was issued');
  t.false((await loginRecords(id)).some((r) => r.result === 'success' && r.details.client_id === PORTAL.client_id));
  t.true((await loginRecords(id)).some((r) => r.result === 'denied' && r.details.reason === reason && r.details.step === 'in_progress'));
  t.false((await auditOf(server.deps, 'password.change')).some((r) => r.target_id === id && r.details.reason === 'forced_change' && r.result === 'success'));
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

test('a counter reset landing after the last step, before the browser is back at the provider, leaves no session: login_restart at the resume', async (t) => {
  const person = makePerson();
  const id = await seedAccount(server.deps, person);
  const auth = await beginAuthorization(server.url, PORTAL);
  // The last step answers with the way back to the provider; the browser has not followed it yet.
  const done = await auth.browser.request(`/interaction/${auth.uid}/login/password`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf: auth.csrf, identifier: person.phone, password: PASSWORD }),
  });
  const resume = done.headers.get('location') ?? '';
  t.regex(resume, new RegExp(`/auth/${auth.uid}$`));
  await found(person, id);
  t.is((await agent.api('POST', `/citizens/${id}/password-reset`, { name: person.name, id_number: person.idNumber })).status, 200);

  const back = await auth.browser.get(resume);
  t.is(errorCode(back.body), 'login_restart');
  t.false(back.url.includes('code='), 'no code was issued');
  t.true((await loginRecords(id)).some((r) => r.result === 'denied' && r.details.reason === 'credentials_changed' && r.details.step === 'resume'));
  t.deepEqual(await server.deps.accountSessions.list(id), [], 'no session was made');
});

test('a ban ends a login paused at the forced change or at the second factor, with account_banned and nothing recorded as a success', async (t) => {
  const paused = await twoPausedLogins();
  for (const { person, id } of [paused.forced, paused.second]) {
    await found(person, id);
    t.is((await agent.api('POST', `/citizens/${id}/ban`, { reason: 'abuse' })).status, 200);
  }
  for (const [answer, id] of await paused.resume()) await endedWith(t, answer, id, 'account_banned', 'banned', 403);
});

test('a deregistration ends a login paused at the forced change or at the second factor: login_restart, nothing recorded as a success', async (t) => {
  const paused = await twoPausedLogins();
  for (const { person, accessToken } of [paused.forced, paused.second]) {
    const account = jsonApi(server, '/api/v1/account');
    const bearer = { authorization: `Bearer ${accessToken}` };
    t.is((await account('POST', '/codes', { operation: 'deregister' }, bearer)).status, 200);
    const deregistered = await fetch(`${server.url}/api/v1/account/deregister`, {
      method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: JSON.stringify({ code: await latestCode(server, person.phone, 'verify') }),
    });
    t.is(deregistered.status, 204);
  }
  for (const [answer, id] of await paused.resume()) await endedWith(t, answer, id, 'login_restart', 'account_gone', 409);
});

test('a recovery ends a login paused at the forced change or at the second factor: login_restart, and the recovered password is the one that works', async (t) => {
  const paused = await twoPausedLogins();
  const recovered = 'Harbour-Lamp-Quince-73';
  const recovery = jsonApi(server, '/api/v1/recovery');
  for (const { person } of [paused.forced, paused.second]) {
    const started = await recovery('POST', '/');
    const holder = { 'x-flow-token': started.body.flow_token as string };
    const flow = `/${started.body.flow_id as string}`;
    t.is((await recovery('POST', `${flow}/identity`, { name: person.name, id_number: person.idNumber }, holder)).body.state, 'code_sent');
    t.is((await recovery('POST', `${flow}/code`, { code: await latestCode(server, person.phone, 'reset') }, holder)).body.state, 'password');
    t.is((await recovery('POST', `${flow}/password`, { password: recovered }, holder)).body.state, 'complete');
  }
  for (const [answer, id] of await paused.resume()) await endedWith(t, answer, id, 'login_restart', 'credentials_changed', 409);
  const fresh = await beginAuthorization(server.url, PORTAL);
  const withRecovered = await fresh.browser.post(`/interaction/${fresh.uid}/login/password`, { csrf: fresh.csrf, identifier: paused.forced.person.phone, password: recovered });
  t.true(withRecovered.url.includes('code='), 'the recovered password signs in, with no forced change left');
});

test('twenty submissions of a paused forced change racing a reset: at most one completes, and only ahead of the reset; none is a server error; the reset password stands', async (t) => {
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
  // The change is written only over the credentials the paused login saw, on the locked row:
  // if the reset came first every submission is refused; otherwise one change lands ahead of
  // it (the others meet the changed credentials) and the reset then replaces that password.
  t.true(answers.filter((answer) => answer.url.includes('code=')).length <= 1, 'at most one submission completes the login');
  const changes = (await auditOf(server.deps, 'password.change')).filter((r) => r.target_id === id && r.result === 'success');
  t.true(changes.length <= 1);
  const [resetRecord] = (await auditOf(server.deps, 'account.password_reset')).filter((r) => r.target_id === id && r.result === 'success');
  t.true(changes.every((change) => Number(change.seq) < Number(resetRecord!.seq)), 'a change that landed, landed before the reset');
  const fresh = await beginAuthorization(server.url, PORTAL);
  const withReset = await fresh.browser.post(`/interaction/${fresh.uid}/login/password`, { csrf: fresh.csrf, identifier: person.phone, password: reset!.body.password });
  t.true(withReset.body.includes('/login/password-change'));
  const withMine = await beginAuthorization(server.url, PORTAL);
  t.is(errorCode((await withMine.browser.post(`/interaction/${withMine.uid}/login/password`, { csrf: withMine.csrf, identifier: person.phone, password: NEW_PASSWORD })).body), 'login_failed');
});
