import { sql } from 'kysely';
import type { Db } from '../store/db.js';
import type { AuditLog, VerifyResult } from './audit-log.js';

/** The floor the database enforces too (migration 0004): six months, GB/T 22239 level 3. */
export const MIN_AUDIT_RETENTION_DAYS = 180;

/**
 * Keeping the audit log: the daily check of the whole chain, and the purge of records
 * older than the retention period. Only the oldest records go, so the oldest one kept
 * anchors the chain (audit-log.ts verify); the purge itself is audited.
 */
export class AuditRetention {
  constructor(private readonly db: Db, private readonly audit: AuditLog, private readonly retentionDays: number) {
    if (retentionDays < MIN_AUDIT_RETENTION_DAYS) throw new RangeError(`audit retention must be at least ${MIN_AUDIT_RETENTION_DAYS} days`);
  }

  /** Removes records older than the retention period; returns how many. */
  async purge(): Promise<number> {
    const cutoff = new Date(Date.now() - this.retentionDays * 86_400_000);
    const removed = await this.db.transaction().execute(async (trx) => {
      await sql`select set_config('civic.audit_purge', 'on', true)`.execute(trx);
      // A first purge after a long time can take longer than a request may.
      await sql`set local statement_timeout = 0`.execute(trx);
      const result = await trx.deleteFrom('audit_log').where('at', '<', cutoff).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
    if (removed > 0) {
      await this.audit.append({ actor: { kind: 'system' }, action: 'audit.purge', result: 'success', details: { removed, retention_days: this.retentionDays, before: cutoff.toISOString() } });
    }
    return removed;
  }

  /** The daily job: verify the chain (its head hash goes to the log), then purge. */
  async daily(): Promise<{ verified: VerifyResult; purged: number }> {
    const verified = await this.audit.verify();
    await this.audit.append({
      actor: { kind: 'system' }, action: 'audit.verify', result: verified.ok ? 'success' : 'failure',
      details: verified.ok ? { count: verified.count, head: verified.head } : { count: verified.count, broken_at: verified.brokenAt, reason: verified.reason },
    });
    // A broken chain is evidence: nothing is purged until someone has looked.
    const purged = verified.ok ? await this.purge() : 0;
    return { verified, purged };
  }
}
