import { ReplyError } from 'ioredis';

/** The stores a request depends on; also the names /readyz reports. */
export type StoreName = 'database' | 'cache';

/**
 * A store could not answer: refused, dropped, timed out, restarting, read-only after a
 * failover. It is an outage of this request, not a bug: the HTTP edge answers 503 with
 * `store_unavailable` and Retry-After, and the next request tries again on a fresh
 * connection. Constraint violations and other answers the store did give are not faults
 * and pass through unchanged, so domain code can still catch them.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';

  constructor(readonly store: StoreName, options: { cause?: unknown } = {}) {
    super(`${store} unavailable: ${(options.cause as Error | undefined)?.message ?? 'no answer'}`, options);
  }
}

/**
 * A `.catch` for a failure a page may show as something milder (an expired code, nothing
 * to show): a store fault is thrown on, so an outage is a 503, never a wrong answer.
 */
export function unlessStoreFault<T>(fallback: () => T): (error: unknown) => T {
  return (error) => {
    if (storeFault(error)) throw error;
    return fallback();
  };
}

/** The store fault behind an error, if any (looking through `cause`, as wrappers keep it there). */
export function storeFault(error: unknown): StoreUnavailableError | undefined {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth += 1) {
    if (current instanceof StoreUnavailableError) return current;
  }
  return undefined;
}

// SQLSTATE classes that mean "not now" rather than "not this": connection exceptions (08),
// insufficient resources (53), operator intervention (57: shutdown, restart, statement
// timeout) and system errors (58); 25006 is a write reaching a standby after a failover.
const UNAVAILABLE_SQLSTATE = /^(08|53|57|58)|^25006$/;

// Errors of the driver itself (pg and pg-pool) when it has no connection to speak through.
const DRIVER_FAULTS = /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Cannot use a pool after calling end)/;

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/** A PostgreSQL error as a store fault when it is one; anything else unchanged. */
export function databaseFault(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const isFault = (typeof code === 'string' && (SOCKET_CODES.has(code) || (code.length === 5 && UNAVAILABLE_SQLSTATE.test(code))))
    || (typeof message === 'string' && DRIVER_FAULTS.test(message));
  return isFault ? new StoreUnavailableError('database', { cause: error }) : error;
}

// Replies Redis gives while it cannot serve: loading its data after a restart, a replica
// without its primary, a cluster resharding, a blocked script, a failed snapshot; and,
// should the client not follow them itself, a cluster's redirections while a master goes
// or comes back (MOVED, ASK) and a restarted server that lost its scripts (NOSCRIPT).
const UNAVAILABLE_REPLY = /^(LOADING|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|BUSY|MISCONF|NOREPLICAS|MOVED|ASK|NOSCRIPT)\b/;

const PROGRAMMING_ERRORS = [TypeError, RangeError, ReferenceError, SyntaxError];

/**
 * A Redis error as a store fault. The cache sends only our own well-formed commands, so
 * every error that is not a reply (refused, closed, timed out, not writable) is the
 * connection's; a reply error is a fault only when Redis says it cannot serve now.
 */
export function cacheFault(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  if (error instanceof ReplyError && !UNAVAILABLE_REPLY.test((error as Error).message)) return error;
  // A mistake in our own code around a command is a bug to see, not an outage to hide.
  if (PROGRAMMING_ERRORS.some((kind) => error instanceof kind)) return error;
  return new StoreUnavailableError('cache', { cause: error });
}
