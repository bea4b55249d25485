import type { PostgresPool, PostgresPoolClient } from 'kysely';
import pg from 'pg';
import type { PostgresTarget } from '../config/postgres-url.js';
import type { Logger } from '../log.js';
import { databaseFault, StoreUnavailableError } from './faults.js';

/** pg.Pool settings but the host, which is chosen per connection string. */
export type PoolSettings = Omit<pg.PoolConfig, 'connectionString' | 'host' | 'port'>;

/** A pool on one connection string, whose dropped connections never end the process. */
export function newPool(url: string, settings: PoolSettings, logger?: Logger): pg.Pool {
  const pool = new pg.Pool({ ...settings, connectionString: url });
  // The server closing an idle pooled connection (a restart, a failover, a proxy's idle
  // timeout) is reported here; with no listener Node would end the whole process. The pool
  // has already dropped the connection and makes a new one at the next query.
  pool.on('error', (error) => logger?.warn({ err: error }, 'database connection lost; reconnecting at the next query'));
  // A connection in use between two statements (inside a transaction) has no pool listener:
  // this one keeps its error from ending the process; its next statement fails instead.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

const LIFTS_STATEMENT_TIMEOUT = /^\s*set\s+local\s+statement_timeout\s*=\s*0\s*;?\s*$/i;
/** pg takes 0 as "the connection's default": the longest timer Node keeps (24.8 days) stands for none. */
const NO_QUERY_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * A pooled connection as Kysely sees it, with every connection fault turned into a
 * StoreUnavailableError (a 503 at the edge), and a connection that faulted closed rather
 * than handed to the next request. `onFault` hears each fault.
 */
export function faultTagged(client: pg.PoolClient, onFault: (fault: StoreUnavailableError) => void = () => {}): PostgresPoolClient {
  let faulted: Error | undefined;
  // The few statements allowed to run as long as they need (migrations, the audit purge)
  // lift the server's limit for their transaction; that lifts the driver's too
  // (query_timeout, see db.ts), for as long as this connection is held.
  let unbounded = false;
  const query = async (text: string, parameters: readonly unknown[]) => {
    if (LIFTS_STATEMENT_TIMEOUT.test(text)) unbounded = true;
    try {
      // query_timeout per query is read by pg (client.js) but missing from its types.
      const config: pg.QueryConfig = { text, values: [...parameters], ...(unbounded ? { query_timeout: NO_QUERY_TIMEOUT_MS } : {}) };
      return await client.query(config);
    } catch (error) {
      const fault = databaseFault(error);
      if (fault instanceof StoreUnavailableError) {
        faulted = fault;
        onFault(fault);
      }
      throw fault;
    }
  };
  // Kysely streams through cursors only when given one; it is not, so plain queries are all it sends.
  return { query: query as unknown as PostgresPoolClient['query'], release: () => client.release(faulted) };
}

// Faults that say the server itself is gone or is no primary any more, as opposed to one
// statement's bad luck (a statement timeout, too many connections): a connection exception
// (08), an administrator or crash shutdown (57P01-57P03), a write refused by a standby
// (25006), or a connection the driver lost.
const HOST_GONE_SQLSTATE = /^(08|57P0[123]$|25006$)/;

function hostGone(fault: StoreUnavailableError): boolean {
  const cause = fault.cause;
  if (cause instanceof pg.DatabaseError) return HOST_GONE_SQLSTATE.test(cause.code ?? '');
  // Not the server's answer: the connection itself failed (refused, reset, closed).
  return true;
}

/**
 * Whether a failure to get a connection says the host is gone. A pool whose every
 * connection is in use makes a caller wait, and that wait timing out says only that the
 * pool is busy: dropping it would make things worse. A new connection that could not be
 * made in time (the host is unreachable), or was refused, says the host is gone.
 */
function connectFailedOnHost(fault: StoreUnavailableError, pool: pg.Pool, size: number): boolean {
  const waitedForBusyPool = /^timeout exceeded when trying to connect/.test((fault.cause as Error | undefined)?.message ?? '') && pool.totalCount >= size;
  return !waitedForBusyPool && hostGone(fault);
}

/** True when the connection may write: not a standby in recovery, not read-only (libpq's read-write). */
async function writable(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ recovery: boolean; read_only: string }>(
    "select pg_is_in_recovery() as recovery, current_setting('transaction_read_only') as read_only",
  );
  return rows[0]?.recovery === false && rows[0]?.read_only === 'off';
}

interface Active {
  label: string;
  pool: pg.Pool;
}

/**
 * DATABASE_URL with several hosts (or target_session_attrs): connections go only to the
 * primary. node-postgres has no multi-host support, so this does what libpq's
 * target_session_attrs=read-write does: it tries the hosts in the order given and keeps
 * a pool on the first that accepts writes. Every new connection is checked again (a host
 * can come back as a standby). When the host's connections fail, or it refuses a write
 * as a standby, the pool is dropped and the next connection looks for the primary again,
 * from the first host: after a failover, on the standby just promoted.
 *
 * The request that meets the failover answers 503 (or, when the new primary is already
 * there, is served on it); nothing is retried once a statement has been sent.
 */
export class PrimaryPool implements PostgresPool {
  private active: Active | undefined;
  private locating: Promise<Active> | undefined;
  /** Connections already found writable, so the check costs one round trip per connection, not per request. */
  private readonly checked = new WeakSet<pg.PoolClient>();
  private ended = false;

  constructor(
    private readonly target: PostgresTarget,
    private readonly settings: PoolSettings,
    private readonly logger?: Logger,
  ) {}

  async connect(): Promise<PostgresPoolClient> {
    // A second try when the first host tried fails at once: the primary may have moved.
    for (let attempt = 1; ; attempt += 1) {
      const active = await this.current();
      try {
        const client = await this.checkedClient(active);
        return faultTagged(client, (fault) => {
          if (hostGone(fault)) this.forget(active, fault);
        });
      } catch (error) {
        const fault = databaseFault(error);
        if (!(fault instanceof StoreUnavailableError)) throw fault;
        if (!connectFailedOnHost(fault, active.pool, this.settings.max ?? 10)) throw fault;
        this.forget(active, fault);
        if (attempt >= 2) throw fault;
      }
    }
  }

  async end(): Promise<void> {
    this.ended = true;
    const active = this.active;
    this.active = undefined;
    await active?.pool.end();
  }

  private async checkedClient(active: Active): Promise<pg.PoolClient> {
    const client = await active.pool.connect();
    if (!this.target.requirePrimary || this.checked.has(client)) return client;
    try {
      if (!await writable(client)) throw new StoreUnavailableError('database', { cause: new Error(`${active.label} is a standby or read-only`) });
    } catch (error) {
      client.release(true);
      throw error;
    }
    this.checked.add(client);
    return client;
  }

  private current(): Promise<Active> {
    if (this.active) return Promise.resolve(this.active);
    if (this.ended) return Promise.reject(new StoreUnavailableError('database', { cause: new Error('Cannot use a pool after calling end on the pool') }));
    // Many requests meeting a failover at once share one search.
    this.locating ??= this.locate().then((found) => {
      if (this.ended) {
        void found.pool.end();
        throw new StoreUnavailableError('database', { cause: new Error('Cannot use a pool after calling end on the pool') });
      }
      this.active = found;
      return found;
    }).finally(() => {
      this.locating = undefined;
    });
    return this.locating;
  }

  /** The first host, in order, that accepts a connection and writes. */
  private async locate(): Promise<Active> {
    const refused: string[] = [];
    for (const host of this.target.hosts) {
      const probe = new pg.Client({ connectionString: host.url, connectionTimeoutMillis: this.settings.connectionTimeoutMillis });
      probe.on('error', () => {});
      try {
        await probe.connect();
        if (!this.target.requirePrimary || await writable(probe)) {
          this.logger?.info({ host: host.label }, 'database primary found');
          return { label: host.label, pool: newPool(host.url, this.settings, this.logger) };
        }
        refused.push(`${host.label}: a standby or read-only`);
      } catch (error) {
        refused.push(`${host.label}: ${(error as Error).message}`);
      } finally {
        await probe.end().catch(() => {});
      }
    }
    throw new StoreUnavailableError('database', { cause: new Error(`no primary among the hosts (${refused.join('; ')})`) });
  }

  /** Drops the pool on a host that is gone or no primary; the next connection looks again. */
  private forget(active: Active, fault: StoreUnavailableError): void {
    if (this.active !== active) return;
    this.active = undefined;
    this.logger?.warn({ host: active.label, err: fault }, 'database host lost; looking for the primary again');
    // Connections still in use are closed as they are released.
    active.pool.end().catch(() => {});
  }
}
