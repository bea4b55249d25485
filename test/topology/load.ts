import { passwordLogin, type LoginClient, type Tokens } from '../../bench/driver/flows.js';
import type { HttpClient } from '../../bench/driver/http.js';
import { BENCH_PASSWORD, idNumberOf } from '../../bench/lib/people.js';

export type OperationKind = 'login' | 'refresh' | 'userinfo';

/** One operation as a client saw it; times in milliseconds since the run began. */
export interface Operation {
  kind: OperationKind;
  start: number;
  end: number;
  ok: boolean;
  /** Why it failed: the status and error code, or the connection error. */
  failure?: string;
}

/** The native app: a public client that gets a rotating refresh token at every login. */
export const APP: LoginClient = { client_id: 'app', redirect_uri: 'cn.gov.example.app:/oauth2/callback', scope: 'openid profile phone realname' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Steady traffic through the load balancer, as apps and browsers make it: people logging
 * in (the whole browser flow with a password, to tokens), and signed-in apps calling
 * userinfo and refreshing their tokens. Every operation is recorded with its outcome; a
 * failed refresh keeps the token it had and tries it again, as an app does, which the
 * refresh-token reuse interval makes safe when the failed answer had been a success.
 */
export class Load {
  readonly operations: Operation[] = [];
  /** Every refresh token a client received, from logins and rotations: each must still be on record. */
  readonly refreshTokens: string[] = [];
  /** The first refresh token of each login: it names the grant and the account the login was audited for. */
  readonly loginTokens: string[] = [];
  private readonly sessions: Tokens[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private nextAccount = 0;

  constructor(
    private readonly http: HttpClient,
    private readonly now: () => number,
    private readonly options: { accounts: number; sessions: number; pauseMs: number; loginPauseMs: number },
  ) {}

  /** Signs in the apps that will refresh and call userinfo; a failure here is a failure of the set-up. */
  async prepare(): Promise<void> {
    for (let i = 0; i < this.options.sessions; i += 1) {
      const tokens = await this.login();
      if (!tokens) throw new Error(`the set-up login failed: ${this.operations.at(-1)?.failure}`);
      this.sessions.push(tokens);
    }
  }

  start(): void {
    this.running = true;
    this.loops = [
      this.loginLoop(),
      ...this.sessions.map((_, index) => this.sessionLoop(index)),
    ];
  }

  /** Stops the loops once their operations in flight are answered. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** The refresh token each signed-in app holds now. */
  heldRefreshTokens(): string[] {
    return this.sessions.map((tokens) => tokens.refresh_token!);
  }

  private async measure<T>(kind: OperationKind, work: () => Promise<T>): Promise<T | undefined> {
    const start = this.now();
    try {
      const result = await work();
      this.operations.push({ kind, start, end: this.now(), ok: true });
      return result;
    } catch (error) {
      this.operations.push({ kind, start, end: this.now(), ok: false, failure: (error as Error).message.slice(0, 160) });
      return undefined;
    }
  }

  private async login(): Promise<Tokens | undefined> {
    const index = this.nextAccount++ % this.options.accounts;
    const tokens = await this.measure('login', async () => {
      const issued = await passwordLogin(this.http, APP, idNumberOf(index), BENCH_PASSWORD);
      if (!issued.refresh_token) throw new Error('login: no refresh token');
      return issued;
    });
    if (tokens) {
      this.refreshTokens.push(tokens.refresh_token!);
      this.loginTokens.push(tokens.refresh_token!);
    }
    return tokens;
  }

  private async loginLoop(): Promise<void> {
    while (this.running) {
      await this.login();
      await sleep(this.options.loginPauseMs);
    }
  }

  private async sessionLoop(index: number): Promise<void> {
    while (this.running) {
      const held = this.sessions[index]!;
      await this.measure('userinfo', async () => {
        const answer = await this.http.request('/me', { headers: { authorization: `Bearer ${held.access_token}` } });
        if (answer.status !== 200 || !answer.body.includes('"sub"')) throw new Error(`userinfo: ${describe(answer)}`);
      });
      await sleep(this.options.pauseMs);
      if (!this.running) break;
      const renewed = await this.measure('refresh', () => refresh(this.http, held.refresh_token!));
      if (renewed) {
        this.sessions[index] = renewed;
        this.refreshTokens.push(renewed.refresh_token!);
      }
      await sleep(this.options.pauseMs);
    }
  }
}

/** A refresh-token grant for the app; the new tokens, or an error naming the answer. */
export async function refresh(http: HttpClient, refreshToken: string): Promise<Tokens> {
  const answer = await http.request('/token', { form: { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: APP.client_id } });
  if (answer.status !== 200) throw new Error(`refresh: ${describe(answer)}`);
  const tokens = JSON.parse(answer.body) as Tokens;
  if (!tokens.access_token || !tokens.refresh_token) throw new Error('refresh: no tokens in the answer');
  return tokens;
}

function describe(answer: { status: number; headers: Record<string, string | string[] | undefined>; body: string }): string {
  const code = /"error":"([^"]+)"/.exec(answer.body)?.[1] ?? /data-error-code="([^"]+)"/.exec(answer.body)?.[1];
  // An outage must say when to come back; the report flags one that does not.
  const retry = answer.status === 503 && answer.headers['retry-after'] === undefined ? ' without Retry-After' : '';
  return `HTTP ${answer.status}${code ? ` ${code}` : ''}${retry}`;
}
