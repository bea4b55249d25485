import { sql, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../store/db.js';
import type { Database, DelegationGrantsTable, DelegationRequestsTable, EnterprisesTable, ScopeEntry } from '../store/schema.js';

export type GrantRow = Selectable<DelegationGrantsTable>;
export type RequestRow = Selectable<DelegationRequestsTable>;
export type EnterpriseRow = Selectable<EnterprisesTable>;
type Executor = Db | Transaction<Database>;

/** The delegation queries, by name: nothing outside delegation/ writes SQL against these tables. */
export const grantStore = {
  enterprise(db: Executor, id: string): Promise<EnterpriseRow | undefined> {
    return db.selectFrom('enterprises').selectAll().where('id', '=', id).executeTakeFirst();
  },

  enterpriseByUscc(db: Executor, uscc: string): Promise<EnterpriseRow | undefined> {
    return db.selectFrom('enterprises').selectAll().where('uscc', '=', uscc).executeTakeFirst();
  },

  /** The enterprise row, share-locked: its representative cannot change while we act on its authority. */
  enterpriseForShare(trx: Transaction<Database>, id: string): Promise<EnterpriseRow | undefined> {
    return trx.selectFrom('enterprises').selectAll().where('id', '=', id).forShare().executeTakeFirst();
  },

  representedBy(db: Executor, accountId: string): Promise<EnterpriseRow[]> {
    return db.selectFrom('enterprises').selectAll().where('representative_account_id', '=', accountId).orderBy('name').execute();
  },

  grant(db: Executor, id: string): Promise<GrantRow | undefined> {
    return db.selectFrom('delegation_grants').selectAll().where('id', '=', id).executeTakeFirst();
  },

  /**
   * The grant and every grant above it, each locked FOR UPDATE, the grant itself first.
   * Rows are locked from the top down (by level), as subtreeForUpdate does, so operations
   * on a grant and on one above or below it queue behind each other instead of deadlocking.
   */
  async chainForUpdate(trx: Transaction<Database>, id: string): Promise<GrantRow[]> {
    const ids = (await grantStore.chain(trx, id)).map((g) => g.id);
    if (ids.length === 0) return [];
    const locked = new Map((await trx.selectFrom('delegation_grants').selectAll().where('id', 'in', ids).orderBy('level').forUpdate().execute()).map((g) => [g.id, g]));
    return ids.map((gid) => locked.get(gid)).filter((g): g is GrantRow => Boolean(g));
  },

  /** The grant and all below it, locked FOR UPDATE. */
  async subtreeForUpdate(trx: Transaction<Database>, id: string): Promise<GrantRow[]> {
    const ids = await sql<{ id: string }>`
      with recursive tree(id) as (
        select id from delegation_grants where id = ${id}
        union all
        select g.id from delegation_grants g join tree t on g.parent_id = t.id
      ) select id from tree`.execute(trx);
    if (ids.rows.length === 0) return [];
    return trx.selectFrom('delegation_grants').selectAll().where('id', 'in', ids.rows.map((r) => r.id)).orderBy('level').forUpdate().execute();
  },

  subtree(db: Executor, rootIds: string[]): Promise<GrantRow[]> {
    if (rootIds.length === 0) return Promise.resolve([]);
    return sql<GrantRow>`
      with recursive tree as (
        select * from delegation_grants where id in (${sql.join(rootIds)})
        union all
        select g.* from delegation_grants g join tree t on g.parent_id = t.id
      ) select distinct * from tree order by level, created_at`.execute(db).then((r) => r.rows);
  },

  /** The enterprise's grants still in force (active or pending), locked FOR UPDATE from the top down. */
  liveOfEnterpriseForUpdate(trx: Transaction<Database>, enterpriseId: string): Promise<GrantRow[]> {
    return trx.selectFrom('delegation_grants').selectAll().where('enterprise_id', '=', enterpriseId)
      .where('status', 'in', ['active', 'pending']).orderBy('level').orderBy('id').forUpdate().execute();
  },

  /** How many grants the enterprise has, per level and status. */
  async countsOf(db: Executor, enterpriseId: string): Promise<Array<{ level: number; status: GrantRow['status']; count: number }>> {
    const rows = await db.selectFrom('delegation_grants').select(['level', 'status', (eb) => eb.fn.countAll<string>().as('count')])
      .where('enterprise_id', '=', enterpriseId).groupBy(['level', 'status']).orderBy('level').orderBy('status').execute();
    return rows.map((r) => ({ level: Number(r.level), status: r.status, count: Number(r.count) }));
  },

  byEnterprise(db: Executor, enterpriseId: string): Promise<GrantRow[]> {
    return db.selectFrom('delegation_grants').selectAll().where('enterprise_id', '=', enterpriseId).orderBy('level').orderBy('created_at').execute();
  },

  /** Grants a person holds (as grantee), any status, newest first. */
  heldBy(db: Executor, accountId: string): Promise<GrantRow[]> {
    return db.selectFrom('delegation_grants').selectAll().where('grantee_account_id', '=', accountId).orderBy('created_at', 'desc').execute();
  },

  grantedBy(db: Executor, accountId: string): Promise<GrantRow[]> {
    return db.selectFrom('delegation_grants').selectAll().where('grantor_account_id', '=', accountId).orderBy('created_at', 'desc').execute();
  },

  /** Active grants a person holds for one enterprise (the period is checked by the caller). */
  activeHeld(db: Executor, enterpriseId: string, accountId: string): Promise<GrantRow[]> {
    return db.selectFrom('delegation_grants').selectAll()
      .where('enterprise_id', '=', enterpriseId).where('grantee_account_id', '=', accountId).where('status', '=', 'active')
      .orderBy('level').execute();
  },

  /** Serialises grants to one person for one enterprise, so two racing grants cannot both pass the duplicate check. */
  async lockGrantee(trx: Transaction<Database>, enterpriseId: string, accountId: string): Promise<void> {
    await sql`select pg_advisory_xact_lock(hashtext(${`delegation:${enterpriseId}:${accountId}`}))`.execute(trx);
  },

  async insertGrant(trx: Transaction<Database>, row: {
    id: string; enterprise_id: string; parent_id: string | null; grantor_account_id: string; grantee_account_id: string;
    level: number; scope: ScopeEntry[]; valid_from: Date; valid_until: Date; may_redelegate: boolean;
  }): Promise<void> {
    await trx.insertInto('delegation_grants').values({ ...row, scope: JSON.stringify(row.scope), status: 'active' }).execute();
  },

  /** Updates a grant only at the version read; false when someone else changed it first. */
  async updateGrant(trx: Transaction<Database>, id: string, version: number, patch: {
    scope?: ScopeEntry[]; valid_from?: Date; valid_until?: Date; may_redelegate?: boolean;
    status?: GrantRow['status']; revoked_at?: Date; revoked_by?: string;
  }): Promise<boolean> {
    const { scope, ...rest } = patch;
    const result = await trx.updateTable('delegation_grants')
      .set({ ...rest, ...(scope ? { scope: JSON.stringify(scope) } : {}), version: version + 1, updated_at: new Date() })
      .where('id', '=', id).where('version', '=', version).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async event(db: Executor, grantId: string, actor: string | null, action: string, details: Record<string, unknown> = {}): Promise<void> {
    await db.insertInto('delegation_events').values({ grant_id: grantId, actor_account_id: actor, action, details: JSON.stringify(details) }).execute();
  },

  events(db: Executor, grantId: string) {
    return db.selectFrom('delegation_events').selectAll().where('grant_id', '=', grantId).orderBy('id').execute();
  },

  request(db: Executor, id: string): Promise<RequestRow | undefined> {
    return db.selectFrom('delegation_requests').selectAll().where('id', '=', id).executeTakeFirst();
  },

  requestForUpdate(trx: Transaction<Database>, id: string): Promise<RequestRow | undefined> {
    return trx.selectFrom('delegation_requests').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  },

  async insertRequest(db: Executor, row: { id: string; enterprise_id: string; requester_account_id: string; scope: ScopeEntry[]; valid_from: Date; valid_until: Date; reason: string | null }): Promise<void> {
    await db.insertInto('delegation_requests').values({ ...row, scope: JSON.stringify(row.scope), status: 'pending' }).execute();
  },

  async decideRequest(trx: Transaction<Database>, id: string, status: 'approved' | 'rejected', by: string, grantId: string | null): Promise<void> {
    await trx.updateTable('delegation_requests').set({ status, decided_by: by, decided_at: new Date(), grant_id: grantId }).where('id', '=', id).execute();
  },

  requestsOf(db: Executor, accountId: string): Promise<RequestRow[]> {
    return db.selectFrom('delegation_requests').selectAll().where('requester_account_id', '=', accountId).orderBy('created_at', 'desc').execute();
  },

  pendingRequests(db: Executor, enterpriseIds: string[]): Promise<RequestRow[]> {
    if (enterpriseIds.length === 0) return Promise.resolve([]);
    return db.selectFrom('delegation_requests').selectAll().where('enterprise_id', 'in', enterpriseIds).where('status', '=', 'pending').orderBy('created_at').execute();
  },

  /** Every client with its name and access policy, for the grant forms' catalogue of service items. */
  clients(db: Executor) {
    return db.selectFrom('oidc_clients').select(['client_id', 'metadata', 'access_policy']).orderBy('client_id').execute();
  },

  /** Marks lapsed grants expired (lazily: validity is checked at every use regardless). */
  async expireLapsed(db: Executor, now: Date, ids?: string[]): Promise<void> {
    let query = db.updateTable('delegation_grants').set({ status: 'expired', updated_at: new Date() })
      .where('status', '=', 'active').where('valid_until', '<=', now);
    if (ids) query = query.where('id', 'in', ids);
    await query.execute();
  },

  /** The grant and every grant above it, without locks, the grant itself first. */
  async chain(db: Executor, id: string): Promise<GrantRow[]> {
    const chain: GrantRow[] = [];
    let next: string | null = id;
    while (next) {
      const row: GrantRow | undefined = await db.selectFrom('delegation_grants').selectAll().where('id', '=', next).executeTakeFirst();
      if (!row) break;
      chain.push(row);
      next = row.parent_id;
    }
    return chain;
  },
};
