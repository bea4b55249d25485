import type { Insertable, Selectable, Transaction, Updateable } from 'kysely';
import type { Db } from '../store/db.js';
import type { Database, EnterpriseApplicationsTable, EnterpriseCounterRegistrationsTable, EnterprisesTable } from '../store/schema.js';

export type EnterpriseRow = Selectable<EnterprisesTable>;
export type ApplicationRow = Selectable<EnterpriseApplicationsTable>;
export type CounterRecordRow = Selectable<EnterpriseCounterRegistrationsTable>;
type Executor = Db | Transaction<Database>;

/** The enterprise queries, by name: nothing outside enterprises/ writes SQL against these tables. */
export const enterpriseStore = {
  byId(db: Executor, id: string): Promise<EnterpriseRow | undefined> {
    return db.selectFrom('enterprises').selectAll().where('id', '=', id).executeTakeFirst();
  },

  byUscc(db: Executor, uscc: string): Promise<EnterpriseRow | undefined> {
    return db.selectFrom('enterprises').selectAll().where('uscc', '=', uscc).executeTakeFirst();
  },

  /** Locks the row for the rest of the transaction, so two changes to one enterprise run one after the other. */
  lockById(trx: Transaction<Database>, id: string): Promise<EnterpriseRow | undefined> {
    return trx.selectFrom('enterprises').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  },

  representedBy(db: Executor, accountId: string): Promise<EnterpriseRow[]> {
    return db.selectFrom('enterprises').selectAll().where('representative_account_id', '=', accountId).orderBy('created_at').execute();
  },

  allIds(db: Executor): Promise<string[]> {
    return db.selectFrom('enterprises').select('id').orderBy('created_at').execute().then((rows) => rows.map((r) => r.id));
  },

  async insert(db: Executor, row: Insertable<EnterprisesTable>): Promise<void> {
    await db.insertInto('enterprises').values(row).execute();
  },

  async update(db: Executor, id: string, patch: Updateable<EnterprisesTable>): Promise<void> {
    await db.updateTable('enterprises').set({ ...patch, updated_at: new Date() }).where('id', '=', id).execute();
  },

  /** Binds root authority only while nobody holds it; false when someone else got there first. */
  async claimRepresentative(db: Executor, id: string, accountId: string, at: Date): Promise<boolean> {
    const result = await db.updateTable('enterprises')
      .set({ representative_account_id: accountId, representative_since: at, updated_at: at })
      .where('id', '=', id).where('representative_account_id', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  },

  application(db: Executor, id: string): Promise<ApplicationRow | undefined> {
    return db.selectFrom('enterprise_applications').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async insertApplication(db: Executor, row: Insertable<EnterpriseApplicationsTable>): Promise<void> {
    await db.insertInto('enterprise_applications').values(row).execute();
  },

  /** Pending applications past their time become expired, so they no longer hold the code's place. */
  async expireApplications(db: Executor, uscc: string, now: Date): Promise<void> {
    await db.updateTable('enterprise_applications').set({ status: 'expired' })
      .where('uscc', '=', uscc).where('status', '=', 'pending').where('expires_at', '<=', now).execute();
  },

  /** Ends the applications others started for the code that are still pending (the representative applies in person); returns them. */
  supersedeApplications(db: Executor, uscc: string, representativeId: string, at: Date): Promise<ApplicationRow[]> {
    return db.updateTable('enterprise_applications').set({ status: 'superseded', decided_by: representativeId, decided_at: at })
      .where('uscc', '=', uscc).where('status', '=', 'pending').where('applicant_account_id', '<>', representativeId).returningAll().execute();
  },

  /** Whether the representative rejected an application of this applicant for the code since `since`. */
  async rejectedSince(db: Executor, uscc: string, applicantId: string, since: Date): Promise<boolean> {
    const row = await db.selectFrom('enterprise_applications').select('id')
      .where('uscc', '=', uscc).where('applicant_account_id', '=', applicantId).where('status', '=', 'rejected').where('decided_at', '>', since)
      .executeTakeFirst();
    return row !== undefined;
  },

  /** Moves a pending application to its outcome; false when it was no longer pending (another decision won). */
  async decideApplication(db: Executor, id: string, status: 'approved' | 'rejected' | 'withdrawn', by: string, at: Date): Promise<boolean> {
    const result = await db.updateTable('enterprise_applications')
      .set({ status, decided_by: by, decided_at: at })
      .where('id', '=', id).where('status', '=', 'pending').where('expires_at', '>', at)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  },

  /** Applications the account started, newest first. */
  applicationsBy(db: Executor, accountId: string): Promise<ApplicationRow[]> {
    return db.selectFrom('enterprise_applications').selectAll()
      .where('applicant_account_id', '=', accountId).orderBy('created_at', 'desc').limit(20).execute();
  },

  /** Pending applications waiting for the person with this ID-number index, started by someone else. */
  awaitingRepresentative(db: Executor, representativeIdx: string, accountId: string, now: Date): Promise<ApplicationRow[]> {
    return db.selectFrom('enterprise_applications').selectAll()
      .where('representative_idx', '=', representativeIdx).where('status', '=', 'pending')
      .where('expires_at', '>', now).where('applicant_account_id', '<>', accountId)
      .orderBy('created_at').execute();
  },

  async insertCounterRecord(db: Executor, row: Insertable<EnterpriseCounterRegistrationsTable>): Promise<void> {
    await db.insertInto('enterprise_counter_registrations').values(row).execute();
  },

  /** How the enterprise was registered at counters, newest first. */
  counterRecords(db: Executor, enterpriseId: string): Promise<CounterRecordRow[]> {
    return db.selectFrom('enterprise_counter_registrations').selectAll().where('enterprise_id', '=', enterpriseId).orderBy('created_at', 'desc').execute();
  },

  /** Moves the enterprise from one status to another; false when it was not in `from` (someone else acted first). */
  async changeStatus(db: Executor, id: string, from: EnterpriseRow['status'], to: EnterpriseRow['status']): Promise<boolean> {
    const result = await db.updateTable('enterprises').set({ status: to, updated_at: new Date() }).where('id', '=', id).where('status', '=', from).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  },
};
