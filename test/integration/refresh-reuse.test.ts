import test from 'ava';
import { sql } from 'kysely';
import { ZHANG_SAN, PASSWORD, seedAccount } from '../helpers/accounts.js';
import { APP, passwordLogin } from '../helpers/oidc.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * The app's refresh token rotates on every use. A refresh whose answer was lost, or sent
 * twice at once, must not cost the citizen their login: within the reuse interval the
 * rotated token is answered again with the same successor. A replay after that (or after
 * the successor was used) still revokes the login.
 */

let server: TestServer;
let accountId: string;
test.before(async () => {
  server = await startServer({ LOGIN_CAPTCHA_AFTER_FAILURES: '1000', REFRESH_TOKEN_REUSE_SECONDS: '30' });
  accountId = await seedAccount(server.deps, ZHANG_SAN);
});
test.after.always(async () => { await server?.close(); });

async function refresh(token: string) {
  const response = await fetch(`${server.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, client_id: APP.client_id }) });
  return { status: response.status, body: await response.json() as Record<string, string> };
}

async function appLogin() {
  const { tokens } = await passwordLogin(server.url, APP, ZHANG_SAN.phone, PASSWORD);
  if (tokens.status !== 200) throw new Error(JSON.stringify(tokens.body));
  return tokens.body;
}

const userinfo = (accessToken: string) => fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${accessToken}` } }).then((r) => r.status);

async function records(action: string) {
  return server.deps.database.db.selectFrom('audit_log').selectAll().where('action', '=', action).where('target_id', '=', accountId).execute();
}

/** The refresh tokens of a grant that are not rotated yet: one, unless the family forked. */
async function liveTokens(grantOf: string) {
  const row = await server.deps.database.db.selectFrom('oidc_artifacts').select('grant_id').where('model', '=', 'RefreshToken').where('id', '=', grantOf).executeTakeFirstOrThrow();
  return server.deps.database.db.selectFrom('oidc_artifacts').select('id')
    .where('model', '=', 'RefreshToken').where('grant_id', '=', row.grant_id).where('consumed_at', 'is', null).execute();
}

test.serial('a refresh presented again within the reuse interval gets the same successor and a working access token', async (t) => {
  const first = await appLogin();
  const rotated = await refresh(first.refresh_token!);
  t.is(rotated.status, 200);
  const retried = await refresh(first.refresh_token!);
  t.is(retried.status, 200, JSON.stringify(retried.body));
  t.is(retried.body.refresh_token, rotated.body.refresh_token, 'the same successor, never a second one');
  t.not(retried.body.access_token, rotated.body.access_token);
  t.is(await userinfo(retried.body.access_token!), 200);
  t.deepEqual((await liveTokens(first.refresh_token!)).map((row) => row.id), [rotated.body.refresh_token]);
  t.true((await records('token.refresh_retry')).some((r) => r.details.client_id === APP.client_id), 'the second presentation is on record');

  const next = await refresh(retried.body.refresh_token!);
  t.is(next.status, 200, 'the login goes on');
  t.is(await userinfo(next.body.access_token!), 200);
});

test.serial('twenty refreshes at once with the same token: one successor for all, and the login survives', async (t) => {
  const first = await appLogin();
  const reusesBefore = (await records('token.refresh_reuse')).length;
  // Some arrive together, some a moment after the first rotation is done.
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => new Promise((resolve) => setTimeout(resolve, (i % 3) * 15)).then(() => refresh(first.refresh_token!))));
  const issued = answers.filter((a) => a.status === 200);
  t.is(issued.length, answers.length, JSON.stringify(answers));
  t.is(new Set(issued.map((a) => a.body.refresh_token)).size, 1, 'every answer carries the same successor');
  t.is((await liveTokens(first.refresh_token!)).length, 1, 'the family did not fork');
  t.is((await records('token.refresh_reuse')).length, reusesBefore, 'nothing was taken for a replay');

  const next = await refresh(issued[0]!.body.refresh_token!);
  t.is(next.status, 200, 'the login survived');
});

test.serial('the rotated token after its successor was used is a replay: the login is revoked and audited', async (t) => {
  const first = await appLogin();
  const rotated = await refresh(first.refresh_token!);
  const next = await refresh(rotated.body.refresh_token!);
  t.is(next.status, 200);
  const reusesBefore = (await records('token.refresh_reuse')).length;
  t.is((await refresh(first.refresh_token!)).body.error, 'invalid_grant');
  t.is((await refresh(next.body.refresh_token!)).body.error, 'invalid_grant', 'the whole family is revoked');
  t.is(await userinfo(next.body.access_token!), 401);
  const reuses = await records('token.refresh_reuse');
  t.is(reuses.length, reusesBefore + 1, 'the replay is recorded once; refusing the revoked successor is no replay');
  t.like(reuses.at(-1), { actor_kind: 'citizen', actor_id: accountId, result: 'denied', details: { client_id: APP.client_id, grant_revoked: true } });
});

test.serial('after the reuse interval a rotated token is a replay: the login is revoked and audited', async (t) => {
  const first = await appLogin();
  const rotated = await refresh(first.refresh_token!);
  t.is(rotated.status, 200);
  // Thirty seconds later, without waiting them out.
  await server.deps.database.db.updateTable('oidc_artifacts').set({ consumed_at: sql<Date>`now() - interval '31 seconds'` })
    .where('model', '=', 'RefreshToken').where('id', '=', first.refresh_token!).execute();
  const reusesBefore = (await records('token.refresh_reuse')).length;

  const replay = await refresh(first.refresh_token!);
  t.is(replay.body.error, 'invalid_grant');
  t.is((await refresh(rotated.body.refresh_token!)).body.error, 'invalid_grant', 'the successor dies with the family');
  t.is(await userinfo(rotated.body.access_token!), 401);
  const reuses = await records('token.refresh_reuse');
  t.is(reuses.length, reusesBefore + 1);
  t.like(reuses.at(-1), { result: 'denied', details: { client_id: APP.client_id, grant_revoked: true } });
});
