import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import type { Db } from '../store/db.js';
import type { ApprovalKind, Database, StaffRole } from '../store/schema.js';
import { authorize, refuse, type StaffActor } from './roles.js';
import { isUniqueViolation, staffStore, type ApprovalRow } from './staff-store.js';

/** A request not decided within a week expires; it is kept, marked expired. */
export const APPROVAL_TTL_DAYS = 7;

/** Who may ask for each act, and who may decide it (never the same person, see decide()). */
const RULES: Record<ApprovalKind, { requester: StaffRole; decider: StaffRole; targetKind: string }> = {
  'account.unban': { requester: 'agent', decider: 'supervisor', targetKind: 'account' },
  'enterprise.restore': { requester: 'agent', decider: 'supervisor', targetKind: 'enterprise' },
  'staff.grant_admin': { requester: 'admin', decider: 'admin', targetKind: 'staff' },
  'staff.enable': { requester: 'admin', decider: 'admin', targetKind: 'staff' },
};

/**
 * The kinds of request a member may see (least privilege): those they may ask for or
 * decide. An agent does not read why a staff member was disabled; an admin does not read
 * whom a citizen's ban concerns.
 */
function visibleKinds(actor: StaffActor): ApprovalKind[] {
  return (Object.keys(RULES) as ApprovalKind[]).filter((kind) => actor.roles.includes(RULES[kind].requester) || actor.roles.includes(RULES[kind].decider));
}

/** Everyone who decides some kind of request. */
const DECIDERS: StaffRole[] = [...new Set(Object.values(RULES).map((rule) => rule.decider))];

/** What an approver is shown of a request's subject, by the desk that owns it (no personal data unmasked). */
export interface ApprovalSubject {
  /** Masked for a person, e.g. "*三（110105********002X）"; an enterprise's name and code are public. */
  label: string;
  /** The console page of the subject, which a decider of a pending request may open. */
  href?: string;
  /** The act this request would undo (the ban, the deregistration, the disabling): when, by whom, why. */
  grounds?: { action: string; at: string; by?: string; reason?: string; note?: string };
}

/** A request with its requester named by username, as every list of them shows it. */
export interface ApprovalListed extends ApprovalView {
  requester: string;
}

/** A pending request as its decider sees it: who asked, about whom, on what grounds, and what came before. */
export interface ApprovalCase extends ApprovalListed {
  subject?: ApprovalSubject;
  /** Earlier requests about the same subject, newest first. */
  history: ApprovalView[];
}

const isCase = (approval: ApprovalListed | ApprovalCase): approval is ApprovalCase => 'history' in approval;

export type SubjectDescriber = (targetId: string) => Promise<ApprovalSubject | undefined>;

/** What an approved request does, inside the deciding transaction; `after` runs once it has committed (notices). */
export type ApprovalExecutor = (approval: ApprovalRow, decider: StaffActor, trx: Transaction<Database>, meta: RequestMeta) => Promise<{ after?: () => Promise<void> } | void>;

export interface ApprovalView {
  id: string;
  kind: ApprovalKind;
  target: { kind: string; id: string };
  requested_by: string;
  reason: string;
  status: ApprovalRow['status'];
  expires_at: string;
  decided_by?: string;
  decided_at?: string;
  decision_note?: string;
  created_at: string;
}

export function approvalView(row: ApprovalRow): ApprovalView {
  return {
    id: row.id, kind: row.kind, target: { kind: row.target_kind, id: row.target_id }, requested_by: row.requested_by, reason: row.reason,
    status: row.status, expires_at: new Date(row.expires_at).toISOString(), created_at: new Date(row.created_at).toISOString(),
    ...(row.decided_by ? { decided_by: row.decided_by } : {}),
    ...(row.decided_at ? { decided_at: new Date(row.decided_at).toISOString() } : {}),
    ...(row.decision_note ? { decision_note: row.decision_note } : {}),
  };
}

/**
 * Maker-checker (two-person rule): one staff member asks, another with the deciding role
 * approves or rejects. The requester can never decide their own request (checked here and
 * by a constraint in the table). Every request, decision, refusal and expiry is audited
 * and every request is kept, whatever became of it.
 */
export class Approvals {
  private readonly executors = new Map<ApprovalKind, ApprovalExecutor>();
  private readonly describers = new Map<ApprovalKind, SubjectDescriber>();

  constructor(private readonly db: Db, private readonly audit: AuditLog, private readonly now: () => Date = () => new Date()) {}

  /** Registers what approving a kind of request does (bans.ts registers the unban). */
  onApproved(kind: ApprovalKind, executor: ApprovalExecutor): void {
    this.executors.set(kind, executor);
  }

  /** Registers how a kind of request's subject is shown to its deciders (by the desk that owns it). */
  describe(kind: ApprovalKind, describer: SubjectDescriber): void {
    this.describers.set(kind, describer);
  }

  /**
   * The pending requests of the kinds this member may ask for or decide, each with what
   * deciding needs: the requester by name, the subject (masked), the act it would undo
   * (and who did it) and the requests before.
   */
  async cases(actor: StaffActor, meta: RequestMeta): Promise<ApprovalCase[]> {
    return (await this.overview(actor, { status: 'pending' }, meta)).filter(isCase);
  }

  /**
   * The requests of the kinds this member may ask for or decide, as the console's list
   * shows them: each with its requester's username, and a pending one also with its case
   * (see cases()), so an API caller decides knowing what the page's reader knows.
   */
  async overview(actor: StaffActor, filter: { status?: ApprovalRow['status'] }, meta: RequestMeta): Promise<Array<ApprovalListed | ApprovalCase>> {
    const approvals = await this.list(actor, filter, meta);
    const found = await Promise.all(approvals.map(async (approval) => ({ approval, ...(approval.status === 'pending' ? await this.caseFacts(actor, approval) : {}) })));
    // One look-up of every username shown: the requesters and whoever did the act a request would undo.
    const names = await staffStore.usernames(this.db, [
      ...approvals.map((approval) => approval.requested_by),
      ...found.flatMap(({ described }) => (described?.grounds?.by ? [described.grounds.by] : [])),
    ]);
    const name = (id: string) => names.get(id) ?? id;
    return found.map(({ approval, described, earlier }) => {
      const listed: ApprovalListed = { ...approval, requester: name(approval.requested_by) };
      if (!earlier) return listed;
      const grounds = described?.grounds;
      const subject = grounds ? { ...described, grounds: { ...grounds, ...(grounds.by ? { by: name(grounds.by) } : {}) } } : described;
      return { ...listed, ...(subject ? { subject } : {}), history: earlier.filter((row) => row.id !== approval.id).map(approvalView) };
    });
  }

  /** What deciding a pending request needs besides names: its subject as its desk shows it, and the requests about it before. */
  private async caseFacts(actor: StaffActor, approval: ApprovalView) {
    const [described, earlier] = await Promise.all([
      this.describers.get(approval.kind)?.(approval.target.id),
      staffStore.listApprovals(this.db, { targetId: approval.target.id, kinds: visibleKinds(actor), limit: 20 }),
    ]);
    return { described, earlier };
  }

  /** Whether a request about this target is pending that this member may decide (they may then look at the target). */
  async decidable(actor: StaffActor, targetId: string): Promise<boolean> {
    const rows = await staffStore.listApprovals(this.db, { status: 'pending', targetId, limit: 20 });
    return rows.some((row) => actor.roles.includes(RULES[row.kind].decider) && row.requested_by !== actor.id && new Date(row.expires_at) > this.now());
  }

  /** Files a request; the caller has checked that the act makes sense for the target. */
  async request(kind: ApprovalKind, targetId: string, reason: string, actor: StaffActor, meta: RequestMeta): Promise<ApprovalView> {
    const rule = RULES[kind];
    await authorize(this.audit, actor, [rule.requester], `approval.request.${kind}`, meta);
    const text = reason.trim();
    if (text.length < 2 || text.length > 500) return refuse(this.audit, actor, `approval.request.${kind}`, new AppError('invalid_input', { field: 'reason' }), meta, { kind: rule.targetKind, id: targetId });
    const id = randomUUID();
    const created = this.now();
    try {
      await this.db.transaction().execute(async (trx) => {
        await staffStore.insertApproval(trx, {
          id, kind, target_kind: rule.targetKind, target_id: targetId, requested_by: actor.id, reason: text, status: 'pending',
          expires_at: new Date(created.getTime() + APPROVAL_TTL_DAYS * 86_400_000), created_at: created,
        });
        await this.audit.append({
          actor: { kind: 'staff', id: actor.id }, action: 'approval.request', target: { kind: rule.targetKind, id: targetId }, result: 'success',
          details: { approval: id, kind, reason: text }, meta,
        }, trx);
      });
    } catch (error) {
      if (isUniqueViolation(error, 'approvals_one_pending')) return refuse(this.audit, actor, 'approval.request', new AppError('approval_pending'), meta, { kind: rule.targetKind, id: targetId });
      throw error;
    }
    return approvalView((await staffStore.approval(this.db, id))!);
  }

  /** Marks overdue requests expired (kept), auditing each. */
  async expire(meta: RequestMeta = {}): Promise<number> {
    const expired = await staffStore.expireApprovals(this.db, this.now());
    for (const row of expired) {
      await this.audit.append({ actor: { kind: 'system' }, action: 'approval.expire', target: { kind: row.target_kind, id: row.target_id }, result: 'success', details: { approval: row.id, kind: row.kind }, meta });
    }
    return expired.length;
  }

  /** The requests of the kinds this member may ask for or decide, newest first (200 at most). */
  async list(actor: StaffActor, filter: { status?: ApprovalRow['status']; targetId?: string }, meta: RequestMeta): Promise<ApprovalView[]> {
    await authorize(this.audit, actor, ['agent', 'supervisor', 'admin'], 'approval.list', meta);
    await this.expire(meta);
    return (await staffStore.listApprovals(this.db, { ...filter, kinds: visibleKinds(actor), limit: 200 })).map(approvalView);
  }

  /**
   * Approves or rejects: only someone with the deciding role, never the requester, only
   * while pending and not expired. The request row is locked, so two deciders cannot both
   * act; an approval runs its executor in the same transaction.
   */
  async decide(id: string, decision: 'approve' | 'reject', note: string | undefined, actor: StaffActor, meta: RequestMeta): Promise<ApprovalView> {
    const found = await staffStore.approval(this.db, id);
    if (!found) {
      // Whoever may decide nothing is refused as such; a decider learns there is no such request. Both are audited.
      const asked = { kind: 'approval', id: id.slice(0, 64) };
      await authorize(this.audit, actor, DECIDERS, `approval.${decision}`, meta, asked);
      return refuse(this.audit, actor, `approval.${decision}`, new AppError('not_found'), meta, asked);
    }
    const rule = RULES[found.kind];
    const target = { kind: found.target_kind, id: found.target_id };
    await authorize(this.audit, actor, [rule.decider], `approval.${decision}`, meta, target);
    if (found.requested_by === actor.id) return refuse(this.audit, actor, `approval.${decision}`, new AppError('self_approval'), meta, target);
    await this.expire(meta);

    const after: Array<() => Promise<void>> = [];
    // What the effect finds changed since the request (an account no longer banned, a role
    // that would break the separation of powers) rolls the decision back; it is a refusal, audited.
    const outcome = await this.db.transaction().execute(async (trx) => {
      const row = await staffStore.approvalForUpdate(trx, id);
      if (!row || row.status !== 'pending') return 'closed' as const;
      await staffStore.decideApproval(trx, id, { status: decision === 'approve' ? 'approved' : 'rejected', decided_by: actor.id, decision_note: note?.trim().slice(0, 500) || null });
      if (decision === 'approve') {
        const executor = this.executors.get(row.kind);
        if (!executor) throw new Error(`no executor for approvals of kind ${row.kind}`);
        const done = await executor(row, actor, trx, meta);
        if (done?.after) after.push(done.after);
      }
      await this.audit.append({
        actor: { kind: 'staff', id: actor.id }, action: `approval.${decision}`, target, result: 'success',
        details: { approval: id, kind: row.kind, requested_by: row.requested_by }, meta,
      }, trx);
      return 'decided' as const;
    }).catch((error: unknown) => {
      if (error instanceof AppError && error.status < 500) return error;
      throw error;
    });
    if (outcome instanceof AppError) return refuse(this.audit, actor, `approval.${decision}`, outcome, meta, target);
    if (outcome === 'closed') return refuse(this.audit, actor, `approval.${decision}`, new AppError('approval_closed'), meta, target);
    for (const run of after) await run();
    return approvalView((await staffStore.approval(this.db, id))!);
  }
}
