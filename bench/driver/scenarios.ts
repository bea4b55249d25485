import { idNumberOf, phoneOf } from '../lib/people.js';
import type { DriverScenario, LoginClientSpec, ScenarioParams } from '../lib/protocol.js';
import { basic, passwordLogin, smsLogin, type StepTimes } from './flows.js';
import type { HttpClient } from './http.js';
import { outboxTail, smsSink, type CodeSource } from './outbox.js';

export interface ScenarioContext {
  http: HttpClient;
  params: ScenarioParams;
  concurrency: number;
}

/** One scenario: optional unmeasured setup, then one operation per call, run by `concurrency` loops. */
export interface Scenario<S = unknown> {
  setup(ctx: ScenarioContext): Promise<S>;
  op(ctx: ScenarioContext, state: S, loop: number, times: StepTimes): Promise<void>;
  teardown?(state: S): Promise<void>;
}

/**
 * Accounts are taken in order, one cursor for password logins (including the logins that
 * get tokens for other scenarios) and one for SMS logins, so every password login is by a
 * person who has not logged in with a password yet, until the seeded accounts run out;
 * then the cursor wraps, and the result says so.
 */
const cursors = { password: 0, sms: 0, delegated: 0 };
export const wrapped = { during: false };

function nextAccount(params: ScenarioParams, flow: keyof typeof cursors): number {
  const count = params.accounts?.count ?? 0;
  if (count <= 0) throw new Error('no seeded accounts');
  const index = cursors[flow] % count;
  cursors[flow] += 1;
  if (cursors[flow] > count && index === 0) wrapped.during = true;
  return index;
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`scenario parameter missing: ${what}`);
  return value;
}

async function inParallel<T>(count: number, width: number, work: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, count) }, async () => {
    while (next < count) {
      const index = next++;
      results[index] = await work(index);
    }
  }));
  return results;
}

/** Access tokens for introspection and userinfo: one real password login per loop. */
async function loginTokens(ctx: ScenarioContext, client: LoginClientSpec, count: number) {
  const accounts = need(ctx.params.accounts, 'accounts');
  return inParallel(count, ctx.concurrency, () => passwordLogin(ctx.http, client, idNumberOf(nextAccount(ctx.params, 'password')), accounts.password));
}

const passwordLoginScenario: Scenario = {
  async setup() { return undefined; },
  async op(ctx, _state, _loop, times) {
    const accounts = need(ctx.params.accounts, 'accounts');
    await passwordLogin(ctx.http, need(ctx.params.loginClient, 'loginClient'), idNumberOf(nextAccount(ctx.params, 'password')), accounts.password, times);
  },
};

/** Password login by a delegate of the seeded enterprise, choosing to act for it; the ID token must say so. */
const delegatedLoginScenario: Scenario = {
  async setup() { return undefined; },
  async op(ctx, _state, _loop, times) {
    const accounts = need(ctx.params.accounts, 'accounts');
    const delegates = need(ctx.params.delegates, 'delegates');
    const index = delegates.from + (cursors.delegated++ % delegates.count);
    const tokens = await passwordLogin(ctx.http, need(ctx.params.loginClient, 'loginClient'), idNumberOf(index), accounts.password, times, 'enterprise');
    const claims = JSON.parse(Buffer.from(tokens.id_token!.split('.')[1]!, 'base64url').toString()) as { entity_type?: string };
    if (claims.entity_type !== 'legal') throw new Error('delegated login: the ID token does not act for the enterprise');
  },
};

const smsLoginScenario: Scenario<CodeSource> = {
  async setup(ctx) {
    const sms = need(ctx.params.sms, 'sms');
    return sms.kind === 'outbox' ? outboxTail(sms.file) : smsSink;
  },
  async op(ctx, outbox, _loop, times) {
    await smsLogin(ctx.http, need(ctx.params.loginClient, 'loginClient'), phoneOf(nextAccount(ctx.params, 'sms')), outbox, times);
  },
};

interface RefreshState {
  client: LoginClientSpec;
  held: Array<string | undefined>;
  spares: string[];
}

/**
 * Refresh-token grants: each loop holds one token and replaces it with the one it gets
 * back. A public client (the app) rotates: a failed rotation kills that token's family
 * (reuse detection), so the loop carries on with a spare. A confidential client (the
 * portal) authenticates with its secret and keeps its token.
 */
const refreshScenario: Scenario<RefreshState> = {
  async setup(ctx) {
    const client = need(ctx.params.refreshClient, 'refreshClient');
    const wanted = ctx.concurrency + Math.max(4, Math.ceil(ctx.concurrency / 4));
    const tokens = ctx.params.refreshTokens
      ?? (await loginTokens(ctx, client, wanted)).map((tokens) => need(tokens.refresh_token, 'refresh_token in the code exchange'));
    if (tokens.length < ctx.concurrency) throw new Error(`refresh: ${tokens.length} tokens for ${ctx.concurrency} loops`);
    return { client, held: tokens.slice(0, ctx.concurrency), spares: tokens.slice(ctx.concurrency) };
  },
  async op(ctx, state, loop) {
    const token = state.held[loop] ?? state.spares.pop();
    if (!token) throw new Error('refresh: no refresh token left');
    state.held[loop] = undefined;
    const { client } = state;
    const form: Record<string, string> = { grant_type: 'refresh_token', refresh_token: token };
    const headers: Record<string, string> = {};
    if (client.secret) headers.authorization = basic(client.client_id, client.secret);
    else form.client_id = client.client_id;
    const response = await ctx.http.request('/token', { form, headers });
    if (response.status !== 200) throw new Error(`refresh: HTTP ${response.status} ${response.body.slice(0, 120)}`);
    const next = (JSON.parse(response.body) as { refresh_token?: string }).refresh_token;
    state.held[loop] = next ?? token;
  },
};

const clientCredentialsScenario: Scenario<{ form: Record<string, string>; authorization: string }> = {
  async setup(ctx) {
    const client = need(ctx.params.tokenClient, 'tokenClient');
    const form: Record<string, string> = { grant_type: 'client_credentials' };
    if (ctx.params.resource) form.resource = ctx.params.resource;
    if (ctx.params.scope) form.scope = ctx.params.scope;
    return { form, authorization: basic(client.client_id, need(client.secret, 'tokenClient.secret')) };
  },
  async op(ctx, state) {
    const response = await ctx.http.request('/token', { form: state.form, headers: { authorization: state.authorization } });
    if (response.status !== 200 || !response.body.includes('"access_token"')) throw new Error(`client_credentials: HTTP ${response.status} ${response.body.slice(0, 120)}`);
  },
};

const introspectionScenario: Scenario<{ tokens: string[]; authorization: string }> = {
  async setup(ctx) {
    const client = need(ctx.params.loginClient, 'loginClient');
    const tokens = (await loginTokens(ctx, client, ctx.concurrency)).map((t) => t.access_token);
    return { tokens, authorization: basic(client.client_id, need(client.secret, 'loginClient.secret (introspection)')) };
  },
  async op(ctx, state, loop) {
    const response = await ctx.http.request('/token/introspection', { form: { token: state.tokens[loop]!, token_type_hint: 'access_token' }, headers: { authorization: state.authorization } });
    if (response.status !== 200 || !response.body.includes('"active":true')) throw new Error(`introspection: HTTP ${response.status} ${response.body.slice(0, 120)}`);
  },
};

const userinfoScenario: Scenario<{ tokens: string[] }> = {
  async setup(ctx) {
    const tokens = (await loginTokens(ctx, need(ctx.params.loginClient, 'loginClient'), ctx.concurrency)).map((t) => t.access_token);
    return { tokens };
  },
  async op(ctx, state, loop) {
    const response = await ctx.http.request('/me', { headers: { authorization: `Bearer ${state.tokens[loop]!}` } });
    if (response.status !== 200 || !response.body.includes('"sub"')) throw new Error(`userinfo: HTTP ${response.status} ${response.body.slice(0, 120)}`);
  },
};

export const scenarios: Record<DriverScenario, Scenario<any>> = {
  'password-login': passwordLoginScenario,
  'sms-login': smsLoginScenario,
  'delegated-login': delegatedLoginScenario,
  refresh: refreshScenario,
  'refresh-confidential': refreshScenario,
  'client-credentials': clientCredentialsScenario,
  introspection: introspectionScenario,
  userinfo: userinfoScenario,
};
