/**
 * Why a call to an external system failed. Callers rarely need more than "it failed",
 * but operators and metrics do:
 * - `timeout`: no complete answer within the time limit (the request may have arrived);
 * - `unreachable`: no connection was ever made (refused, no route, name not resolved),
 *   so the request surely did not arrive;
 * - `network`: the connection broke after it was made (the request may have arrived);
 * - `server-error`: the upstream answered 5xx;
 * - `rejected`: the upstream answered with a status we do not accept (4xx, redirects):
 *   our request or our credentials are wrong, so trying again will not help;
 * - `malformed`: a 2xx answer that is not the JSON the contract describes;
 * - `circuit-open`: we did not call at all, because recent calls kept failing.
 */
export type UpstreamFailure =
  | 'timeout'
  | 'unreachable'
  | 'network'
  | 'server-error'
  | 'rejected'
  | 'malformed'
  | 'circuit-open';

/**
 * The one error every port adapter throws when its external system could not give an
 * answer. Domain code catches this class alone and turns it into an AppError
 * (`registry_unavailable` and the like); it never sees fetch, sockets or status codes.
 *
 * The message names the upstream and the reason only: request and answer bodies carry
 * personal data (ID numbers, names, phones) and must not reach logs through an error.
 */
export class UpstreamUnavailableError extends Error {
  override readonly name = 'UpstreamUnavailableError';
  /** The HTTP status of the last answer, when there was one. */
  readonly status: number | undefined;
  /** How many requests were made for this call (0 when the circuit was open). */
  readonly attempts: number;

  constructor(
    /** Which external system failed, for example `registry.population` or `sms`. */
    readonly upstream: string,
    readonly reason: UpstreamFailure,
    options: { status?: number; attempts?: number; detail?: string; cause?: unknown } = {},
  ) {
    const status = options.status === undefined ? '' : ` (HTTP ${options.status})`;
    const detail = options.detail ? `: ${options.detail}` : '';
    super(`upstream "${upstream}" unavailable: ${reason}${status}${detail}`, { cause: options.cause });
    this.status = options.status;
    this.attempts = options.attempts ?? 0;
  }
}

export function isUpstreamUnavailable(error: unknown): error is UpstreamUnavailableError {
  return error instanceof UpstreamUnavailableError;
}
