import type { Transaction } from 'kysely';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { SecurityEvents } from '../audit/audit-queries.js';
import type { Delegations } from '../delegation/delegations.js';
import { grantStore } from '../delegation/grant-store.js';
import { enterpriseStore, type EnterpriseRow } from '../enterprises/enterprise-store.js';
import type { EnterpriseSummary } from '../enterprises/enterprises.js';
import { validUscc } from '../enterprises/registry-check.js';
import { AppError } from '../errors.js';
import type { Accounts } from '../identity/accounts.js';
import type { LogoutOutbox } from '../oidc/logout-outbox.js';
import type { Db } from '../store/db.js';
import type { Database } from '../store/schema.js';
import type { ApprovalRow } from './staff-store.js';
import type { Approvals, ApprovalView } from './approvals.js';
import { authorize, refuse, type StaffActor } from './roles.js';
import type { StaffSessions } from './staff-sessions.js';


export interface EnterpriseDetail extends EnterpriseSummary {
  registry_checked_at: string;
  registered_at: string;
  /** Null between a change on the register and the new representative's claim. */
  representative: { account_id: string; name_masked: string; id_number_masked: string; phone_masked?: string; since: string | null } | null;
  grants: { total: number; by_level_status: Array<{ level: number; status: string; count: number }> };
  counter_registrations: Array<{ at: string; mode: string; power_of_attorney_number: string | null; power_of_attorney_sha256: string | null; delegate_id_number_masked: string | null }>;
  events: Array<{ at: string; action: string; result: string; details: Record<string, unknown> }>;
  approvals: ApprovalView[];
}

const VIEWERS = ['agent', 'supervisor'] as const;

/**
 * The helpdesk's work on enterprise accounts: find one by its unified social credit code
 * (exact, validated first), read it (representative masked), deregister it, and ask for
 * it to be restored, which a supervisor other than the requester decides. An agent acts
 * only on an enterprise their own search (or counter registration) in this session found.
 *
 * Deregistration revokes every delegation grant of the enterprise through the delegation
 * cascade and ends every login acting for it; restoring makes the enterprise active again
 * and nothing more: the revoked grants stay revoked, to be granted anew by its holders.
 */
export class EnterpriseDesk {
  constructor(
    private readonly db: Db,
    private readonly accounts: Accounts,
    private readonly delegations: Delegations,
    private readonly logouts: LogoutOutbox,
    private readonly staffSessions: StaffSessions,
    private readonly events: SecurityEvents,
    private readonly approvals: Approvals,
    private readonly audit: AuditLog,
  ) {
    approvals.onApproved('enterprise.restore', (approval, decider, trx, meta) => this.restore(approval, decider, trx, meta));
    approvals.describe('enterprise.restore', async (enterpriseId) => {
      const row = await enterpriseStore.byId(this.db, enterpriseId);
      if (!row) return undefined;
      const grounds = await this.events.grounds('enterprise', enterpriseId, 'enterprise.deregister');
      return { label: `${row.name}（${row.uscc}）`, href: `/admin/enterprises/${enterpriseId}`, ...(grounds ? { grounds } : {}) };
    });
  }

  private summary(row: EnterpriseRow): EnterpriseSummary {
    return { id: row.id, uscc: row.uscc, name: row.name, type: row.type, status: row.status, registry_status: row.registry_status };
  }

  /** Exact search by code; a code failing its check character is refused before any lookup. */
  async search(actor: StaffActor, query: string, meta: RequestMeta): Promise<EnterpriseSummary[]> {
    await authorize(this.audit, actor, VIEWERS, 'enterprise.search', meta);
    const uscc = validUscc(query);
    const hit = await enterpriseStore.byUscc(this.db, uscc);
    if (hit) await this.staffSessions.remember(actor.sessionHandle, hit.id);
    await this.audit.append({
      actor: { kind: 'staff', id: actor.id }, action: 'enterprise.search', result: 'success', ...(hit ? { target: { kind: 'enterprise', id: hit.id } } : {}),
      details: { uscc, found: Boolean(hit) }, meta,
    });
    return hit ? [this.summary(hit)] : [];
  }

  /** The enterprise, if this session's search found it; refused and audited otherwise. */
  private async found(actor: StaffActor, enterpriseId: string, action: string, meta: RequestMeta): Promise<EnterpriseRow> {
    // The enterprise this session's search found, or one a request this member may decide is about.
    const mayLook = await this.staffSessions.found(actor.sessionHandle, enterpriseId) || await this.approvals.decidable(actor, enterpriseId);
    const row = mayLook ? await enterpriseStore.byId(this.db, enterpriseId) : undefined;
    if (!row) return refuse(this.audit, actor, action, new AppError('outside_search'), meta, { kind: 'enterprise', id: enterpriseId });
    return row;
  }

  async detail(actor: StaffActor, enterpriseId: string, meta: RequestMeta): Promise<EnterpriseDetail> {
    await authorize(this.audit, actor, VIEWERS, 'enterprise.view', meta);
    const row = await this.found(actor, enterpriseId, 'enterprise.view', meta);
    const [representative, counts, records, events, approvals] = await Promise.all([
      row.representative_account_id ? this.accounts.profile(row.representative_account_id) : Promise.resolve(undefined),
      grantStore.countsOf(this.db, row.id),
      enterpriseStore.counterRecords(this.db, row.id),
      this.events.recentOf('enterprise', row.id, 20),
      this.approvals.list(actor, { targetId: row.id }, meta),
    ]);
    await this.audit.append({ actor: { kind: 'staff', id: actor.id }, action: 'enterprise.view', target: { kind: 'enterprise', id: row.id }, result: 'success', meta });
    return {
      ...this.summary(row),
      registry_checked_at: new Date(row.registry_checked_at).toISOString(),
      registered_at: new Date(row.created_at).toISOString(),
      representative: representative ? {
        account_id: representative.id, name_masked: representative.masked.name, id_number_masked: representative.masked.idNumber,
        ...(representative.masked.phone ? { phone_masked: representative.masked.phone } : {}),
        since: row.representative_since ? new Date(row.representative_since).toISOString() : null,
      } : null,
      grants: { total: counts.reduce((sum, c) => sum + c.count, 0), by_level_status: counts },
      counter_registrations: records.map((r) => ({
        at: new Date(r.created_at).toISOString(), mode: r.mode, power_of_attorney_number: r.power_of_attorney_number,
        power_of_attorney_sha256: r.power_of_attorney_sha256, delegate_id_number_masked: r.delegate_id_number_masked,
      })),
      events: events.map((e) => ({ at: new Date(e.at).toISOString(), action: e.action, result: e.result, details: e.details })),
      approvals,
    };
  }

  /**
   * Deregistration (注销) by an agent, with a reason: in one transaction the enterprise
   * becomes `deregistered` and every delegation grant still in force is revoked (the
   * delegation cascade, each in its history); then every login acting for the enterprise
   * (by root authority or under a grant) is ended, so its refresh tokens stop at once.
   */
  async deregister(actor: StaffActor, enterpriseId: string, reason: string, meta: RequestMeta): Promise<{ revoked_grants: number; ended_logins: number; logins_pending?: true }> {
    const action = 'enterprise.deregister';
    await authorize(this.audit, actor, ['agent'], action, meta);
    const row = await this.found(actor, enterpriseId, action, meta);
    const target = { kind: 'enterprise', id: row.id };
    const text = reason.trim();
    if (text.length < 2 || text.length > 500) return refuse(this.audit, actor, action, new AppError('invalid_input', { field: 'reason' }), meta, target);
    const revoked = await this.db.transaction().execute(async (trx) => {
      if (!await enterpriseStore.changeStatus(trx, row.id, 'active', 'deregistered')) return undefined;
      const ids = await this.delegations.revokeAllOf(trx, row.id, { action, staffId: actor.id }, meta);
      await this.audit.append({ actor: { kind: 'staff', id: actor.id }, action, target, result: 'success', details: { reason: text, uscc: row.uscc, revoked_grants: ids.length }, meta }, trx);
      // Every login in its name, by root authority or under any of the grants just revoked.
      return { ids, ending: await this.logouts.enqueue(trx, { kind: 'enterprise', enterprise_id: row.id, whose: 'everyone' }) };
    });
    if (!revoked) return refuse(this.audit, actor, action, new AppError('account_not_active'), meta, target);
    const ended = await this.logouts.settle(revoked.ending);
    return { revoked_grants: revoked.ids.length, ended_logins: ended.grants, ...(ended.pending ? { logins_pending: true as const } : {}) };
  }

  /** Asks a supervisor to restore a deregistered enterprise; refused (and audited) for any other. */
  async requestRestore(actor: StaffActor, enterpriseId: string, reason: string, meta: RequestMeta): Promise<ApprovalView> {
    const action = 'approval.request.enterprise.restore';
    await authorize(this.audit, actor, ['agent'], action, meta);
    const row = await this.found(actor, enterpriseId, action, meta);
    if (row.status !== 'deregistered') return refuse(this.audit, actor, action, new AppError('enterprise_not_deregistered'), meta, { kind: 'enterprise', id: row.id });
    return this.approvals.request('enterprise.restore', row.id, reason, actor, meta);
  }

  /** The approved restore, inside the deciding transaction: active again; revoked grants stay revoked. */
  private async restore(approval: ApprovalRow, decider: StaffActor, trx: Transaction<Database>, meta: RequestMeta): Promise<void> {
    if (!await enterpriseStore.changeStatus(trx, approval.target_id, 'deregistered', 'active')) throw new AppError('enterprise_not_deregistered');
    await this.audit.append({
      actor: { kind: 'staff', id: decider.id }, action: 'enterprise.restore', target: { kind: 'enterprise', id: approval.target_id }, result: 'success',
      details: { approval: approval.id, requested_by: approval.requested_by, grants_restored: 0 }, meta,
    }, trx);
  }
}
