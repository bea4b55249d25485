import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import { isUniqueViolation } from '../identity/account-store.js';
import { errorIs, type AttemptLimit } from '../identity/attempt-limit.js';
import type { AccountProfile, Accounts } from '../identity/accounts.js';
import { maskName, maskPhone } from '../identity/masking.js';
import type { Enterprise, Registries } from '../ports/registries/index.js';
import type { Db } from '../store/db.js';
import type { Database } from '../store/schema.js';
import type { SmsCodes } from '../verification/sms-codes.js';
import { enterpriseStore, type ApplicationRow } from './enterprise-store.js';
import type { Enterprises } from './enterprises.js';
import { holderDigest, isHolder, type SignedIn } from '../flows/holder.js';
import { activeEntry, isRepresentative } from './registry-check.js';

/** A representative's own registration waits for the SMS code this long; someone else's for the representative's decision. */
const OWN_APPLICATION_SECONDS = 30 * 60;
const AGENT_APPLICATION_SECONDS = 7 * 24 * 3600;
const MIN_LEVEL = 2;

export interface ApplicationView {
  id: string;
  uscc: string;
  name: string;
  status: ApplicationRow['status'];
  /** `code`: the applicant finishes it with the code sent to the representative's phone; `representative` may also approve it. */
  completes_by: Array<'code' | 'representative'>;
  applicant_masked: string;
  /** Whether the caller may send the code and confirm: the applicant, in the session or token that started it. */
  continues_here: boolean;
  expires_at: string;
  created_at: string;
  enterprise_id?: string;
}

export interface StartInput {
  uscc: string;
  name: string;
  /** Started by someone who is not the representative, for their approval. */
  onBehalf?: boolean;
}

export interface CodeRequest {
  ip: string;
  captcha?: { id?: string; answer?: string };
}

/**
 * Registering an enterprise (法人注册) and claiming root authority after a change of
 * legal representative. Both are an application checked against the business register
 * (active, same name, representative's ID number and name) and completed either with
 * the SMS code sent to the representative's phone on the register, or, when someone
 * else started it, by the representative approving it from their own account. The
 * enterprise table's unique code makes one enterprise one account whatever the race;
 * the partial unique index on pending applications lets only one be in progress.
 *
 * An application is continued (the code sent again, the code confirmed) only by the session
 * or token that started it, as every multi-step flow is: another session or another
 * client's token of the same person gets the answer an expired flow gets. Withdrawing is
 * the account's: it gives nothing, and an application someone else must approve waits for
 * a week, longer than the session that started it may live.
 */
export class EnterpriseRegistration {
  constructor(
    private readonly db: Db,
    private readonly accounts: Accounts,
    private readonly enterprises: Enterprises,
    private readonly registries: Registries,
    private readonly smsCodes: SmsCodes,
    private readonly audit: AuditLog,
    /** Answers that a representative holds no account here, per applicant (see `start`). */
    private readonly representativeLookups: AttemptLimit,
  ) {}

  private flowId(applicationId: string) {
    return `enterprise:${applicationId}`;
  }

  /** A real-name account of level 2 or more, active. */
  private async citizen(accountId: string): Promise<AccountProfile> {
    const profile = await this.accounts.profile(accountId);
    if (!profile || profile.status !== 'active') throw new AppError('unauthenticated');
    if (profile.assuranceLevel < MIN_LEVEL || !profile.idNumber) throw new AppError('assurance_too_low', { level: MIN_LEVEL });
    return profile;
  }

  /** Whether `who` started the application, in this session or with this token. */
  private startedBy(row: ApplicationRow, who: SignedIn): boolean {
    return row.applicant_account_id === who.accountId && row.applicant_holder !== null && isHolder(row.applicant_holder, who.key);
  }

  private async view(row: ApplicationRow, who?: SignedIn): Promise<ApplicationView> {
    const applicant = await this.accounts.profile(row.applicant_account_id);
    const own = applicant ? this.accounts.idNumberIndex(applicant.idNumber) === row.representative_idx : false;
    const enterprise = row.status === 'approved' ? await this.enterprises.byUscc(row.uscc) : undefined;
    return {
      id: row.id,
      uscc: row.uscc,
      name: row.name,
      status: row.status,
      completes_by: own ? ['code'] : ['code', 'representative'],
      applicant_masked: applicant?.name ? maskName(applicant.name) : '',
      continues_here: row.status === 'pending' && who !== undefined && this.startedBy(row, who),
      expires_at: row.expires_at.toISOString(),
      created_at: row.created_at.toISOString(),
      ...(enterprise ? { enterprise_id: enterprise.id } : {}),
    };
  }

  /**
   * Checks the register and opens an application. The representative is sent the code
   * at once; someone else's application waits for the representative (who must already
   * hold a real-name account to be bound to). A registered enterprise whose seat is
   * empty after a change on the register is claimed the same way, by its new
   * representative only.
   */
  async start(who: SignedIn, input: StartInput, request: CodeRequest, meta: RequestMeta): Promise<{ application: ApplicationView; code_sent_to?: string }> {
    const { accountId } = who;
    const profile = await this.citizen(accountId);
    const entry = await activeEntry(this.registries, input.uscc, input.name);
    const own = isRepresentative(entry, profile);
    if (!own && !input.onBehalf) {
      await this.audit.append({
        actor: { kind: 'citizen', id: accountId }, action: 'enterprise.register', target: { kind: 'enterprise_uscc', id: entry.uscc }, result: 'denied',
        details: { reason: 'representative_mismatch' }, meta,
      });
      throw new AppError('enterprise_representative_mismatch');
    }

    const existing = await this.enterprises.byUscc(entry.uscc);
    if (existing) {
      // Checked at registration: the register may have named someone else since.
      const { enterprise } = await this.enterprises.applyEntry(existing.id, entry, meta);
      if (enterprise.representative_account_id !== null || !own) throw new AppError('enterprise_already_registered');
    }

    const representativeIdx = this.accounts.idNumberIndex(entry.legalRepresentative.idNumber);
    const now = new Date();
    if (!own) {
      await this.representativeOfOthers(accountId, entry, meta);
      // Once refused, the same person may not ask the representative again at once.
      if (await enterpriseStore.rejectedSince(this.db, entry.uscc, accountId, new Date(now.getTime() - 1000 * AGENT_APPLICATION_SECONDS))) {
        await this.audit.append({
          actor: { kind: 'citizen', id: accountId }, action: 'enterprise.application.start', target: { kind: 'enterprise_uscc', id: entry.uscc }, result: 'denied',
          details: { reason: 'rejected_recently' }, meta,
        });
        throw new AppError('enterprise_application_rejected');
      }
    }

    const id = randomUUID();
    await enterpriseStore.expireApplications(this.db, entry.uscc, now);
    try {
      await this.db.transaction().execute(async (trx) => {
        // The representative's own application ends any someone else left pending: nobody can
        // hold an enterprise's registration against its representative.
        if (own) await this.supersedePending(trx, entry.uscc, accountId, now, meta);
        await enterpriseStore.insertApplication(trx, {
          id, uscc: entry.uscc, name: entry.name, applicant_account_id: accountId, applicant_holder: holderDigest(who.key), representative_idx: representativeIdx, status: 'pending',
          expires_at: new Date(now.getTime() + 1000 * (own ? OWN_APPLICATION_SECONDS : AGENT_APPLICATION_SECONDS)),
        });
        await this.audit.append({
          actor: { kind: 'citizen', id: accountId }, action: 'enterprise.application.start', target: { kind: 'enterprise_application', id }, result: 'success',
          details: { uscc: entry.uscc, by_representative: own, claim: Boolean(existing) }, meta,
        }, trx);
      });
    } catch (error) {
      if (isUniqueViolation(error, 'enterprise_applications_pending_idx')) throw new AppError('enterprise_application_pending', {}, { cause: error });
      throw error;
    }

    const application = (await enterpriseStore.application(this.db, id))!;
    if (!own) return { application: await this.view(application, who) };
    try {
      const sent = await this.sendTo(entry, id, request);
      return { application: await this.view(application, who), code_sent_to: sent };
    } catch (error) {
      // Nothing stays behind a code that could not be sent: starting again is possible at once.
      await enterpriseStore.decideApplication(this.db, id, 'withdrawn', accountId, new Date());
      throw error;
    }
  }

  private async supersedePending(trx: Transaction<Database>, uscc: string, accountId: string, now: Date, meta: RequestMeta): Promise<void> {
    for (const ended of await enterpriseStore.supersedeApplications(trx, uscc, accountId, now)) {
      await this.audit.append({
        actor: { kind: 'citizen', id: accountId }, action: 'enterprise.application.supersede', target: { kind: 'enterprise_application', id: ended.id }, result: 'success',
        details: { uscc, applicant_account: ended.applicant_account_id }, meta,
      }, trx);
    }
  }

  /**
   * Whether the register's representative holds an account here, asked for someone else's
   * enterprise. The register is public, so either answer would tell whether a named person
   * has an account: every lookup counts against the applicant, who gets a few a day (the
   * place is taken before the lookup, so a burst is no faster; only a lookup that could not
   * be made gives it back), and every refusal is in the audit log.
   */
  private async representativeOfOthers(accountId: string, entry: Enterprise, meta: RequestMeta): Promise<void> {
    try {
      await this.representativeLookups.guard(`enterprise-representative:${accountId}`, () => this.registeredRepresentative(entry),
        errorIs('enterprise_representative_not_registered'), { onSuccess: 'keep' });
    } catch (error) {
      if (error instanceof AppError && (error.code === 'enterprise_representative_not_registered' || error.code === 'attempts_exceeded')) {
        await this.audit.append({
          actor: { kind: 'citizen', id: accountId }, action: 'enterprise.application.start', target: { kind: 'enterprise_uscc', id: entry.uscc }, result: 'denied',
          details: { reason: error.code }, meta,
        });
      }
      throw error;
    }
  }

  private async registeredRepresentative(entry: Enterprise): Promise<string> {
    const row = await this.accounts.byIdNumber(entry.legalRepresentative.idNumber);
    if (!row || row.status !== 'active' || row.assurance_level < MIN_LEVEL) throw new AppError('enterprise_representative_not_registered');
    return row.id;
  }

  private async sendTo(entry: Enterprise, applicationId: string, request: CodeRequest): Promise<string> {
    const phone = entry.legalRepresentative.phone;
    await this.smsCodes.send({ purpose: 'enterprise', phone, flowId: this.flowId(applicationId), ip: request.ip, captcha: request.captcha });
    return maskPhone(phone);
  }

  /** A pending, unexpired application the account started. */
  private async own(accountId: string, applicationId: string): Promise<ApplicationRow> {
    const row = await enterpriseStore.application(this.db, applicationId);
    if (!row || row.applicant_account_id !== accountId) throw new AppError('enterprise_application_not_found');
    if (row.status !== 'pending' || row.expires_at <= new Date()) throw new AppError('enterprise_application_not_found');
    return row;
  }

  /** As `own`, and started in this session or with this token: anyone else continues nothing. */
  private async startedHere(who: SignedIn, applicationId: string): Promise<ApplicationRow> {
    const row = await this.own(who.accountId, applicationId);
    if (!this.startedBy(row, who)) throw new AppError('flow_expired');
    return row;
  }

  /** The register's entry again, still naming the representative the application was made for. */
  private async stillValid(row: ApplicationRow): Promise<Enterprise> {
    const entry = await activeEntry(this.registries, row.uscc, row.name);
    if (this.accounts.idNumberIndex(entry.legalRepresentative.idNumber) !== row.representative_idx) throw new AppError('enterprise_representative_mismatch');
    return entry;
  }

  /** (Re)sends the code to the representative's phone on the register; only the applicant may ask. */
  async sendCode(who: SignedIn, applicationId: string, request: CodeRequest): Promise<{ code_sent_to: string }> {
    const row = await this.startedHere(who, applicationId);
    const entry = await this.stillValid(row);
    return { code_sent_to: await this.sendTo(entry, row.id, request) };
  }

  /** The code the representative's phone received, typed by the applicant: the application completes. */
  async confirm(who: SignedIn, applicationId: string, code: string, meta: RequestMeta): Promise<{ application: ApplicationView; enterprise_id: string }> {
    const { accountId } = who;
    const row = await this.startedHere(who, applicationId);
    const entry = await this.stillValid(row);
    try {
      await this.smsCodes.verify({ purpose: 'enterprise', phone: entry.legalRepresentative.phone, flowId: this.flowId(row.id) }, code.trim());
    } catch (error) {
      await this.audit.append({
        actor: { kind: 'citizen', id: accountId }, action: 'enterprise.register', target: { kind: 'enterprise_application', id: row.id }, result: 'failure',
        details: { reason: error instanceof AppError ? error.code : 'error' }, meta,
      });
      throw error;
    }
    const representative = await this.registeredRepresentative(entry);
    const enterpriseId = await this.complete(row, entry, representative, accountId, 'code', meta);
    return { application: await this.view((await enterpriseStore.application(this.db, row.id))!), enterprise_id: enterpriseId };
  }

  /**
   * The representative approves someone else's application from their own account. Their
   * own applications finish only with the code: approving would skip it.
   */
  async approve(accountId: string, applicationId: string, meta: RequestMeta): Promise<{ application: ApplicationView; enterprise_id: string }> {
    const row = await this.awaitingMe(accountId, applicationId, 'approve', meta);
    const entry = await this.stillValid(row);
    const enterpriseId = await this.complete(row, entry, accountId, accountId, 'representative', meta);
    return { application: await this.view((await enterpriseStore.application(this.db, row.id))!), enterprise_id: enterpriseId };
  }

  async reject(accountId: string, applicationId: string, meta: RequestMeta): Promise<ApplicationView> {
    const row = await this.awaitingMe(accountId, applicationId, 'reject', meta);
    // Only the representative the register names now may refuse (which also bars the applicant for a week).
    await this.stillValid(row);
    await this.decide(row, 'rejected', accountId, 'enterprise.application.reject', meta);
    return this.view((await enterpriseStore.application(this.db, row.id))!);
  }

  async withdraw(accountId: string, applicationId: string, meta: RequestMeta): Promise<ApplicationView> {
    const row = await this.own(accountId, applicationId);
    await this.decide(row, 'withdrawn', accountId, 'enterprise.application.withdraw', meta);
    return this.view((await enterpriseStore.application(this.db, row.id))!);
  }

  private async decide(row: ApplicationRow, status: 'rejected' | 'withdrawn', accountId: string, action: string, meta: RequestMeta) {
    await this.db.transaction().execute(async (trx) => {
      if (!await enterpriseStore.decideApplication(trx, row.id, status, accountId, new Date())) throw new AppError('enterprise_application_not_found');
      await this.audit.append({ actor: { kind: 'citizen', id: accountId }, action, target: { kind: 'enterprise_application', id: row.id }, result: 'success', details: { uscc: row.uscc }, meta }, trx);
    });
  }

  /** A pending application by someone else, for the representative it names; anyone else is refused (and audited). */
  private async awaitingMe(accountId: string, applicationId: string, verb: 'approve' | 'reject', meta: RequestMeta): Promise<ApplicationRow> {
    const profile = await this.citizen(accountId);
    const row = await enterpriseStore.application(this.db, applicationId);
    if (!row || row.status !== 'pending' || row.expires_at <= new Date()) throw new AppError('enterprise_application_not_found');
    if (row.representative_idx !== this.accounts.idNumberIndex(profile.idNumber) || row.applicant_account_id === accountId) {
      await this.audit.append({
        actor: { kind: 'citizen', id: accountId }, action: `enterprise.application.${verb}`, target: { kind: 'enterprise_application', id: row.id }, result: 'denied',
        details: { reason: 'not_representative' }, meta,
      });
      throw new AppError('enterprise_not_representative');
    }
    return row;
  }

  /** Applications the account started, and those waiting for it as representative. */
  async listFor(who: SignedIn): Promise<{ mine: ApplicationView[]; awaiting_me: ApplicationView[] }> {
    const { accountId } = who;
    const profile = await this.accounts.profile(accountId);
    const mine = await enterpriseStore.applicationsBy(this.db, accountId);
    const awaiting = profile?.idNumber ? await enterpriseStore.awaitingRepresentative(this.db, this.accounts.idNumberIndex(profile.idNumber), accountId, new Date()) : [];
    return { mine: await Promise.all(mine.map((r) => this.view(r, who))), awaiting_me: await Promise.all(awaiting.map((r) => this.view(r))) };
  }

  async application(who: SignedIn, applicationId: string): Promise<ApplicationView> {
    const { accountId } = who;
    const row = await enterpriseStore.application(this.db, applicationId);
    const profile = await this.accounts.profile(accountId);
    const maySee = row && (row.applicant_account_id === accountId || (profile?.idNumber && row.representative_idx === this.accounts.idNumberIndex(profile.idNumber)));
    if (!row || !maySee) throw new AppError('enterprise_application_not_found');
    return this.view(row, who);
  }

  /**
   * Approves the application and binds root authority, in one transaction with the audit
   * record: a new enterprise, or the empty seat of a registered one (a claim).
   */
  private async complete(row: ApplicationRow, entry: Enterprise, representativeId: string, actorId: string, via: 'code' | 'representative', meta: RequestMeta): Promise<string> {
    const now = new Date();
    try {
      return await this.db.transaction().execute(async (trx) => {
        if (!await enterpriseStore.decideApplication(trx, row.id, 'approved', actorId, now)) throw new AppError('enterprise_application_not_found');
        const existing = await enterpriseStore.byUscc(trx, row.uscc);
        if (existing) return this.claim(trx, existing.id, entry, row, representativeId, actorId, via, meta);
        const id = randomUUID();
        await enterpriseStore.insert(trx, {
          id, uscc: entry.uscc, name: entry.name, type: entry.type, status: 'active', registry_status: entry.status, registry_checked_at: now,
          registry_representative_idx: row.representative_idx, representative_account_id: representativeId, representative_since: now,
        });
        await this.audit.append({
          actor: { kind: 'citizen', id: actorId }, action: 'enterprise.register', target: { kind: 'enterprise', id }, result: 'success',
          details: { uscc: entry.uscc, type: entry.type, representative_account: representativeId, via, application: row.id }, meta,
        }, trx);
        return id;
      });
    } catch (error) {
      if (isUniqueViolation(error, 'enterprises_uscc_key')) throw new AppError('enterprise_already_registered', {}, { cause: error });
      throw error;
    }
  }

  private async claim(trx: Transaction<Database>, enterpriseId: string, entry: Enterprise, row: ApplicationRow, representativeId: string, actorId: string, via: 'code' | 'representative', meta: RequestMeta): Promise<string> {
    const locked = await enterpriseStore.lockById(trx, enterpriseId);
    if (!locked || locked.registry_representative_idx !== row.representative_idx) throw new AppError('enterprise_representative_mismatch');
    if (!await enterpriseStore.claimRepresentative(trx, enterpriseId, representativeId, new Date())) throw new AppError('enterprise_already_registered');
    await enterpriseStore.update(trx, enterpriseId, { name: entry.name, type: entry.type });
    await this.audit.append({
      actor: { kind: 'citizen', id: actorId }, action: 'enterprise.representative.claim', target: { kind: 'enterprise', id: enterpriseId }, result: 'success',
      details: { uscc: entry.uscc, representative_account: representativeId, via, application: row.id }, meta,
    }, trx);
    return enterpriseId;
  }
}
