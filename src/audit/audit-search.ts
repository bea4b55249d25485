import type { Db } from '../store/db.js';
import type { AuditLogTable } from '../store/schema.js';
import type { Selectable } from 'kysely';

export type AuditRow = Selectable<AuditLogTable>;

export interface AuditFilter {
  from?: Date;
  to?: Date;
  actorKind?: string;
  actorId?: string;
  /** An exact action, or a prefix ending in a dot (`account.` matches account.ban, account.register …). */
  action?: string;
  targetId?: string;
  result?: AuditRow['result'];
  /** Records before this sequence number (the next page). */
  beforeSeq?: number;
}

/** The audit log searched for the auditor, newest first; nothing here writes. */
export async function searchAudit(db: Db, filter: AuditFilter, limit: number): Promise<AuditRow[]> {
  let query = db.selectFrom('audit_log').selectAll();
  if (filter.from) query = query.where('at', '>=', filter.from);
  if (filter.to) query = query.where('at', '<', filter.to);
  if (filter.actorKind) query = query.where('actor_kind', '=', filter.actorKind);
  if (filter.actorId) query = query.where('actor_id', '=', filter.actorId);
  if (filter.action) {
    query = filter.action.endsWith('.')
      ? query.where('action', 'like', `${filter.action.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
      : query.where('action', '=', filter.action);
  }
  if (filter.targetId) query = query.where('target_id', '=', filter.targetId);
  if (filter.result) query = query.where('result', '=', filter.result);
  if (filter.beforeSeq) query = query.where('seq', '<', filter.beforeSeq);
  const rows = await query.orderBy('seq', 'desc').limit(limit).execute();
  return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
}
