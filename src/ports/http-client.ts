import { z } from 'zod';
import { UpstreamUnavailableError, type UpstreamFailure } from './errors.js';

/**
 * Time and chance, injectable so tests can step over a cool-down or record back-off
 * delays without waiting. Request timeouts stay on real time (AbortSignal.timeout).
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** A number in [0, 1), for jitter. */
  random(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

const optionsSchema = z.object({
  /** Names the upstream in errors, logs and metrics, for example `registry.population`. */
  upstream: z.string().min(1),
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** Per request, body included; a call with retries may take longer in all. */
  timeoutMs: z.number().int().positive().default(3_000),
  /** Extra attempts after the first, for the failures that allow one (see `post`). */
  retries: z.number().int().min(0).max(10).default(2),
  /** First back-off delay; each further retry doubles it. */
  backoffMs: z.number().int().min(0).default(100),
  /** Consecutive failed requests that open the circuit. */
  breakerThreshold: z.number().int().positive().default(5),
  /** How long an open circuit fails calls at once before letting one trial through. */
  breakerCooldownMs: z.number().int().positive().default(30_000),
  bearerToken: z.string().min(1).optional(),
});

export type HttpClientOptions = z.input<typeof optionsSchema> & { clock?: Clock };

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * Closed: requests flow, consecutive failures are counted. At the threshold it opens:
 * calls fail at once, sparing a struggling upstream and our own request threads. After
 * the cool-down it is half-open: exactly one trial request goes through; its success
 * closes the circuit, its failure opens it for another cool-down.
 */
class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;

  constructor(private readonly threshold: number, private readonly cooldownMs: number, private readonly clock: Clock) {}

  get state(): BreakerState {
    if (this.openedAt === undefined) return 'closed';
    return this.clock.now() - this.openedAt >= this.cooldownMs ? 'half-open' : 'open';
  }

  /** Whether one request may be made now. */
  acquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  succeeded(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.trialInFlight = false;
  }

  failed(): void {
    this.trialInFlight = false;
    this.failures += 1;
    // A failed trial (or any failure while not closed) restarts the cool-down.
    if (this.openedAt !== undefined || this.failures >= this.threshold) this.openedAt = this.clock.now();
  }
}

/** Failures of one request, before they become the caller's UpstreamUnavailableError. */
class AttemptFailure extends Error {
  constructor(readonly reason: UpstreamFailure, readonly status?: number, readonly detail?: string, options?: { cause?: unknown }) {
    super(reason, options);
  }
}

/** Connection errors that happen before a single byte is sent. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function neverConnected(cause: unknown): boolean {
  if (!cause || typeof cause !== 'object') return false;
  // With several addresses for one name, Node reports an AggregateError of per-address errors.
  if (cause instanceof AggregateError && cause.errors.length > 0) return cause.errors.every(neverConnected);
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' && NOT_CONNECTED.has(code);
}

function classifyThrown(error: unknown): AttemptFailure {
  if (error instanceof AttemptFailure) return error;
  const name = (error as { name?: unknown } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return new AttemptFailure('timeout', undefined, undefined, { cause: error });
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  if (neverConnected(cause)) return new AttemptFailure('unreachable', undefined, (cause as { code?: string }).code, { cause: error });
  return new AttemptFailure('network', undefined, undefined, { cause: error });
}

/** Whether to try again after this failure. */
function mayRetry(failure: AttemptFailure, idempotent: boolean): boolean {
  if (failure.reason === 'unreachable') return true; // nothing was sent: always safe
  if (!idempotent) return false; // the upstream may have acted on it: never twice
  return failure.reason === 'timeout' || failure.reason === 'network' || failure.reason === 'server-error';
}

/** Whether this failure says the upstream is unhealthy (a 4xx says it is alive and we are wrong). */
function countsAgainstBreaker(failure: AttemptFailure): boolean {
  return failure.reason !== 'rejected';
}

export interface PostOptions<T> {
  /** Validates a 2xx answer; an answer that fails it is `malformed`. */
  schema?: z.ZodType<T>;
  /**
   * True when sending the request twice does no harm (a lookup). Idempotent calls are
   * retried on timeouts, broken connections and 5xx; others only when the connection was
   * never made, so that, for example, an SMS is never sent twice.
   */
  idempotent: boolean;
}

/** How an adapter talks to its upstream: the knobs every HTTP port exposes the same way. */
export interface UpstreamTuning {
  apiToken?: string;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  breakerThreshold?: number;
  breakerCooldownMs?: number;
  clock?: Clock;
}

/**
 * A small JSON-over-HTTP client for the ports: one instance per upstream, so each has its
 * own circuit. Each request passes the breaker (retry outside, breaker inside), so an
 * opening circuit also stops the retries of calls already under way.
 */
export class JsonHttpClient {
  readonly upstream: string;
  private readonly options: z.output<typeof optionsSchema>;
  private readonly clock: Clock;
  private readonly breaker: CircuitBreaker;

  constructor(options: HttpClientOptions) {
    const { clock, ...rest } = options;
    const parsed = optionsSchema.safeParse(rest);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`);
      throw new TypeError(`http client for "${options.upstream}": ${problems.join('; ')}`);
    }
    this.options = parsed.data;
    this.upstream = parsed.data.upstream;
    this.clock = clock ?? systemClock;
    this.breaker = new CircuitBreaker(parsed.data.breakerThreshold, parsed.data.breakerCooldownMs, this.clock);
  }

  get breakerState(): BreakerState {
    return this.breaker.state;
  }

  /** POSTs `body` as JSON to `path` (relative to baseUrl; '' is baseUrl itself). */
  post<T>(path: string, body: unknown, options: PostOptions<T> & { schema: z.ZodType<T> }): Promise<T>;
  post(path: string, body: unknown, options: { idempotent: boolean }): Promise<void>;
  post<T>(path: string, body: unknown, options: PostOptions<T>): Promise<T | void> {
    return this.send('POST', path, JSON.stringify(body), options);
  }

  /** GETs `path` (relative to baseUrl, with its query string), for upstreams whose reads are GETs. */
  get<T>(path: string, options: PostOptions<T> & { schema: z.ZodType<T> }): Promise<T> {
    return this.send('GET', path, undefined, options) as Promise<T>;
  }

  private async send<T>(method: 'GET' | 'POST', path: string, payload: string | undefined, options: PostOptions<T>): Promise<T | void> {
    const url = this.url(path);
    let attempts = 0;
    let last: AttemptFailure | undefined;
    for (;;) {
      if (!this.breaker.acquire()) {
        throw new UpstreamUnavailableError(this.upstream, 'circuit-open', { attempts, status: last?.status, cause: last });
      }
      attempts += 1;
      try {
        const answer = await this.attempt(method, url, payload, options.schema);
        this.breaker.succeeded();
        return answer;
      } catch (error) {
        last = classifyThrown(error);
        if (countsAgainstBreaker(last)) this.breaker.failed();
        else this.breaker.succeeded();
        if (attempts > this.options.retries || !mayRetry(last, options.idempotent)) {
          throw new UpstreamUnavailableError(this.upstream, last.reason, {
            attempts, status: last.status, detail: last.detail, cause: last.cause,
          });
        }
      }
      await this.clock.sleep(this.backoff(attempts));
    }
  }

  /** Exponential back-off with "equal jitter": half the delay fixed, half random. */
  private backoff(attempt: number): number {
    const delay = this.options.backoffMs * 2 ** (attempt - 1);
    return delay / 2 + this.clock.random() * (delay / 2);
  }

  private url(path: string): string {
    const base = this.options.baseUrl.replace(/\/+$/, '');
    return path === '' ? base : `${base}/${path.replace(/^\/+/, '')}`;
  }

  private async attempt<T>(method: 'GET' | 'POST', url: string, payload: string | undefined, schema: z.ZodType<T> | undefined): Promise<T | void> {
    const headers: Record<string, string> = payload === undefined
      ? { accept: 'application/json' }
      : { 'content-type': 'application/json', accept: 'application/json' };
    if (this.options.bearerToken) headers.authorization = `Bearer ${this.options.bearerToken}`;
    // The signal covers connecting, the answer's headers and its body alike.
    const response = await fetch(url, {
      method,
      headers,
      body: payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    const text = await response.text();
    if (response.status >= 500) throw new AttemptFailure('server-error', response.status);
    if (response.status < 200 || response.status >= 300) throw new AttemptFailure('rejected', response.status);
    if (!schema) return;

    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new AttemptFailure('malformed', response.status, 'answer is not JSON');
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      // Paths and messages only: the answer itself may hold personal data.
      const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(answer)'} ${issue.message}`).join('; ');
      throw new AttemptFailure('malformed', response.status, detail);
    }
    return parsed.data;
  }
}
