import type { Db } from '../store/db.js';
import type { AuditResult } from './audit-log.js';

/** One audit record as an account's owner sees it: no actor ids, no addresses, masked details only. */
export interface SecurityEvent {
  at: Date;
  action: string;
  result: AuditResult;
  details: Record<string, unknown>;
}

/**
 * The latest audit records about one account (it is their target), newest first. The
 * details were scrubbed and masked when written (audit-log.ts), so they can be shown
 * as they are. Served by the (target_kind, target_id, seq) index.
 */
export async function recentAccountEvents(db: Db, accountId: string, limit = 50): Promise<SecurityEvent[]> {
  return recentTargetEvents(db, 'account', accountId, limit);
}

/** The latest audit records about any one target (an enterprise, for the console), newest first. */
export async function recentTargetEvents(db: Db, targetKind: string, targetId: string, limit = 50): Promise<SecurityEvent[]> {
  const rows = await db.selectFrom('audit_log').select(['at', 'action', 'result', 'details'])
    .where('target_kind', '=', targetKind).where('target_id', '=', targetId)
    .orderBy('seq', 'desc').limit(limit).execute();
  return rows.map((row) => ({ at: row.at, action: row.action, result: row.result, details: row.details ?? {} }));
}

/** The same query behind a service, so HTTP code asks for events and never touches the database. */
export class SecurityEvents {
  constructor(private readonly db: Db) {}

  recent(accountId: string, limit = 50): Promise<SecurityEvent[]> {
    return recentAccountEvents(this.db, accountId, limit);
  }

  recentOf(targetKind: string, targetId: string, limit = 50): Promise<SecurityEvent[]> {
    return recentTargetEvents(this.db, targetKind, targetId, limit);
  }
}
