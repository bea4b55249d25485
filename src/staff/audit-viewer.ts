import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { searchAudit, type AuditFilter, type AuditRow } from '../audit/audit-search.js';
import type { Db } from '../store/db.js';
import { authorize, type StaffActor } from './roles.js';
import { staffStore } from './staff-store.js';

/** A record as the auditor reads it: staff named by their usernames as well as their ids. */
export type AuditRecordView = AuditRow & { actor_username: string | null; target_username: string | null };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const PAGE = 100;
const EXPORT_LIMIT = 50_000;
const CSV_COLUMNS = ['seq', 'at', 'actor_kind', 'actor_id', 'action', 'target_kind', 'target_id', 'result', 'ip', 'user_agent', 'request_id', 'details', 'prev_hash', 'hash'] as const;

/** RFC 4180 quoting; a leading =, +, - or @ is defused so a spreadsheet never runs a cell as a formula. */
function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The audit log for auditors, and for auditors only (separation of duties: those who act
 * on accounts do not read or export the record of it). Reading and exporting are audited.
 */
export class AuditViewer {
  constructor(private readonly db: Db, private readonly audit: AuditLog) {}

  async search(actor: StaffActor, filter: AuditFilter, meta: RequestMeta): Promise<{ records: AuditRecordView[]; next?: number }> {
    await authorize(this.audit, actor, ['auditor'], 'audit.view', meta);
    const records = await searchAudit(this.db, await this.byUsername(filter), PAGE);
    await this.audit.append({ actor: { kind: 'staff', id: actor.id }, action: 'audit.view', result: 'success', details: { filter: describe(filter), count: records.length }, meta });
    return { records: await this.named(records), ...(records.length === PAGE ? { next: records.at(-1)!.seq } : {}) };
  }

  /** An actor typed as a staff username is looked for by that member's id. */
  private async byUsername(filter: AuditFilter): Promise<AuditFilter> {
    if (!filter.actorId || UUID.test(filter.actorId)) return filter;
    const member = await staffStore.byUsername(this.db, filter.actorId.toLowerCase());
    return member ? { ...filter, actorId: member.id } : filter;
  }

  /** The usernames of the staff members the records name, looked up once for the page. */
  private async named(records: AuditRow[]): Promise<AuditRecordView[]> {
    const ids = records.flatMap((r) => [r.actor_kind === 'staff' ? r.actor_id : null, r.target_kind === 'staff' ? r.target_id : null]).filter((id): id is string => Boolean(id));
    const names = await staffStore.usernames(this.db, ids);
    return records.map((r) => ({
      ...r,
      actor_username: r.actor_kind === 'staff' && r.actor_id ? names.get(r.actor_id) ?? null : null,
      target_username: r.target_kind === 'staff' && r.target_id ? names.get(r.target_id) ?? null : null,
    }));
  }

  async exportCsv(actor: StaffActor, filter: AuditFilter, meta: RequestMeta): Promise<string> {
    await authorize(this.audit, actor, ['auditor'], 'audit.export', meta);
    const records = await searchAudit(this.db, await this.byUsername(filter), EXPORT_LIMIT);
    await this.audit.append({ actor: { kind: 'staff', id: actor.id }, action: 'audit.export', result: 'success', details: { filter: describe(filter), count: records.length }, meta });
    const lines = [CSV_COLUMNS.join(','), ...records.map((row) => CSV_COLUMNS.map((column) => csvCell(row[column])).join(','))];
    return `\uFEFF${lines.join('\r\n')}\r\n`;
  }
}

function describe(filter: AuditFilter): Record<string, string> {
  return Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : String(v)]));
}
