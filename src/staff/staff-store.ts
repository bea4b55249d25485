import type { Insertable, Selectable, Transaction, Updateable } from 'kysely';
import type { Db } from '../store/db.js';
import type { ApprovalsTable, Database, StaffAccountsTable, StaffRole } from '../store/schema.js';

export type StaffRow = Selectable<StaffAccountsTable>;
export type ApprovalRow = Selectable<ApprovalsTable>;
type Executor = Db | Transaction<Database>;

/** The staff and approval queries, by name: nothing outside staff/ writes SQL against these tables. */
export const staffStore = {
  byId(db: Executor, id: string): Promise<StaffRow | undefined> {
    return db.selectFrom('staff_accounts').selectAll().where('id', '=', id).executeTakeFirst();
  },

  byUsername(db: Executor, username: string): Promise<StaffRow | undefined> {
    return db.selectFrom('staff_accounts').selectAll().where('username', '=', username).executeTakeFirst();
  },

  async roles(db: Executor, staffId: string): Promise<StaffRole[]> {
    const rows = await db.selectFrom('staff_roles').select('role').where('staff_id', '=', staffId).orderBy('role').execute();
    return rows.map((row) => row.role);
  },

  async list(db: Executor): Promise<Array<StaffRow & { roles: StaffRole[] }>> {
    const [rows, roles] = await Promise.all([
      db.selectFrom('staff_accounts').selectAll().orderBy('username').execute(),
      db.selectFrom('staff_roles').select(['staff_id', 'role']).execute(),
    ]);
    return rows.map((row) => ({ ...row, roles: roles.filter((r) => r.staff_id === row.id).map((r) => r.role).sort() }));
  },

  /** The member, locked for the rest of the transaction: two acts on one member are judged one after the other. */
  forUpdate(trx: Transaction<Database>, id: string): Promise<StaffRow | undefined> {
    return trx.selectFrom('staff_accounts').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  },

  /** Usernames of the given members, for showing people rather than ids. */
  async usernames(db: Executor, ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await db.selectFrom('staff_accounts').select(['id', 'username']).where('id', 'in', [...new Set(ids)]).execute();
    return new Map(rows.map((row) => [row.id, row.username]));
  },

  async anyWithRole(db: Executor, role: StaffRole): Promise<boolean> {
    return Boolean(await db.selectFrom('staff_roles').select('staff_id').where('role', '=', role).limit(1).executeTakeFirst());
  },

  async update(db: Executor, staffId: string, patch: Updateable<StaffAccountsTable>): Promise<void> {
    await db.updateTable('staff_accounts').set({ ...patch, updated_at: new Date() }).where('id', '=', staffId).execute();
  },

  /** Ends every console session of the member (each carries the epoch it began in); returns the new epoch. */
  async nextSessionEpoch(db: Executor, staffId: string): Promise<number> {
    const row = await db.updateTable('staff_accounts').set((eb) => ({ session_epoch: eb('session_epoch', '+', 1), updated_at: new Date() }))
      .where('id', '=', staffId).returning('session_epoch').executeTakeFirstOrThrow();
    return row.session_epoch;
  },

  async withdraw(db: Executor, staffId: string, role: StaffRole): Promise<void> {
    await db.deleteFrom('staff_roles').where('staff_id', '=', staffId).where('role', '=', role).execute();
  },

  async insert(db: Executor, row: Insertable<StaffAccountsTable>): Promise<void> {
    await db.insertInto('staff_accounts').values(row).execute();
  },

  async grant(db: Executor, staffId: string, role: StaffRole, grantedBy: string | null): Promise<void> {
    await db.insertInto('staff_roles').values({ staff_id: staffId, role, granted_by: grantedBy })
      .onConflict((c) => c.columns(['staff_id', 'role']).doNothing()).execute();
  },

  /** Stores a TOTP step only if it is newer than the last one used: of two racing uses of a code, one wins. */
  async useTotpStep(db: Executor, staffId: string, step: number): Promise<boolean> {
    const result = await db.updateTable('staff_accounts').set({ totp_last_step: step, updated_at: new Date() })
      .where('id', '=', staffId)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  },

  async updatePasswordHash(db: Executor, staffId: string, hash: string): Promise<void> {
    await db.updateTable('staff_accounts').set({ password_hash: hash, updated_at: new Date() }).where('id', '=', staffId).execute();
  },

  async insertApproval(db: Executor, row: Insertable<ApprovalsTable>): Promise<void> {
    await db.insertInto('approvals').values(row).execute();
  },

  /** The request, locked for the rest of the transaction so two deciders cannot both decide it. */
  approvalForUpdate(trx: Transaction<Database>, id: string): Promise<ApprovalRow | undefined> {
    return trx.selectFrom('approvals').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  },

  approval(db: Executor, id: string): Promise<ApprovalRow | undefined> {
    return db.selectFrom('approvals').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async decideApproval(db: Executor, id: string, patch: Pick<ApprovalRow, 'status' | 'decided_by' | 'decision_note'>): Promise<void> {
    await db.updateTable('approvals').set({ ...patch, decided_at: new Date() }).where('id', '=', id).execute();
  },

  /** Marks pending requests past their expiry as expired (kept, never deleted); returns them. */
  async expireApprovals(db: Executor, now: Date): Promise<ApprovalRow[]> {
    return db.updateTable('approvals').set({ status: 'expired' })
      .where('status', '=', 'pending').where('expires_at', '<=', now).returningAll().execute();
  },

  /** Newest first; `kinds`, when given, limits the answer to those kinds (none given: none answered). */
  listApprovals(db: Executor, filter: { status?: ApprovalRow['status']; targetId?: string; kinds?: readonly ApprovalRow['kind'][]; limit: number }): Promise<ApprovalRow[]> {
    if (filter.kinds?.length === 0) return Promise.resolve([]);
    let query = db.selectFrom('approvals').selectAll();
    if (filter.kinds) query = query.where('kind', 'in', [...filter.kinds]);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.targetId) query = query.where('target_id', '=', filter.targetId);
    return query.orderBy('created_at', 'desc').limit(filter.limit).execute();
  },
};

/** True when a database error is a unique-constraint violation on the named index. */
export { isUniqueViolation } from '../identity/account-store.js';
