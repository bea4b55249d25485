import test, { type ExecutionContext } from 'ava';
import { seedAccount } from '../../helpers/accounts.js';
import { GENEROUS_SMS, latestCode, makePerson } from '../../helpers/account-centre.js';
import { hidden } from '../../helpers/http-browser.js';
import { beginAuthorization, codeFrom, exchangeCode } from '../../helpers/oidc.js';
import { jsonApi } from '../../helpers/json-api.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { auditOf, createStaff, staffSignIn, type StaffClient } from '../../helpers/staff.js';
import { bindWithTicket, boundPerson, codeOf, MINIPROGRAM, wechatFixtures, wechatGrant } from '../../helpers/wechat.js';

/**
 * The acts that take an account back from whoever held its old password (a counter reset,
 * an online recovery, a ban) remove its WeChat bindings with it: someone who knew the old
 * password may have bound their own WeChat. The grant then answers as for an unbound
 * identity, and the person binds again after a normal login.
 */

let server: TestServer;
let fixtures: ReturnType<typeof wechatFixtures>;
let agent: StaffClient;
test.before(async () => {
  fixtures = wechatFixtures(4);
  server = await startServer({ ...GENEROUS_SMS, WECHAT: 'simulator', WECHAT_FIXTURES: fixtures.file });
  agent = await staffSignIn(server, await createStaff(server.deps, 'agent.wechat', ['agent']));
});
test.after.always(async () => {
  await server?.close();
  fixtures?.cleanup();
});

const NEW_PASSWORD = 'Lotus-Harbour-2046';

async function bindingsOf(accountId: string) {
  return server.deps.database.db.selectFrom('wechat_bindings').select('id').where('account_id', '=', accountId).execute();
}

async function refreshStatus(refreshToken: string): Promise<number> {
  const response = await fetch(`${server.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: MINIPROGRAM.client_id }) });
  return response.status;
}

/** A bound person signed in to the mini-program with WeChat: their binding and the mini-program's refresh token. */
async function signedInWithWechat(key: string) {
  const bound = await boundPerson(server, key);
  const tokens = await wechatGrant(server, codeOf(key), { scope: 'openid offline_access' });
  if (tokens.status !== 200) throw new Error(JSON.stringify(tokens.body));
  return { ...bound, refreshToken: tokens.body.refresh_token as string };
}

/** After the act: no binding left, the grant answers unbound, the WeChat login is over, and one wechat.unbind names the act. */
async function unboundBy(t: ExecutionContext, key: string, who: Awaited<ReturnType<typeof signedInWithWechat>>, cause: string) {
  t.deepEqual(await bindingsOf(who.id), []);
  const grant = await wechatGrant(server, codeOf(key));
  t.is(grant.status, 400);
  t.is(grant.body.error, 'wechat_unbound');
  t.regex(grant.body.binding_ticket, /^[A-Za-z0-9_-]{32}$/);
  t.falsy(grant.body.access_token);
  t.is(await refreshStatus(who.refreshToken), 400, 'the mini-program\'s login ended with the act');
  const records = (await auditOf(server.deps, 'wechat.unbind')).filter((r) => r.target_id === who.id);
  t.is(records.length, 1);
  t.like(records[0]?.details, { cause, binding_id: who.binding.id, app_id: who.binding.app_id, openid_masked: who.binding.openid_masked, client_id: MINIPROGRAM.client_id });
  t.is(records[0]?.actor_kind, 'system');
  return grant.body.binding_ticket as string;
}

/** The mini-program's web-view login, through the forced change when staff set the password. */
async function webViewLogin(identifier: string, password: string, newPassword?: string): Promise<string> {
  const auth = await beginAuthorization(server.url, MINIPROGRAM, { scope: 'openid account' });
  let done = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier, password });
  if (newPassword) done = await auth.browser.post(`/interaction/${auth.uid}/login/password-change`, { csrf: hidden(done.body, 'csrf'), password: newPassword, confirm: newPassword });
  const tokens = await exchangeCode(server.url, MINIPROGRAM, codeFrom(done.url, auth.state), auth.verifier);
  if (tokens.status !== 200) throw new Error(JSON.stringify(tokens.body));
  return tokens.body.access_token!;
}

test.serial('a counter reset removes the WeChat binding in its act: the grant answers unbound until the person binds again after the forced change', async (t) => {
  const who = await signedInWithWechat('p0');
  const found = await agent.api('GET', `/citizens?q=${who.person.phone}`);
  t.is(found.body.results?.[0]?.id, who.id);
  const reset = await agent.api('POST', `/citizens/${who.id}/password-reset`, { name: who.person.name, id_number: who.person.idNumber });
  t.is(reset.status, 200, JSON.stringify(reset.body));

  const ticket = await unboundBy(t, 'p0', who, 'account.password_reset');
  // The person, at the mini-program: a normal login with the counter's password and the forced change, then the binding.
  const token = await webViewLogin(who.person.phone, reset.body.password, NEW_PASSWORD);
  const rebound = await fetch(`${server.url}/api/v1/account/wechat`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ binding_ticket: ticket }),
  });
  t.is(rebound.status, 201);
  t.is((await wechatGrant(server, codeOf('p0'))).status, 200);
});

test.serial('an online recovery removes the WeChat binding in its act: the grant answers unbound, and binding again needs a login', async (t) => {
  const who = await signedInWithWechat('p1');
  const recovery = jsonApi(server, '/api/v1/recovery');
  const started = await recovery('POST', '/');
  const holder = { 'x-flow-token': started.body.flow_token as string };
  const flow = `/${started.body.flow_id as string}`;
  t.is((await recovery('POST', `${flow}/identity`, { name: who.person.name, id_number: who.person.idNumber }, holder)).body.state, 'code_sent');
  t.is((await recovery('POST', `${flow}/code`, { code: await latestCode(server, who.person.phone, 'reset') }, holder)).body.state, 'password');
  t.is((await recovery('POST', `${flow}/password`, { password: NEW_PASSWORD }, holder)).body.state, 'complete');

  const ticket = await unboundBy(t, 'p1', who, 'password.recover');
  t.is((await bindWithTicket(server, ticket, who.person.phone, NEW_PASSWORD)).status, 201);
  t.is((await wechatGrant(server, codeOf('p1'))).status, 200);
});

test.serial('a ban removes the WeChat binding in its act, and an account with none writes no unbinding record', async (t) => {
  const who = await signedInWithWechat('p2');
  t.is((await agent.api('GET', `/citizens?q=${who.person.phone}`)).body.results?.[0]?.id, who.id);
  const banned = await agent.api('POST', `/citizens/${who.id}/ban`, { reason: 'identity_fraud', note: '冒用' });
  t.is(banned.status, 200, JSON.stringify(banned.body));
  await unboundBy(t, 'p2', who, 'account.ban');

  // An account bound to no WeChat: its reset records no unbinding.
  const plain = makePerson();
  const plainId = await seedAccount(server.deps, plain);
  t.is((await agent.api('GET', `/citizens?q=${plain.phone}`)).body.results?.[0]?.id, plainId);
  t.is((await agent.api('POST', `/citizens/${plainId}/password-reset`, { name: plain.name, id_number: plain.idNumber })).status, 200);
  t.true((await auditOf(server.deps, 'account.password_reset')).some((r) => r.target_id === plainId && r.result === 'success'));
  t.is((await auditOf(server.deps, 'wechat.unbind')).filter((r) => r.target_id === plainId).length, 0);
});
