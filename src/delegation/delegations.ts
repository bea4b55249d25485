import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { LogoutOutbox } from '../oidc/logout-outbox.js';
import { AppError } from '../errors.js';
import type { Accounts } from '../identity/accounts.js';
import { parseIdNumber } from '../identity/id-number.js';
import { sameName } from '../identity/person-name.js';
import { normalisePhone } from '../identity/phone.js';
import type { Db } from '../store/db.js';
import type { Database, ScopeEntry } from '../store/schema.js';
import { errorIs, type AttemptLimit } from '../identity/attempt-limit.js';
import { grantStore, type EnterpriseRow, type GrantRow } from './grant-store.js';
import { checkCatalogue, checkWithin, narrows, normaliseScope, overlaps, type Bounds, type Catalogue } from './scope.js';

export const MAX_LEVEL = 3;

/** Who receives a grant: a registered real-name citizen, by ID number and name, or by bound phone. */
export type GranteeRef = { idNumber: string; name: string } | { phone: string };

export interface GrantInput {
  enterpriseId: string;
  /** The grant the grantor acts under; omitted: root authority for the representative, else their own re-delegable grant. */
  parentId?: string;
  grantee: GranteeRef;
  scope: ScopeEntry[];
  validFrom?: Date;
  validUntil: Date;
  mayRedelegate: boolean;
}

export interface ChangeInput {
  /** The version the caller last saw; a grant changed since is refused. */
  version?: number;
  scope?: ScopeEntry[];
  validFrom?: Date;
  validUntil?: Date;
  mayRedelegate?: boolean;
}

/** The service items each client offers to legal persons; supplied by the client registry. */
export type CatalogueSource = (clientIds: string[]) => Promise<Catalogue>;

/** Authority someone holds for an enterprise: root (the representative, level 0) or one grant. */
interface Authority {
  enterprise: EnterpriseRow;
  level: number;
  grant?: GrantRow;
  bounds: Bounds;
  mayRedelegate: boolean;
}

export function inPeriod(grant: Pick<GrantRow, 'valid_from' | 'valid_until'>, now: Date): boolean {
  return new Date(grant.valid_from).getTime() <= now.getTime() && now.getTime() < new Date(grant.valid_until).getTime();
}

export function enterpriseCanAct(enterprise: EnterpriseRow | undefined): enterprise is EnterpriseRow {
  return enterprise?.status === 'active' && enterprise.registry_status === 'active';
}

/**
 * Three-level delegated authority (授权) for enterprises: grant, request and its decision,
 * change, cascading cancel. Each operation runs in one transaction that locks the chain of
 * grants it stands on (SELECT … FOR UPDATE) and writes with the grant's version, so of two
 * operations racing on one grant one wins and the other is refused; each is written to the
 * grant's history and to the audit log in that same transaction.
 */
/**
 * The end a change asks for. Pages show and take ends to the minute: an end typed in the
 * very minute the grant already ends keeps its exact end, so saving a page unchanged
 * neither shortens the grant by its seconds nor ends the logins under it.
 */
function endAsked(asked: Date | undefined, current: Date): Date {
  if (!asked) return current;
  return Math.floor(asked.getTime() / 60_000) === Math.floor(current.getTime() / 60_000) ? current : asked;
}

export class Delegations {
  constructor(
    private readonly db: Db,
    private readonly accounts: Accounts,
    private readonly audit: AuditLog,
    private readonly catalogue: CatalogueSource,
    /** Answers that no such person holds an account here, per grantor (see `grant`). */
    private readonly granteeLookups: AttemptLimit,
    /** Ends the logins that act under grants just revoked or narrowed (their oidc-provider Grants and tokens). */
    private readonly logouts: LogoutOutbox,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The enterprise a USCC names, for a request; unknown and inactive enterprises are one answer. */
  async enterpriseByUscc(uscc: string): Promise<EnterpriseRow> {
    const enterprise = await grantStore.enterpriseByUscc(this.db, uscc.trim().toUpperCase());
    if (!enterpriseCanAct(enterprise)) throw new AppError('delegation_enterprise_unavailable');
    return enterprise;
  }

  private async checkScope(scope: ScopeEntry[]): Promise<ScopeEntry[]> {
    const normal = normaliseScope(scope);
    checkCatalogue(normal, await this.catalogue(normal.map((entry) => entry.client_id)));
    return normal;
  }

  /** An active real-name citizen; unregistered, banned and deregistered persons get one answer. */
  private async findGrantee(ref: GranteeRef): Promise<string> {
    let row;
    if ('phone' in ref) {
      const phone = normalisePhone(ref.phone);
      if (!phone) throw new AppError('invalid_phone');
      row = await this.accounts.byPhone(phone);
    } else {
      const parsed = parseIdNumber(ref.idNumber);
      if (!parsed.ok) throw new AppError('invalid_id_number');
      row = await this.accounts.byIdNumber(parsed.value);
      if (row && !sameName(this.accounts.openField(row, 'name') ?? '', ref.name)) row = undefined;
    }
    if (!row || row.status !== 'active') throw new AppError('delegation_grantee_not_found');
    return row.id;
  }

  /**
   * The authority `accountId` acts with for an enterprise, with the grants it rests on
   * locked: root authority for the representative, else the named grant (or their first
   * re-delegable one), which must be theirs, active and in its period, as must every grant above it.
   */
  private async authority(trx: Transaction<Database>, enterpriseId: string, accountId: string, viaGrantId: string | undefined, now: Date): Promise<Authority> {
    const enterprise = await grantStore.enterpriseForShare(trx, enterpriseId);
    if (!enterpriseCanAct(enterprise)) throw new AppError('delegation_enterprise_unavailable');
    if (!viaGrantId && enterprise.representative_account_id === accountId) {
      return { enterprise, level: 0, bounds: { root: true }, mayRedelegate: true };
    }
    let grantId = viaGrantId;
    if (!grantId) {
      const held = (await grantStore.activeHeld(trx, enterpriseId, accountId)).filter((g) => inPeriod(g, now));
      grantId = (held.find((g) => g.may_redelegate) ?? held[0])?.id;
    }
    if (!grantId) throw new AppError('delegation_no_authority');
    const chain = await grantStore.chainForUpdate(trx, grantId);
    const grant = chain[0];
    if (!grant || grant.grantee_account_id !== accountId || grant.enterprise_id !== enterpriseId) throw new AppError('delegation_no_authority');
    if (chain.some((g) => g.status !== 'active' || !inPeriod(g, now))) throw new AppError('delegation_grant_inactive');
    return {
      enterprise,
      level: grant.level,
      grant,
      bounds: { root: false, scope: grant.scope, validFrom: new Date(grant.valid_from), validUntil: new Date(grant.valid_until) },
      mayRedelegate: grant.may_redelegate,
    };
  }

  /** The checks every new grant passes, whether granted directly or by approving a request. */
  private async issue(trx: Transaction<Database>, actorId: string, authority: Authority, granteeId: string, scope: ScopeEntry[], validFrom: Date, validUntil: Date, mayRedelegate: boolean, now: Date): Promise<GrantRow> {
    const level = authority.level + 1;
    if (level > MAX_LEVEL) throw new AppError('delegation_level_exceeded', { max: MAX_LEVEL });
    if (!authority.mayRedelegate) throw new AppError('delegation_no_authority');
    if (granteeId === actorId) throw new AppError('delegation_self');
    checkWithin(scope, validFrom, validUntil, authority.bounds, now);
    await grantStore.lockGrantee(trx, authority.enterprise.id, granteeId);
    if (authority.enterprise.representative_account_id === granteeId) throw new AppError('delegation_duplicate');
    const held = (await grantStore.activeHeld(trx, authority.enterprise.id, granteeId)).filter((g) => new Date(g.valid_until).getTime() > now.getTime());
    if (held.some((g) => overlaps(g.scope, scope))) throw new AppError('delegation_duplicate');
    const row = {
      id: randomUUID(),
      enterprise_id: authority.enterprise.id,
      parent_id: authority.grant?.id ?? null,
      grantor_account_id: actorId,
      grantee_account_id: granteeId,
      level,
      scope,
      valid_from: validFrom,
      valid_until: validUntil,
      may_redelegate: mayRedelegate && level < MAX_LEVEL,
    };
    await grantStore.insertGrant(trx, row);
    return (await grantStore.grant(trx, row.id))!;
  }

  private async record(trx: Transaction<Database>, grant: GrantRow, actorId: string, action: string, details: Record<string, unknown>, meta: RequestMeta): Promise<void> {
    await grantStore.event(trx, grant.id, actorId, action, details);
    await this.audit.append({
      actor: { kind: 'citizen', id: actorId },
      action: `delegation.${action}`,
      target: { kind: 'delegation_grant', id: grant.id },
      result: 'success',
      details: { enterprise_id: grant.enterprise_id, level: grant.level, ...details },
      meta,
    }, trx);
  }

  /** A refused operation is audited too, outside the rolled-back transaction. */
  private async refused<T>(actorId: string, action: string, target: string | undefined, meta: RequestMeta, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (caught) {
      // A deadlock or serialization failure is another operation winning the race.
      const code = (caught as { code?: string }).code;
      const error = code === '40P01' || code === '40001' ? new AppError('delegation_conflict', {}, { cause: caught }) : caught;
      if (error instanceof AppError) {
        await this.audit.append({
          actor: { kind: 'citizen', id: actorId }, action: `delegation.${action}`, result: 'denied',
          ...(target ? { target: { kind: 'delegation_grant', id: target } } : {}),
          details: { reason: error.code }, meta,
        });
      }
      throw error;
    }
  }

  /**
   * Grants authority to a person named by phone, or by ID number and name. Whether that
   * person holds an account is told only to someone with authority to grant, and each
   * answer "no" counts against them (a few a day): the form is no directory of who is
   * registered here.
   */
  async grant(actorId: string, input: GrantInput, meta: RequestMeta): Promise<GrantRow> {
    return this.refused(actorId, 'grant', input.parentId, meta, async () => {
      const scope = await this.checkScope(input.scope);
      const now = this.now();
      // Authority first, so that a stranger learns nothing about the grantee; checked again
      // below with the grants it rests on locked (the lookup holds no connection meanwhile).
      await this.db.transaction().execute((trx) => this.authority(trx, input.enterpriseId, actorId, input.parentId, now));
      const granteeId = await this.granteeLookups.guard(`delegation-grantee:${actorId}`, () => this.findGrantee(input.grantee),
        errorIs('delegation_grantee_not_found'), { onSuccess: 'give-back' });
      return this.db.transaction().execute(async (trx) => {
        const authority = await this.authority(trx, input.enterpriseId, actorId, input.parentId, now);
        const grant = await this.issue(trx, actorId, authority, granteeId, scope, input.validFrom ?? now, input.validUntil, input.mayRedelegate, now);
        await this.record(trx, grant, actorId, 'grant', { grantee: granteeId, scope, valid_until: grant.valid_until, may_redelegate: grant.may_redelegate }, meta);
        return grant;
      });
    });
  }

  /** A citizen asks an enterprise for authority over some service items for a period. */
  async request(actorId: string, input: { uscc: string; scope: ScopeEntry[]; validFrom?: Date; validUntil: Date; reason?: string }, meta: RequestMeta) {
    return this.refused(actorId, 'request', undefined, meta, async () => {
      const enterprise = await this.enterpriseByUscc(input.uscc);
      const scope = await this.checkScope(input.scope);
      const now = this.now();
      const validFrom = input.validFrom ?? now;
      checkWithin(scope, validFrom, input.validUntil, { root: true }, now);
      if (enterprise.representative_account_id === actorId) throw new AppError('delegation_duplicate');
      const id = randomUUID();
      await this.db.transaction().execute(async (trx) => {
        await grantStore.insertRequest(trx, { id, enterprise_id: enterprise.id, requester_account_id: actorId, scope, valid_from: validFrom, valid_until: input.validUntil, reason: input.reason ?? null });
        await this.audit.append({
          actor: { kind: 'citizen', id: actorId }, action: 'delegation.request', target: { kind: 'delegation_request', id }, result: 'success',
          details: { enterprise_id: enterprise.id, scope }, meta,
        }, trx);
      });
      return (await grantStore.request(this.db, id))!;
    });
  }

  /**
   * A holder who may re-delegate approves a pending request, possibly narrowing it: the
   * grant is made under their authority with every check of a direct grant.
   */
  async approve(actorId: string, requestId: string, input: { parentId?: string; scope?: ScopeEntry[]; validFrom?: Date; validUntil?: Date; mayRedelegate?: boolean }, meta: RequestMeta): Promise<GrantRow> {
    return this.refused(actorId, 'approve', undefined, meta, async () => {
      const now = this.now();
      // The catalogue is read before the transaction: nothing inside it may wait on another connection.
      const narrowed = input.scope ? await this.checkScope(input.scope) : undefined;
      return this.db.transaction().execute(async (trx) => {
        const request = await this.pendingRequest(trx, requestId);
        const authority = await this.authority(trx, request.enterprise_id, actorId, input.parentId, now);
        // Narrowing only: what the approver gives stays within what was asked for.
        const scope = narrowed ?? request.scope;
        const validFrom = input.validFrom ?? new Date(request.valid_from);
        const validUntil = input.validUntil ?? new Date(request.valid_until);
        checkWithin(scope, validFrom, validUntil, { root: false, scope: request.scope, validFrom: new Date(request.valid_from), validUntil: new Date(request.valid_until) }, now);
        const grant = await this.issue(trx, actorId, authority, request.requester_account_id, scope, validFrom, validUntil, input.mayRedelegate ?? false, now);
        await grantStore.decideRequest(trx, request.id, 'approved', actorId, grant.id);
        await this.record(trx, grant, actorId, 'approve', { request_id: request.id, grantee: grant.grantee_account_id, scope, valid_until: grant.valid_until }, meta);
        return grant;
      });
    });
  }

  private async pendingRequest(trx: Transaction<Database>, requestId: string) {
    const request = await grantStore.requestForUpdate(trx, requestId);
    if (!request) throw new AppError('delegation_not_found');
    if (request.status !== 'pending') throw new AppError('delegation_request_decided');
    return request;
  }

  async reject(actorId: string, requestId: string, meta: RequestMeta): Promise<void> {
    await this.refused(actorId, 'reject', undefined, meta, async () => {
      const now = this.now();
      await this.db.transaction().execute(async (trx) => {
        const request = await this.pendingRequest(trx, requestId);
        const authority = await this.authority(trx, request.enterprise_id, actorId, undefined, now);
        if (!authority.mayRedelegate) throw new AppError('delegation_no_authority');
        await grantStore.decideRequest(trx, request.id, 'rejected', actorId, null);
        await this.audit.append({
          actor: { kind: 'citizen', id: actorId }, action: 'delegation.reject', target: { kind: 'delegation_request', id: request.id }, result: 'success',
          details: { enterprise_id: request.enterprise_id }, meta,
        }, trx);
      });
    });
  }

  /**
   * Whether `actorId` may manage `grant`: its grantor (while the grantor's own authority
   * holds), the representative, or the holder of a grant above it.
   */
  private async mayManage(trx: Transaction<Database>, actorId: string, chain: GrantRow[], now: Date): Promise<boolean> {
    const grant = chain[0]!;
    const enterprise = await grantStore.enterpriseForShare(trx, grant.enterprise_id);
    if (enterprise?.representative_account_id === actorId) return true;
    return chain.slice(1).some((above) => above.grantee_account_id === actorId && above.status === 'active' && inPeriod(above, now));
  }

  /**
   * Narrows or extends a grant within its parent's bounds (root: any item of a client, any
   * future end). A change that takes anything away ends the logins acting under the grant,
   * as a cancellation does: what they were issued with is no longer all given.
   */
  async change(actorId: string, grantId: string, input: ChangeInput, meta: RequestMeta): Promise<GrantRow> {
    const { after, ended } = await this.refused(actorId, 'change', grantId, meta, async () => {
      const scope = input.scope ? await this.checkScope(input.scope) : undefined;
      const now = this.now();
      return this.db.transaction().execute(async (trx) => {
        const chain = await grantStore.chainForUpdate(trx, grantId);
        const grant = chain[0];
        if (!grant) throw new AppError('delegation_not_found');
        if (!await this.mayManage(trx, actorId, chain, now)) throw new AppError('delegation_no_authority');
        if (input.version !== undefined && input.version !== grant.version) throw new AppError('delegation_conflict');
        if (grant.status !== 'active' || new Date(grant.valid_until).getTime() <= now.getTime()) throw new AppError('delegation_grant_inactive');
        const parent = chain[1];
        if (parent && (parent.status !== 'active' || !inPeriod(parent, now))) throw new AppError('delegation_grant_inactive');
        const next = {
          scope: scope ?? grant.scope,
          validFrom: input.validFrom ?? new Date(grant.valid_from),
          validUntil: endAsked(input.validUntil, new Date(grant.valid_until)),
          mayRedelegate: (input.mayRedelegate ?? grant.may_redelegate) && grant.level < MAX_LEVEL,
        };
        const bounds: Bounds = parent
          ? { root: false, scope: parent.scope, validFrom: new Date(parent.valid_from), validUntil: new Date(parent.valid_until) }
          : { root: true };
        checkWithin(next.scope, next.validFrom, next.validUntil, bounds, now);
        // The grants below must still fit: narrow them (or cancel them) first.
        const below = (await grantStore.subtreeForUpdate(trx, grant.id)).filter((g) => g.id !== grant.id && g.status === 'active');
        const own: Bounds = { root: false, scope: next.scope, validFrom: next.validFrom, validUntil: next.validUntil };
        for (const child of below.filter((g) => g.parent_id === grant.id)) {
          checkWithin(child.scope, new Date(child.valid_from), new Date(child.valid_until), own, new Date(0));
        }
        if (!next.mayRedelegate && below.length > 0) throw new AppError('delegation_scope_exceeded', { field: 'may_redelegate' });
        const updated = await grantStore.updateGrant(trx, grant.id, grant.version, {
          scope: next.scope, valid_from: next.validFrom, valid_until: next.validUntil, may_redelegate: next.mayRedelegate,
        });
        if (!updated) throw new AppError('delegation_conflict');
        const after = (await grantStore.grant(trx, grant.id))!;
        const narrowed = narrows({ scope: grant.scope, validFrom: new Date(grant.valid_from), validUntil: new Date(grant.valid_until) }, next);
        await this.record(trx, after, actorId, 'change', {
          scope: next.scope, valid_from: next.validFrom, valid_until: next.validUntil, may_redelegate: next.mayRedelegate, logins_ended: narrowed,
        }, meta);
        return { after, ended: narrowed ? await this.logouts.enqueue(trx, { kind: 'delegation_grants', grant_ids: [after.id] }) : undefined };
      });
    });
    if (ended) await this.logouts.settle(ended);
    return after;
  }

  /**
   * Revokes a grant and every grant below it, in one transaction, which also writes the
   * logins acting under them to end (the logout outbox); they end before this returns
   * unless the stores fail, and then soon after. Returns the ids revoked.
   */
  async cancel(actorId: string, grantId: string, input: { version?: number }, meta: RequestMeta): Promise<string[]> {
    const { revoked, ended } = await this.refused(actorId, 'cancel', grantId, meta, async () => {
      const now = this.now();
      return this.db.transaction().execute(async (trx) => {
        const chain = await grantStore.chainForUpdate(trx, grantId);
        const grant = chain[0];
        if (!grant) throw new AppError('delegation_not_found');
        // The grantee may give up what they were given; others need authority above it.
        if (grant.grantee_account_id !== actorId && !await this.mayManage(trx, actorId, chain, now)) throw new AppError('delegation_no_authority');
        if (input.version !== undefined && input.version !== grant.version) throw new AppError('delegation_conflict');
        if (grant.status !== 'active') throw new AppError('delegation_grant_inactive');
        const tree = await grantStore.subtreeForUpdate(trx, grant.id);
        const revoked = await this.revokeRows(trx, tree, actorId, now, (row) => (row.id === grant.id ? undefined : { cascade_from: grant.id }));
        await this.record(trx, grant, actorId, 'cancel', { revoked: revoked.length }, meta);
        return { revoked, ended: await this.logouts.enqueue(trx, { kind: 'delegation_grants', grant_ids: revoked }) };
      });
    });
    await this.logouts.settle(ended);
    return revoked;
  }

  /** Marks the rows still in force revoked (at their version), with a history event where `event` gives details. */
  private async revokeRows(trx: Transaction<Database>, rows: GrantRow[], actorId: string | null, now: Date, event: (row: GrantRow) => Record<string, unknown> | undefined): Promise<string[]> {
    const revoked: string[] = [];
    for (const row of rows.filter((g) => g.status === 'active' || g.status === 'pending')) {
      if (!await grantStore.updateGrant(trx, row.id, row.version, { status: 'revoked', revoked_at: now, ...(actorId ? { revoked_by: actorId } : {}) })) throw new AppError('delegation_conflict');
      revoked.push(row.id);
      const details = event(row);
      if (details) await grantStore.event(trx, row.id, actorId, 'cancel', details);
    }
    return revoked;
  }

  /**
   * Revokes every grant of the enterprise still in force, inside the caller's transaction
   * (deregistration by staff, who hold no account: `revoked_by` stays empty and the
   * history names the act). The caller ends the logins in the enterprise's name (the logout outbox).
   */
  async revokeAllOf(trx: Transaction<Database>, enterpriseId: string, cause: { action: string; staffId: string }, meta: RequestMeta): Promise<string[]> {
    const rows = await grantStore.liveOfEnterpriseForUpdate(trx, enterpriseId);
    const revoked = await this.revokeRows(trx, rows, null, this.now(), () => ({ cause: cause.action, staff: cause.staffId }));
    if (revoked.length > 0) {
      await this.audit.append({
        actor: { kind: 'staff', id: cause.staffId }, action: 'delegation.revoke_all', target: { kind: 'enterprise', id: enterpriseId }, result: 'success',
        details: { cause: cause.action, revoked: revoked.length }, meta,
      }, trx);
    }
    return revoked;
  }

  // ---- views ----

  /** Enterprises the person represents, and those they hold an active grant for. */
  async enterprisesOf(accountId: string): Promise<Array<{ enterprise: EnterpriseRow; role: 'legal_representative' | 'delegate' }>> {
    const represented = await grantStore.representedBy(this.db, accountId);
    const held = (await grantStore.heldBy(this.db, accountId)).filter((g) => g.status === 'active' && inPeriod(g, this.now()));
    const seen = new Set(represented.map((e) => e.id));
    const delegated: EnterpriseRow[] = [];
    for (const id of new Set(held.map((g) => g.enterprise_id))) {
      if (seen.has(id)) continue;
      const enterprise = await grantStore.enterprise(this.db, id);
      if (enterprise) delegated.push(enterprise);
    }
    return [
      ...represented.map((enterprise) => ({ enterprise, role: 'legal_representative' as const })),
      ...delegated.map((enterprise) => ({ enterprise, role: 'delegate' as const })),
    ];
  }

  /** The enterprise's grants: all of them for the representative, a holder's own subtree for a delegate. */
  async tree(accountId: string, enterpriseId: string): Promise<{ enterprise: EnterpriseRow; grants: GrantRow[] }> {
    const enterprise = await grantStore.enterprise(this.db, enterpriseId);
    if (!enterprise) throw new AppError('delegation_not_found');
    await this.expireLapsed();
    if (enterprise.representative_account_id === accountId) return { enterprise, grants: await grantStore.byEnterprise(this.db, enterpriseId) };
    const roots = (await grantStore.heldBy(this.db, accountId)).filter((g) => g.enterprise_id === enterpriseId).map((g) => g.id);
    if (roots.length === 0) throw new AppError('delegation_no_authority');
    return { enterprise, grants: await grantStore.subtree(this.db, roots) };
  }

  /** One's grants as grantee and as grantor. */
  async mine(accountId: string): Promise<{ held: GrantRow[]; granted: GrantRow[] }> {
    await this.expireLapsed();
    return { held: await grantStore.heldBy(this.db, accountId), granted: await grantStore.grantedBy(this.db, accountId) };
  }

  /** A grant and its history, for those it concerns: grantee, grantor, holders above it, the representative. */
  async history(accountId: string, grantId: string) {
    const chain = await grantStore.chain(this.db, grantId);
    const grant = chain[0];
    if (!grant) throw new AppError('delegation_not_found');
    const enterprise = await grantStore.enterprise(this.db, grant.enterprise_id);
    const concerned = enterprise?.representative_account_id === accountId || chain.some((g) => g.grantee_account_id === accountId) || grant.grantor_account_id === accountId;
    if (!concerned) throw new AppError('delegation_not_found');
    return { grant, events: await grantStore.events(this.db, grantId) };
  }

  /** The person's own requests, and the pending ones they may decide. */
  async requests(accountId: string) {
    const deciding = (await this.enterprisesOf(accountId)).map((e) => e.enterprise.id);
    return { mine: await grantStore.requestsOf(this.db, accountId), to_decide: await grantStore.pendingRequests(this.db, deciding) };
  }

  /** The service items that may be delegated, per client that takes legal persons, with names for forms. */
  async serviceCatalogue(): Promise<Array<{ client_id: string; client_name: string; items: Array<{ code: string; name: string }> }>> {
    const rows = await grantStore.clients(this.db);
    return rows.flatMap((row) => {
      const policy = row.access_policy as { entity_types?: string[]; service_items?: Array<{ code: string; name: string }> };
      if (!(policy.entity_types ?? ['natural', 'legal']).includes('legal') || !policy.service_items?.length) return [];
      return [{ client_id: row.client_id, client_name: String(row.metadata.client_name ?? row.client_id), items: policy.service_items }];
    });
  }

  /** Status `expired` is written lazily; validity is checked at every use regardless. */
  private async expireLapsed(): Promise<void> {
    await grantStore.expireLapsed(this.db, this.now());
  }
}
