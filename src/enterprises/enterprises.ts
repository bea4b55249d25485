import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { LogoutOutbox, PendingLogout } from '../oidc/logout-outbox.js';
import { AppError } from '../errors.js';
import type { Accounts } from '../identity/accounts.js';
import type { Enterprise, Registries } from '../ports/registries/index.js';
import type { Db } from '../store/db.js';
import { enterpriseStore, type EnterpriseRow } from './enterprise-store.js';
import { lookUp } from './registry-check.js';

/** The register's public data (the code is shown whole) and our status: what anyone allowed to see the enterprise sees. */
export type EnterpriseSummary = Pick<EnterpriseRow, 'id' | 'uscc' | 'name' | 'type' | 'status' | 'registry_status'>;

/** An enterprise as its representative sees it. */
export interface EnterpriseView extends EnterpriseSummary {
  registry_checked_at: string;
  role: 'legal_representative';
  level: 0;
  representative_since: string | null;
  enterprise_password_set: boolean;
}

export type RefreshOutcome = 'unchanged' | 'representative_changed' | 'status_changed' | 'renamed' | 'not_in_registry';

export interface SyncReport {
  checked: number;
  representativeChanged: number;
  statusChanged: number;
  renamed: number;
  notInRegistry: number;
  unavailable: number;
}

export function enterpriseView(row: EnterpriseRow): EnterpriseView {
  return {
    id: row.id,
    uscc: row.uscc,
    name: row.name,
    type: row.type,
    status: row.status,
    registry_status: row.registry_status,
    registry_checked_at: row.registry_checked_at.toISOString(),
    role: 'legal_representative',
    level: 0,
    representative_since: row.representative_since?.toISOString() ?? null,
    enterprise_password_set: row.password_hash !== null,
  };
}

/**
 * Legal persons (法人) and who holds root authority for them. The register is the
 * authority on the legal representative: whenever it names someone else, the account
 * bound so far loses root authority at once, and the seat stays empty until the new
 * representative claims it (registration.ts). Delegation grants are not touched here:
 * they stay in force, and the next representative sees and manages them.
 */
export class Enterprises {
  constructor(
    private readonly db: Db,
    private readonly accounts: Accounts,
    private readonly registries: Registries,
    private readonly audit: AuditLog,
    /**
     * Ends logins made in the enterprise's name: its representative's (root authority) once the
     * register names someone else, everyone's once the register no longer lists it as active.
     */
    private readonly logouts: LogoutOutbox,
  ) {}

  byId(id: string): Promise<EnterpriseRow | undefined> {
    return enterpriseStore.byId(this.db, id);
  }

  byUscc(uscc: string): Promise<EnterpriseRow | undefined> {
    return enterpriseStore.byUscc(this.db, uscc);
  }

  /** The enterprises this account holds root authority (level 0) for. */
  representedBy(accountId: string): Promise<EnterpriseRow[]> {
    return enterpriseStore.representedBy(this.db, accountId);
  }

  /** Whether the enterprise may act at all: active with us and on the register. */
  static canAct(row: EnterpriseRow): boolean {
    return row.status === 'active' && row.registry_status === 'active';
  }

  /**
   * Asks the register again and applies what it says: its status, and, when it names
   * another representative, empties the seat (and forgets the enterprise password the
   * old representative set). Audited when something changed.
   */
  async refreshFromRegistry(enterpriseId: string, meta: RequestMeta = {}): Promise<{ enterprise: EnterpriseRow; outcome: RefreshOutcome }> {
    const row = await this.byId(enterpriseId);
    if (!row) throw new AppError('enterprise_not_found');
    const entry = await lookUp(this.registries, row.uscc);
    if (!entry.found) {
      await this.audit.append({
        actor: { kind: 'system' }, action: 'enterprise.registry_check', target: { kind: 'enterprise', id: row.id }, result: 'failure',
        details: { outcome: 'not_in_registry' }, meta,
      });
      return { enterprise: row, outcome: 'not_in_registry' };
    }
    return this.applyEntry(row.id, entry, meta);
  }

  /**
   * Applies a register entry already fetched (registration looks it up anyway): its status,
   * its name and type (which tokens carry as `org`), and its representative. A new
   * representative empties the seat and ends the old one's logins in the enterprise's name.
   */
  async applyEntry(enterpriseId: string, entry: Enterprise, meta: RequestMeta = {}): Promise<{ enterprise: EnterpriseRow; outcome: RefreshOutcome }> {
    const { ended, ...applied } = await this.applyEntryOnce(enterpriseId, entry, meta);
    if (ended) await this.logouts.settle(ended);
    return applied;
  }

  private async applyEntryOnce(enterpriseId: string, entry: Enterprise, meta: RequestMeta): Promise<{ enterprise: EnterpriseRow; outcome: RefreshOutcome; ended?: PendingLogout }> {
    const representativeIdx = this.accounts.idNumberIndex(entry.legalRepresentative.idNumber);
    return this.db.transaction().execute(async (trx) => {
      const row = await enterpriseStore.lockById(trx, enterpriseId);
      if (!row) throw new AppError('enterprise_not_found');
      const now = new Date();
      const changedRepresentative = row.registry_representative_idx !== representativeIdx;
      const changedStatus = row.registry_status !== entry.status;
      const renamed = row.name !== entry.name || row.type !== entry.type;
      await enterpriseStore.update(trx, row.id, {
        registry_status: entry.status,
        registry_checked_at: now,
        ...(renamed ? { name: entry.name, type: entry.type } : {}),
        ...(changedRepresentative ? {
          registry_representative_idx: representativeIdx, representative_account_id: null, representative_since: null, password_hash: null,
        } : {}),
      });
      if (changedRepresentative) {
        await this.audit.append({
          actor: { kind: 'system' }, action: 'enterprise.representative.change', target: { kind: 'enterprise', id: row.id }, result: 'success',
          details: { previous_account: row.representative_account_id, uscc: row.uscc }, meta,
        }, trx);
      }
      if (changedStatus) {
        await this.audit.append({
          actor: { kind: 'system' }, action: 'enterprise.registry_status', target: { kind: 'enterprise', id: row.id }, result: 'success',
          details: { from: row.registry_status, to: entry.status }, meta,
        }, trx);
      }
      if (renamed) {
        await this.audit.append({
          actor: { kind: 'system' }, action: 'enterprise.registry_name', target: { kind: 'enterprise', id: row.id }, result: 'success',
          details: { from: row.name, to: entry.name, from_type: row.type, to_type: entry.type }, meta,
        }, trx);
      }
      const enterprise = (await enterpriseStore.byId(trx, row.id))!;
      const outcome: RefreshOutcome = changedRepresentative ? 'representative_changed' : changedStatus ? 'status_changed' : renamed ? 'renamed' : 'unchanged';
      // Only a change ends logins, so that asking the register again ends nothing twice.
      const whose = changedStatus && entry.status !== 'active' ? 'everyone' as const : changedRepresentative ? 'representative' as const : undefined;
      const ended = whose ? await this.logouts.enqueue(trx, { kind: 'enterprise', enterprise_id: row.id, whose }) : undefined;
      return { enterprise, outcome, ...(ended ? { ended } : {}) };
    });
  }

  /**
   * For acting in the enterprise's name (enterprise login, choosing the enterprise at
   * login): asks the register first, then requires the enterprise to be able to act and
   * this account to hold root authority. Throws `enterprise_not_representative` when the
   * register has since named someone else, `enterprise_not_active` when it may not act.
   */
  async ensureRepresentativeCurrent(enterpriseId: string, accountId: string, meta: RequestMeta = {}): Promise<EnterpriseRow> {
    return this.representedAfterRegisterCheck(enterpriseId, accountId, { unlisted: 'refuse' }, meta);
  }

  /**
   * Acting in the enterprise's name as its representative (the identity choice at login):
   * the register is asked and its answer applied first. An enterprise the register no longer
   * lists is left as it is, as `enterprises:sync` leaves it (the check is audited).
   */
  async confirmRepresentative(enterpriseId: string, accountId: string, meta: RequestMeta = {}): Promise<void> {
    await this.representedAfterRegisterCheck(enterpriseId, accountId, { unlisted: 'keep' }, meta);
  }

  /** The register's answer applied, then: may this account act as the enterprise's representative? */
  private async representedAfterRegisterCheck(enterpriseId: string, accountId: string, options: { unlisted: 'refuse' | 'keep' }, meta: RequestMeta): Promise<EnterpriseRow> {
    const { enterprise, outcome } = await this.refreshFromRegistry(enterpriseId, meta);
    const unlistedRefused = outcome === 'not_in_registry' && options.unlisted === 'refuse';
    if (unlistedRefused || !Enterprises.canAct(enterprise)) throw new AppError('enterprise_not_active', { status: enterprise.registry_status });
    if (enterprise.representative_account_id !== accountId) throw new AppError('enterprise_not_representative');
    return enterprise;
  }

  /** The enterprise, if this account holds root authority for it now (no register call). */
  async heldBy(enterpriseId: string, accountId: string): Promise<EnterpriseRow> {
    const row = await this.byId(enterpriseId);
    if (!row) throw new AppError('enterprise_not_found');
    if (row.representative_account_id !== accountId) throw new AppError('enterprise_not_representative');
    return row;
  }

  /** Every enterprise against the register (`npm run cli -- enterprises:sync`); one unavailable answer does not stop the rest. */
  async syncAll(): Promise<SyncReport> {
    const report: SyncReport = { checked: 0, representativeChanged: 0, statusChanged: 0, renamed: 0, notInRegistry: 0, unavailable: 0 };
    for (const id of await enterpriseStore.allIds(this.db)) {
      try {
        const { outcome } = await this.refreshFromRegistry(id);
        report.checked += 1;
        if (outcome === 'representative_changed') report.representativeChanged += 1;
        if (outcome === 'status_changed') report.statusChanged += 1;
        if (outcome === 'renamed') report.renamed += 1;
        if (outcome === 'not_in_registry') report.notInRegistry += 1;
      } catch (error) {
        if (error instanceof AppError && error.code === 'registry_unavailable') {
          report.unavailable += 1;
          continue;
        }
        throw error;
      }
    }
    return report;
  }
}
