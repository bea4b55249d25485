import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { AuditEvent, AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import type { Database } from '../store/schema.js';
import type { AccountSessions } from './account-sessions.js';

/**
 * What an act leaves to end once it has committed:
 * - `account`: every session, grant and token of the account (reset, ban, deregistration, recovery);
 * - `account_but`: all of them but the session (by its handle, never its id) and grants the
 *   person is using (their own password change);
 * - `logins`: particular provider Grants (a WeChat binding removed);
 * - `delegation_grants`: every login acting under these delegation grants (cancelled, narrowed);
 * - `enterprise`: every login in the enterprise's name, or only its representative's.
 */
export type LogoutJob =
  | { kind: 'account'; account_id: string }
  | { kind: 'account_but'; account_id: string; keep: { session_handle?: string; session_uid?: string; grant_ids: string[] } }
  | { kind: 'logins'; grant_ids: string[] }
  | { kind: 'delegation_grants'; grant_ids: string[] }
  | { kind: 'enterprise'; enterprise_id: string; whose: 'representative' | 'everyone' };

/** The audit record of the logins ended, written when they are (its details get the counts). */
export interface LogoutRecord {
  actor: AuditEvent['actor'];
  action: string;
  target: { kind: string; id: string };
  details: Record<string, unknown>;
  meta: RequestMeta;
}

/** What ending took: sessions ended and grants (logins) revoked; `pending` when it is left to the sweep. */
export interface LogoutOutcome {
  sessions: number;
  grants: number;
  pending?: true;
}

/** A job written in an act's transaction, to `settle` once that transaction has committed. */
export interface PendingLogout {
  id: string;
  job: LogoutJob;
  record?: LogoutRecord;
}

/** Resolves delegation and enterprise jobs into the provider Grants acting under them. */
export interface ActingLogins {
  loginsUnder(delegationGrantIds: string[]): Promise<string[]>;
  loginsFor(enterpriseId: string): Promise<string[]>;
  rootLoginsFor(enterpriseId: string): Promise<string[]>;
}

export interface LogoutOutboxOptions {
  /** How long a written job waits for its act to settle it before any instance retries it; also the sweep interval. */
  retrySeconds: number;
  logger: Logger;
}

/** At most this many jobs per sweep, and a retry never waits longer than this. */
const SWEEP_BATCH = 20;
const MAX_BACKOFF_SECONDS = 15 * 60;

/**
 * The outbox of logins to end. An act writes its job in its own transaction (`enqueue`)
 * and, once committed, ends the logins at once (`settle`): so the person and the relying
 * parties see the effect within the request, as before. When that fails (a store fault, a
 * crash between the commit and the end), the job stays and every instance's `sweep` takes
 * it up when due, each job by one instance at a time (a claim moves its due time on, with
 * back-off), until it is done. Ending is idempotent (what is gone stays gone; a login
 * already ended is not announced again), so a job run twice does no harm.
 */
export class LogoutOutbox {
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;

  constructor(
    private readonly db: Db,
    private readonly sessions: AccountSessions,
    private readonly acting: ActingLogins,
    private readonly audit: AuditLog,
    private readonly options: LogoutOutboxOptions,
  ) {}

  /** Writes the job in the act's transaction; nothing happens unless it commits. */
  async enqueue(trx: Transaction<Database>, job: LogoutJob, record?: LogoutRecord): Promise<PendingLogout> {
    const id = randomUUID();
    await trx.insertInto('logout_outbox').values({
      id,
      job: JSON.stringify({ job, ...(record ? { record } : {}) }),
      due_at: sql<Date>`now() + make_interval(secs => ${this.options.retrySeconds})`,
    }).execute();
    return { id, job, ...(record ? { record } : {}) };
  }

  /**
   * Ends what a committed act left, now. A failure is logged and left to the sweep: the
   * act is done and will have its effect, which the answer reports as `pending`.
   */
  async settle(pending: PendingLogout): Promise<LogoutOutcome> {
    try {
      return await this.run(pending);
    } catch (error) {
      this.options.logger.warn({ err: error, job: pending.job.kind, outbox: pending.id }, 'ending logins failed; retried by the outbox');
      return { sessions: 0, grants: 0, pending: true };
    }
  }

  /** Runs the jobs that are due (claimed one instance at a time); returns how many were done. */
  async sweep(): Promise<number> {
    const claimed = await this.db.transaction().execute(async (trx) => {
      const due = await trx.selectFrom('logout_outbox').select('id')
        .where('due_at', '<=', sql<Date>`now()`).orderBy('due_at').limit(SWEEP_BATCH)
        .forUpdate().skipLocked().execute();
      if (due.length === 0) return [];
      return trx.updateTable('logout_outbox')
        .set({
          attempts: sql`attempts + 1`,
          due_at: sql<Date>`now() + make_interval(secs => least(${MAX_BACKOFF_SECONDS}, ${this.options.retrySeconds} * power(2, attempts)))`,
        })
        .where('id', 'in', due.map((row) => row.id))
        .returning(['id', 'job', 'attempts']).execute();
    });
    let done = 0;
    for (const row of claimed) {
      const stored = row.job as unknown as { job: LogoutJob; record?: LogoutRecord };
      try {
        await this.run({ id: row.id, ...stored });
        done += 1;
      } catch (error) {
        this.options.logger.warn({ err: error, job: stored.job.kind, outbox: row.id, attempts: row.attempts }, 'ending logins failed again; retried later');
        await this.db.updateTable('logout_outbox').set({ last_error: error instanceof Error ? error.message.slice(0, 500) : String(error) })
          .where('id', '=', row.id).execute().catch(() => {});
      }
    }
    return done;
  }

  /** How many jobs wait (for /metrics). */
  async waiting(): Promise<number> {
    const row = await this.db.selectFrom('logout_outbox').select((eb) => eb.fn.countAll<string>().as('waiting')).executeTakeFirst();
    return Number(row?.waiting ?? 0);
  }

  /** Sweeps every `retrySeconds` until stopped; a failed sweep (the store down) is tried at the next. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.sweep()
        .then((done) => { if (done > 0) this.options.logger.info({ done }, 'outbox ended logins left by earlier acts'); })
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'logout outbox sweep failed'))
        .finally(() => { this.sweeping = undefined; });
    }, this.options.retrySeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  /** Ends the job's logins, records it, then forgets the job. */
  private async run(pending: PendingLogout): Promise<LogoutOutcome> {
    const outcome = await this.end(pending.job);
    if (pending.record) {
      const { actor, action, target, details, meta } = pending.record;
      await this.audit.append({ actor, action, target, result: 'success', details: { ...details, sessions: outcome.sessions, grants: outcome.grants }, meta });
    }
    await this.db.deleteFrom('logout_outbox').where('id', '=', pending.id).execute();
    return outcome;
  }

  private async end(job: LogoutJob): Promise<LogoutOutcome> {
    switch (job.kind) {
      case 'account': {
        const { sessions, grants } = await this.sessions.revokeAll(job.account_id);
        return { sessions: sessions.length, grants: grants.length };
      }
      case 'account_but':
        return this.sessions.revokeOthers(job.account_id, {
          ...(job.keep.session_handle ? { sessionHandle: job.keep.session_handle } : {}),
          ...(job.keep.session_uid ? { sessionUid: job.keep.session_uid } : {}),
          grantIds: job.keep.grant_ids,
        });
      case 'logins':
        return { sessions: 0, grants: (await this.sessions.endLogins(job.grant_ids)).length };
      case 'delegation_grants':
        return { sessions: 0, grants: (await this.sessions.endLogins(await this.acting.loginsUnder(job.grant_ids))).length };
      case 'enterprise': {
        const logins = job.whose === 'everyone' ? await this.acting.loginsFor(job.enterprise_id) : await this.acting.rootLoginsFor(job.enterprise_id);
        return { sessions: 0, grants: (await this.sessions.endLogins(logins)).length };
      }
    }
  }
}
