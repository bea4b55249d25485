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

/** The latest successful record of one act on a target (the ban an unban would lift, say), with who did it. */
export async function latestAct(db: Db, targetKind: string, targetId: string, action: string): Promise<{ at: Date; actorId: string | null; details: Record<string, unknown> } | undefined> {
  const row = await db.selectFrom('audit_log').select(['at', 'actor_id', 'details'])
    .where('target_kind', '=', targetKind).where('target_id', '=', targetId).where('action', '=', action).where('result', '=', 'success')
    .orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return row ? { at: row.at, actorId: row.actor_id, details: row.details ?? {} } : undefined;
}

/** The distinct network addresses of the latest successful records of one act on a target (a member's sign-ins, say), newest first. */
export async function addressesOf(db: Db, targetKind: string, targetId: string, action: string, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('audit_log').select('ip')
    .where('target_kind', '=', targetKind).where('target_id', '=', targetId).where('action', '=', action).where('result', '=', 'success').where('ip', 'is not', null)
    .orderBy('seq', 'desc').limit(limit).execute();
  return [...new Set(rows.map((row) => row.ip!))];
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

  /** The grounds of a request to undo an act: the act's latest record, as an approver is shown it. */
  async grounds(targetKind: string, targetId: string, action: string): Promise<{ action: string; at: string; by?: string; reason?: string; note?: string } | undefined> {
    const act = await latestAct(this.db, targetKind, targetId, action);
    if (!act) return undefined;
    const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
    const reason = text(act.details.reason);
    const note = text(act.details.note);
    return { action, at: act.at.toISOString(), ...(act.actorId ? { by: act.actorId } : {}), ...(reason ? { reason } : {}), ...(note ? { note } : {}) };
  }
}
