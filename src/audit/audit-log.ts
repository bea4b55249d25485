import { createHash } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Db } from '../store/db.js';
import type { AuditLogTable, Database } from '../store/schema.js';
import { canonicalJson } from './canonical.js';

export type ActorKind = 'citizen' | 'staff' | 'client' | 'system' | 'anonymous';
export type AuditResult = 'success' | 'failure' | 'denied';

/** Where a request came from; every audited act carries it. */
export interface RequestMeta {
  ip?: string;
  userAgent?: string;
  requestId?: string;
}

export interface AuditEvent {
  actor: { kind: ActorKind; id?: string };
  action: string;
  target?: { kind: string; id: string };
  result: AuditResult;
  /** Masked values only; fields that look like raw personal data or secrets are dropped. */
  details?: Record<string, unknown>;
  meta?: RequestMeta;
}

export const GENESIS_HASH = '0'.repeat(64);
// Any fixed number: all writers of the log serialise on this one advisory lock.
const AUDIT_LOCK = 7_305_114_022;
const FORBIDDEN_DETAIL = /^(password|secret|code|otp|token|id_?number|phone|card|account_?number|file_?number|name)$/i;

type Executor = Db | Transaction<Database>;
type ChainedFields = Omit<AuditLogTable, 'hash' | 'details' | 'at'> & { at: Date; details: Record<string, unknown> };

function scrub(details: Record<string, unknown> = {}): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).filter(([key]) => !FORBIDDEN_DETAIL.test(key)));
}

/** SHA-256 over the previous hash and the canonical record: changing any row breaks every later hash. */
export function hashRecord(record: ChainedFields): string {
  const { prev_hash: previous, ...fields } = record;
  return createHash('sha256').update(previous).update('\n').update(canonicalJson({ ...fields, at: fields.at.toISOString() })).digest('hex');
}

export type VerifyResult =
  | { ok: true; count: number; head: string }
  | { ok: false; count: number; brokenAt: number; reason: string };

/**
 * The append-only, hash-chained audit log (GB/T 22239 level 3: who, when, what, result,
 * protected against change). The table refuses UPDATE, DELETE and TRUNCATE; the chain
 * reveals edits made by anyone who can bypass that.
 */
export class AuditLog {
  /** Events waiting for the next write, with the callers waiting on them. */
  private queued: Array<{ event: AuditEvent; settle: (error: unknown, written?: { seq: number; hash: string }) => void }> = [];
  private writing = false;

  constructor(private readonly db: Db) {}

  /**
   * Appends inside the caller's transaction when given one, so the act and its record
   * commit together. Otherwise the event joins the next batch: every writer serialises
   * on one lock, so under load many events share one lock, one read of the head and one
   * insert, and each caller still returns only once its record is committed.
   */
  async append(event: AuditEvent, trx?: Transaction<Database>): Promise<{ seq: number; hash: string }> {
    if (trx) return (await this.appendWith(trx, [event]))[0]!;
    return new Promise((resolve, reject) => {
      this.queued.push({ event, settle: (error, written) => (error ? reject(error) : resolve(written!)) });
      if (!this.writing) void this.writeQueued();
    });
  }

  private async writeQueued(): Promise<void> {
    this.writing = true;
    try {
      while (this.queued.length > 0) {
        const batch = this.queued.splice(0, 500);
        try {
          const written = await this.db.transaction().execute((own) => this.appendWith(own, batch.map((entry) => entry.event)));
          batch.forEach((entry, i) => entry.settle(undefined, written[i]));
        } catch (error) {
          for (const entry of batch) entry.settle(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async appendWith(trx: Executor, events: AuditEvent[]): Promise<Array<{ seq: number; hash: string }>> {
    await sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`.execute(trx);
    const last = await trx.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    let seq = Number(last?.seq ?? 0);
    let previous = last?.hash ?? GENESIS_HASH;
    const at = new Date();
    const rows = events.map((event) => {
      const record: ChainedFields = {
        seq: ++seq,
        at,
        actor_kind: event.actor.kind,
        actor_id: event.actor.id ?? null,
        action: event.action,
        target_kind: event.target?.kind ?? null,
        target_id: event.target?.id ?? null,
        result: event.result,
        ip: event.meta?.ip ?? null,
        user_agent: event.meta?.userAgent?.slice(0, 512) ?? null,
        request_id: event.meta?.requestId ?? null,
        details: scrub(event.details),
        prev_hash: previous,
      };
      previous = hashRecord(record);
      return { ...record, details: JSON.stringify(record.details), hash: previous };
    });
    await trx.insertInto('audit_log').values(rows).execute();
    return rows.map((row) => ({ seq: row.seq, hash: row.hash }));
  }

  /** Recomputes the chain from the first record kept; names the first record that does not fit. */
  async verify(batchSize = 5_000): Promise<VerifyResult> {
    let previous: string | undefined;
    let expectedSeq: number | undefined;
    let count = 0;
    for (;;) {
      const rows = await this.db.selectFrom('audit_log').selectAll()
        .where('seq', '>', expectedSeq === undefined ? 0 : expectedSeq - 1)
        .orderBy('seq').limit(batchSize).execute();
      if (rows.length === 0) break;
      for (const row of rows) {
        if (expectedSeq !== undefined && Number(row.seq) !== expectedSeq) {
          return { ok: false, count, brokenAt: expectedSeq, reason: 'record missing' };
        }
        // Records purged after the retention period leave the oldest kept one as the anchor.
        if (previous !== undefined && row.prev_hash !== previous) {
          return { ok: false, count, brokenAt: Number(row.seq), reason: 'previous hash does not match' };
        }
        const { hash: stored, ...fields } = row;
        const recomputed = hashRecord({ ...fields, seq: Number(row.seq), details: row.details as Record<string, unknown> });
        if (recomputed !== stored) return { ok: false, count, brokenAt: Number(row.seq), reason: 'record altered' };
        previous = row.hash;
        expectedSeq = Number(row.seq) + 1;
        count += 1;
      }
    }
    return { ok: true, count, head: previous ?? GENESIS_HASH };
  }
}
