import { readFileSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import { decodeJwt } from 'jose';
import { StoreUnavailableError } from '../../src/store/faults.js';
import { makePerson } from '../helpers/account-centre.js';
import { PASSWORD, seedAccount } from '../helpers/accounts.js';
import { asPortal, citizen, days, delegationApi, portal, portalLoginAs, seedEnterprise } from '../helpers/delegation.js';
import { PORTAL, passwordLogin } from '../helpers/oidc.js';
import { LOCAL_RELYING_PARTIES, LogoutReceiver, writeClientsFile } from '../helpers/relying-party.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createStaff, staffSignIn, type StaffClient } from '../helpers/staff.js';

/**
 * What an act ends (a ban, a reset, a cancelled grant) is written with the act, so that a
 * store fault between the commit and the sign-out leaves the act done and its logins ended
 * soon after, never alive. The fault is injected at exactly the sign-out (stopping a store
 * would fail the act itself first, which is store-faults.test.ts's matter), by wrapping the
 * one method of `server.deps` it calls.
 */

let server: TestServer;
let receiver: LogoutReceiver;
let agent: StaffClient;

test.before(async () => {
  receiver = await LogoutReceiver.start();
  const clients = (JSON.parse(readFileSync('config/clients.json', 'utf8')) as Array<Record<string, unknown>>)
    .map((client) => (client.client_id === 'portal' ? { ...client, backchannel_logout_uri: receiver.uri('/portal') } : client));
  server = await startServer({ CLIENTS_FILE: writeClientsFile(clients), LOGOUT_RETRY_SECONDS: '1', ...LOCAL_RELYING_PARTIES });
  agent = await staffSignIn(server, await createStaff(server.deps, 'agent-outbox', ['agent']));
});
test.after.always(async () => {
  await server?.close();
  await receiver?.close();
});

/** Until healed (or the test ends), `object[method]` fails as a store outage does. */
function breakUntilHealed<T extends object>(t: ExecutionContext, object: T, method: keyof T): () => void {
  const original = object[method];
  object[method] = (async () => { throw new StoreUnavailableError('cache'); }) as T[keyof T];
  const heal = () => { object[method] = original; };
  t.teardown(heal);
  return heal;
}

const waiting = () => server.deps.database.db.selectFrom('logout_outbox').select('id').execute();

/** Waits (not a timing assertion: a deadline only against hanging) until the outbox has nothing left. */
async function outboxEmptied(): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await waiting()).length > 0) {
    if (Date.now() > deadline) throw new Error('the outbox was not emptied');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The portal refreshing with `token`. */
const refreshAtPortal = (token: string) => asPortal(server, '/token', { grant_type: 'refresh_token', refresh_token: token });

/** A citizen signed in at the portal with an offline login; found by the agent's search. */
async function signedInCitizen() {
  const person = makePerson();
  const id = await seedAccount(server.deps, person);
  const login = await passwordLogin(server.url, PORTAL, person.phone, PASSWORD, { scope: 'openid offline_access', prompt: 'consent' });
  if (login.tokens.status !== 200 || !login.tokens.body.refresh_token) throw new Error(`login: ${JSON.stringify(login.tokens.body)}`);
  const found = await agent.api('GET', `/citizens?q=${person.phone}`);
  if (found.body.results?.[0]?.id !== id) throw new Error('search did not find the seeded account');
  return { person, id, refresh: login.tokens.body.refresh_token, sid: decodeJwt(login.tokens.body.id_token!).sid };
}

const auditedEnds = (accountId: string, cause: string) => server.deps.database.db.selectFrom('audit_log').select(['details'])
  .where('action', '=', 'session.revoke_all').where('target_id', '=', accountId).execute()
  .then((rows) => rows.filter((row) => (row.details as { cause?: string }).cause === cause));

// The tests replace methods of one server's dependencies, so they run one at a time.

test.serial('a counter reset whose sign-out meets a store fault is done, says the logins are pending, and the outbox ends them once the store is back', async (t) => {
  const { person, id, refresh, sid } = await signedInCitizen();
  const heal = breakUntilHealed(t, server.deps.accountSessions, 'revokeAll');
  const before = receiver.to('/portal').length;

  const reset = await agent.api('POST', `/citizens/${id}/password-reset`, { name: person.name, id_number: person.idNumber });
  t.is(reset.status, 200, JSON.stringify(reset.body));
  t.true(reset.body.logins_pending, 'the answer says the sign-out is still under way');
  t.is((await waiting()).length, 1, 'the sign-out is kept with the reset');
  t.is((await auditedEnds(id, 'account.password_reset')).length, 0);
  t.regex(await (await fetch(`${server.url}/metrics`)).text(), /^civic_logout_outbox_waiting 1$/m, 'operators see it wait');

  heal();
  await outboxEmptied();
  t.is((await refreshAtPortal(refresh)).body.error, 'invalid_grant', 'the offline login made with the old password is gone');
  const told = (await receiver.waitFor('/portal', before + 1)).slice(before).map((d) => decodeJwt(d.logoutToken));
  t.deepEqual(told.map((claims) => [claims.sub, claims.sid]), [[id, sid]]);
  const audited = await auditedEnds(id, 'account.password_reset');
  t.is(audited.length, 1, 'recorded once, when it was done');
  t.true((audited[0]!.details as { sessions: number }).sessions >= 1, 'with what it ended');
  t.regex(await (await fetch(`${server.url}/metrics`)).text(), /^civic_logout_outbox_waiting 0$/m);
});

test.serial('a ban without a fault ends everything within the request and leaves nothing in the outbox', async (t) => {
  const { id, refresh } = await signedInCitizen();
  const banned = await agent.api('POST', `/citizens/${id}/ban`, { reason: 'abuse' });
  t.is(banned.status, 200);
  t.is(banned.body.logins_pending, undefined);
  t.true(banned.body.revoked_grants >= 1);
  t.deepEqual(await waiting(), []);
  t.is((await refreshAtPortal(refresh)).body.error, 'invalid_grant');
  t.is((await auditedEnds(id, 'account.ban')).length, 1);
});

test.serial('a cancelled grant whose logins could not be ended at once is ended by the outbox, and the portal is told', async (t) => {
  const rep = await citizen(server);
  const delegate = await citizen(server);
  const enterprise = await seedEnterprise(server, rep);
  const granted = await delegationApi(server, rep.token, 'POST', '', { enterprise_id: enterprise.id, grantee: { phone: delegate.phone }, scope: portal('tax.declare'), valid_until: days(30), may_redelegate: false });
  t.is(granted.status, 201);
  // The delegate's login acting for the enterprise at the portal.
  const login = await portalLoginAs(server, delegate.phone, (offered) => offered.find((option) => option.startsWith(enterprise.id))!);
  t.is(login.tokens.status, 200, JSON.stringify(login.tokens.body));
  t.is(decodeJwt(login.tokens.body.id_token!).entity_type, 'legal');
  const heal = breakUntilHealed(t, server.deps.accountSessions, 'endLogins');
  const before = receiver.to('/portal').length;

  t.is((await delegationApi(server, rep.token, 'POST', `/${granted.body.id as string}/cancel`, {})).status, 200);
  t.is((await waiting()).length, 1);
  // The grant is cancelled: the token is refused at use already, before the outbox has run.
  t.is((await refreshAtPortal(login.tokens.body.refresh_token!)).status, 400);

  heal();
  await outboxEmptied();
  const told = (await receiver.waitFor('/portal', before + 1)).slice(before).map((d) => decodeJwt(d.logoutToken));
  t.deepEqual(told.map((claims) => claims.sub), [delegate.accountId]);
});

test.serial('twenty instances sweeping at once end each waiting job once', async (t) => {
  const accounts = await Promise.all(Array.from({ length: 3 }, () => signedInCitizen()));
  const { db } = server.deps.database;
  // Jobs an act wrote before its process died: due now, never settled.
  await db.transaction().execute(async (trx) => {
    for (const { id } of accounts) {
      await server.deps.logouts.enqueue(trx, { kind: 'account', account_id: id }, { actor: { kind: 'system' }, action: 'session.revoke_all', target: { kind: 'account', id }, details: { cause: 'sweep-test' }, meta: {} });
    }
  });
  await db.updateTable('logout_outbox').set({ due_at: new Date(Date.now() - 1000) }).execute();

  // The server's own sweep may take part too: what counts is that each job is done once.
  await Promise.all(Array.from({ length: 20 }, () => server.deps.logouts.sweep()));
  await outboxEmptied();
  for (const { id, refresh } of accounts) {
    t.is((await auditedEnds(id, 'sweep-test')).length, 1, 'each recorded once');
    t.is((await refreshAtPortal(refresh)).body.error, 'invalid_grant');
  }
});
