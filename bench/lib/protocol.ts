/** Messages between the bench (parent) and its load-driving process (driver/main.ts). */

export type DriverScenario = 'password-login' | 'sms-login' | 'delegated-login' | 'refresh' | 'refresh-confidential' | 'client-credentials' | 'introspection' | 'userinfo';

export interface ClientCredentials {
  client_id: string;
  /** Confidential clients send it with client_secret_basic; public ones send client_id in the body. */
  secret?: string;
}

export interface LoginClientSpec extends ClientCredentials {
  redirect_uri: string;
  scope: string;
  /** `consent` for a web client asking for offline_access (OpenID Connect Core 11). */
  prompt?: string;
}

export interface ScenarioParams {
  /** Seeded accounts (derived from their index by bench/lib/people.ts) and their password. */
  accounts?: { count: number; password: string };
  /** Where sms-login reads the codes: the outbox file the server writes, or the driver's SMS gateway. */
  sms?: { kind: 'outbox'; file: string } | { kind: 'gateway' };
  /** The client a browser logs in to (password-login, sms-login; token source for introspection and userinfo). */
  loginClient?: LoginClientSpec;
  /** refresh: the client that obtains and refreshes the tokens: the public `app` (rotation) or the confidential `portal`. */
  refreshClient?: LoginClientSpec;
  /** refresh on the bare provider: tokens minted there, so no login is needed. */
  refreshTokens?: string[];
  /** client-credentials and introspection: the authenticating client. */
  tokenClient?: ClientCredentials;
  resource?: string;
  scope?: string;
  /** delegated-login: the seeded accounts that hold a grant of the enterprise for loginClient. */
  delegates?: { from: number; count: number };
}

export interface RunRequest {
  type: 'run';
  id: number;
  scenario: DriverScenario;
  base: string;
  concurrency: number;
  warmupMs: number;
  /** The measured window after the warm-up. */
  durationMs: number;
  /** Instead of a duration: stop after this many successful operations (no warm-up). */
  count?: number;
  params: ScenarioParams;
}

export interface LatencySummary {
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
}

/** Opens the bench's SMS gateway in the driver; answered with a SinkReady. */
export interface SinkRequest {
  type: 'sink';
  id: number;
}

export interface SinkReady {
  type: 'sink-ready';
  id: number;
  port: number;
}

export interface RunResult {
  type: 'result';
  id: number;
  ops: number;
  seconds: number;
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
  max_ms: number;
  errors: number;
  warmup_errors: number;
  error_samples: string[];
  /** Login flows: where the time of one operation goes, per HTTP step. */
  steps?: Record<string, LatencySummary>;
  setup_ms: number;
  /** The seeded accounts ran out during this run and were used again (logins cost the same). */
  accounts_wrapped?: boolean;
}

export interface RunFailure {
  type: 'failure';
  id: number;
  message: string;
}

/** Sent when the measured window opens and closes, so the bench can read CPU counters then. */
export interface RunMark {
  type: 'mark';
  id: number;
  phase: 'start' | 'end';
}

export type DriverReply = RunResult | RunFailure | RunMark | SinkReady;
