import test from 'ava';
import { ZHANG_SAN, PASSWORD, seedAccount } from '../helpers/accounts.js';
import { isolatedEnv } from '../helpers/env.js';
import { APP, beginAuthorization, passwordLogin } from '../helpers/oidc.js';
import { startProcess, waitFor } from '../helpers/process.js';
import { eventually, startPrivatePostgres, startPrivateRedis, startTogether, type PrivatePostgres, type PrivateRedis } from '../helpers/private-stores.js';
import { freePort, startServer, type TestServer } from '../helpers/server.js';
import { createStaff, staffSignIn } from '../helpers/staff.js';

/**
 * Store faults are outages of a request, never of the process: PostgreSQL and Redis of
 * this file's own are stopped and started under a running server, which answers 503 with
 * Retry-After and a stable code meanwhile, and serves again when they are back.
 */

let postgres: PrivatePostgres;
let redis: PrivateRedis;
test.before(async () => {
  [postgres, redis] = await startTogether<[PrivatePostgres, PrivateRedis]>(startPrivatePostgres(), startPrivateRedis());
});
test.after.always(async () => {
  await Promise.all([postgres?.destroy(), redis?.destroy()]);
});

/** Every request of these tests gives up after 20 s: an answer must come, and soon. */
function bounded(init: RequestInit = {}): RequestInit {
  return { ...init, signal: AbortSignal.timeout(20_000) };
}

async function start(extra: Record<string, string> = {}): Promise<TestServer> {
  const stores = isolatedEnv({ urls: { database: postgres.url, redis: redis.url } });
  const server = await startServer({ LOGIN_CAPTCHA_AFTER_FAILURES: '1000', ...extra }, { stores });
  const close = server.close.bind(server);
  return { ...server, close: async () => { await close(); await stores.cleanup().catch(() => {}); } };
}

type SignedIn = { server: TestServer; app: Awaited<ReturnType<typeof passwordLogin>> };

/**
 * Runs `work` on a server on the private stores with 张三 signed in to the app offline (the
 * refresh token lives in PostgreSQL); afterwards both stores are running again, whatever happened.
 */
async function signedIn(work: (signed: SignedIn) => Promise<void>, extra: Record<string, string> = {}): Promise<void> {
  const server = await start(extra);
  try {
    await seedAccount(server.deps, ZHANG_SAN);
    const app = await passwordLogin(server.url, APP, ZHANG_SAN.phone, PASSWORD, { scope: 'openid offline_access account', prompt: 'consent', entity_type: 'natural' });
    if (app.tokens.status !== 200) throw new Error(`login failed: ${JSON.stringify(app.tokens.body)}`);
    await work({ server, app });
  } finally {
    await Promise.all([postgres.resume().catch(() => {}), redis.resume()]);
    await Promise.all([postgres.start(), redis.start()]);
    await server.close();
  }
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return JSON.parse(await response.text()) as Record<string, unknown>;
}

/** A 503 that says when to come back. */
function outage(t: import('ava').ExecutionContext, response: Response, what: string): void {
  t.is(response.status, 503, what);
  t.regex(response.headers.get('retry-after') ?? '', /^\d+$/, `${what}: Retry-After`);
}

async function readiness(server: TestServer): Promise<{ status: number; checks: Record<string, string> }> {
  const response = await fetch(`${server.url}/readyz`, bounded());
  return { status: response.status, checks: (await json(response)).checks as Record<string, string> };
}

const refreshWith = (server: TestServer, token: string) => fetch(`${server.url}/token`, bounded({
  method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, client_id: APP.client_id }),
}));

test.serial('PostgreSQL restarted under an idle server: the process keeps running and serves again', async (t) => {
  const stores = isolatedEnv({ urls: { database: postgres.url, redis: redis.url } });
  const port = await freePort();
  // The real entry point, with the key-rotation poll keeping a pooled connection open.
  const run = startProcess({ ...stores.env, PORT: String(port), LOG_LEVEL: 'info', KEY_ROTATION_CHECK_SECONDS: '1' });
  const output = () => { const { stdout, stderr } = run.output(); return stdout + stderr; };
  try {
    await waitFor(() => output().includes('civic-idp is running'), 60_000);
    const base = `http://127.0.0.1:${port}`;
    t.is((await fetch(`${base}/readyz`, bounded())).status, 200);

    await postgres.stop();
    // The poll runs every second; it must meet the outage and carry on.
    await waitFor(() => output().includes('could not check signing keys') || run.exitCode() !== undefined, 30_000);
    t.is(run.exitCode(), undefined, `the process is still running: ${output().slice(-500)}`);
    const down = await fetch(`${base}/readyz`, bounded());
    t.is(down.status, 503);
    t.like(await json(down), { checks: { database: 'unavailable', cache: 'ok' } });

    await postgres.start();
    await eventually(async () => ((await fetch(`${base}/readyz`, bounded())).status === 200 ? true : undefined));
    t.is((await fetch(`${base}/.well-known/openid-configuration`, bounded())).status, 200);
    t.is(run.exitCode(), undefined, 'the same process, never restarted');
    t.notRegex(output(), /Unhandled 'error' event/);
    run.child.kill('SIGTERM');
    t.is(await run.exited, 0);
  } finally {
    run.child.kill('SIGKILL');
    await stores.cleanup().catch(() => {});
  }
});

test.serial('PostgreSQL restarted under a busy server: 503 with Retry-After and store_unavailable on every surface, then service again', async (t) => {
  await signedIn(async ({ server, app }) => {
    const bearer = { authorization: `Bearer ${app.tokens.body.access_token}` };
    const staff = await staffSignIn(server, await createStaff(server.deps, 'fault.desk', ['agent']));
    const login = await beginAuthorization(server.url, APP);

    // Load all along: no answer may be a 500, whatever the store does.
    const statuses: number[] = [];
    let busy = true;
    const load = (async () => {
      while (busy) {
        const response = await fetch(`${server.url}/me`, bounded({ headers: bearer })).catch(() => undefined);
        if (response) statuses.push(response.status);
        await response?.arrayBuffer();
      }
    })();

    try {
      await postgres.stop();
      const ready = await readiness(server);
      t.is(ready.status, 503);
      t.deepEqual(ready.checks, { database: 'unavailable', cache: 'ok' }, 'readiness names the store that is down');

      const api = await fetch(`${server.url}/api/v1/account`, bounded({ headers: bearer }));
      outage(t, api, 'account API');
      t.like(await json(api), { error: 'store_unavailable', message_zh: '服务暂时不可用，请稍后重试。' });

      const page = await login.browser.post(`/interaction/${login.uid}/login/password`, { csrf: login.csrf, identifier: ZHANG_SAN.idNumber, password: PASSWORD });
      outage(t, page.response, 'login page');
      t.regex(page.body, /data-error-code="store_unavailable"/);

      const consolePage = await staff.browser.request(`/admin/citizens?q=${ZHANG_SAN.idNumber}`, bounded());
      outage(t, consolePage, 'console page');
      t.regex(await consolePage.text(), /data-error-code="store_unavailable"/);
      const consoleApi = await staff.browser.request(`/api/v1/admin/citizens?q=${ZHANG_SAN.idNumber}`, bounded());
      outage(t, consoleApi, 'console API');
      t.is((await json(consoleApi)).error, 'store_unavailable');

      const userinfo = await fetch(`${server.url}/me`, bounded({ headers: bearer }));
      outage(t, userinfo, 'userinfo');
      t.is((await json(userinfo)).error, 'temporarily_unavailable');
      const refused = await refreshWith(server, app.tokens.body.refresh_token!);
      outage(t, refused, 'token endpoint');
      t.is((await json(refused)).error, 'temporarily_unavailable');

      await postgres.start();
      await eventually(async () => ((await readiness(server)).status === 200 ? true : undefined));
    } finally {
      busy = false;
      await load;
    }
    t.true(statuses.length > 0);
    t.deepEqual([...new Set(statuses)].filter((status) => status !== 200 && status !== 503), [], 'nothing but 200 and 503 under load');

    t.is((await fetch(`${server.url}/api/v1/account`, bounded({ headers: bearer }))).status, 200);
    t.is((await fetch(`${server.url}/me`, bounded({ headers: bearer }))).status, 200);
    t.is((await refreshWith(server, app.tokens.body.refresh_token!)).status, 200, 'the login survived');
    t.is((await staff.browser.request(`/api/v1/admin/citizens?q=${ZHANG_SAN.idNumber}`, bounded())).status, 200);
    const again = await beginAuthorization(server.url, APP);
    const done = await again.browser.post(`/interaction/${again.uid}/login/password`, { csrf: again.csrf, identifier: ZHANG_SAN.idNumber, password: PASSWORD });
    t.notRegex(done.body, /data-error-code/);
  });
});

/**
 * Freezes `store` (every process stopped, connections left open), sends every request at
 * once with a readiness probe: each must be an outage answered within `bounded`, and
 * readiness must name the store as `checks` say. Then lets the store run on and waits
 * until the same server is ready again.
 */
async function whileFrozen(
  t: import('ava').ExecutionContext, server: TestServer, store: { pause(): Promise<void>; resume(): Promise<void> },
  requests: Record<string, () => Promise<Response>>, checks: Record<string, string>,
): Promise<void> {
  await store.pause();
  try {
    // Each of these gives up after 20 s (bounded): an answer must come before.
    const names = Object.keys(requests);
    const [ready, ...answers] = await Promise.all([fetch(`${server.url}/readyz`, bounded()), ...names.map((name) => requests[name]!())]);
    answers.forEach((answer, index) => outage(t, answer, names[index]!));
    t.is(ready!.status, 503);
    t.like(await json(ready!), { checks });
  } finally {
    await store.resume();
  }
  await eventually(async () => ((await fetch(`${server.url}/readyz`, bounded())).status === 200 ? true : undefined));
}

test.serial('PostgreSQL hung, every process of it frozen: each request answers 503 within the timeouts instead of waiting on TCP, and the same server serves again once it runs on', async (t) => {
  await signedIn(async ({ server, app }) => {
    const bearer = { authorization: `Bearer ${app.tokens.body.access_token}` };
    await whileFrozen(t, server, postgres, {
      'the account API': () => fetch(`${server.url}/api/v1/account`, bounded({ headers: bearer })),
      'a refresh': () => refreshWith(server, app.tokens.body.refresh_token!),
    }, { database: 'unavailable', cache: 'ok' });
    t.is((await fetch(`${server.url}/api/v1/account`, bounded({ headers: bearer }))).status, 200);
  }, { DATABASE_STATEMENT_TIMEOUT_MS: '3000' });
});

test.serial('Redis hung, its process frozen: each request that needs it answers 503 within the command timeout, readiness names it, and the same server serves again once it runs on', async (t) => {
  await signedIn(async ({ server, app }) => {
    const bearer = { authorization: `Bearer ${app.tokens.body.access_token}` };
    await whileFrozen(t, server, redis, {
      'the account API': () => fetch(`${server.url}/api/v1/account`, bounded({ headers: bearer })),
      userinfo: () => fetch(`${server.url}/me`, bounded({ headers: bearer })),
    }, { database: 'ok', cache: 'unavailable' });
    t.is((await fetch(`${server.url}/api/v1/account`, bounded({ headers: bearer }))).status, 200, 'nothing was lost: the token is still there');
  });
});

test.serial('Redis stopped: /auth, the APIs and the token endpoint answer 503, and serve again once it is back', async (t) => {
  await signedIn(async ({ server, app }) => {
    await redis.stop();
    const ready = await readiness(server);
    t.is(ready.status, 503);
    t.deepEqual(ready.checks, { database: 'ok', cache: 'unavailable' });

    const auth = await fetch(`${server.url}/auth?${new URLSearchParams({ client_id: APP.client_id, redirect_uri: APP.redirect_uri, response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`, bounded({ headers: { accept: 'text/html' }, redirect: 'manual' }));
    outage(t, auth, '/auth');
    t.regex(await auth.text(), /data-error-code="store_unavailable"/);

    const registration = await fetch(`${server.url}/api/v1/registration`, bounded({ method: 'POST' }));
    outage(t, registration, 'registration API');
    t.like(await json(registration), { error: 'store_unavailable', message_en: 'The service is briefly unavailable. Please try again in a moment.' });

    const token = await fetch(`${server.url}/me`, bounded({ headers: { authorization: `Bearer ${app.tokens.body.access_token}` } }));
    outage(t, token, 'userinfo');
    t.is((await json(token)).error, 'temporarily_unavailable');

    await redis.start();
    await eventually(async () => ((await readiness(server)).status === 200 ? true : undefined));
    const registered = await fetch(`${server.url}/api/v1/registration`, bounded({ method: 'POST' }));
    t.is(registered.status, 201);
    const again = await beginAuthorization(server.url, APP);
    t.truthy(again.uid, 'the login page is back');
    // Redis came back empty: the access token is gone, the offline login (in PostgreSQL) is not.
    t.is((await refreshWith(server, app.tokens.body.refresh_token!)).status, 200);
  });
});

test.serial('a refresh cut off by a Redis outage after the rotation was saved, retried after recovery, keeps the login', async (t) => {
  await signedIn(async ({ server, app }) => {
    const held = app.tokens.body.refresh_token!;
    await redis.stop();
    const cut = await refreshWith(server, held);
    outage(t, cut, 'token endpoint');
    t.is((await json(cut)).error, 'temporarily_unavailable');
    // Half-way: the token the app still holds was rotated in PostgreSQL, the answer never came.
    const row = await server.deps.database.db.selectFrom('oidc_artifacts').select(['consumed_at', 'successor_id'])
      .where('model', '=', 'RefreshToken').where('id', '=', held).executeTakeFirstOrThrow();
    t.truthy(row.consumed_at, 'the refresh token was consumed before the cache failed');

    await redis.start();
    await eventually(async () => ((await readiness(server)).status === 200 ? true : undefined));
    const retried = await refreshWith(server, held);
    const answer = await json(retried);
    t.is(retried.status, 200, JSON.stringify(answer));
    t.is(answer.refresh_token, row.successor_id, 'the successor saved before the outage');
    t.is((await refreshWith(server, String(answer.refresh_token))).status, 200, 'the login goes on');
    const replays = await server.deps.database.db.selectFrom('audit_log').select('seq').where('action', '=', 'token.refresh_reuse').execute();
    t.is(replays.length, 0, 'nothing was taken for a replay');
  });
});
