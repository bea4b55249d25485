import type { Transaction } from 'kysely';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { SecurityEvents } from '../audit/audit-queries.js';
import { AppError } from '../errors.js';
import type { AccountRow } from '../identity/account-store.js';
import type { AccountProfile, Accounts } from '../identity/accounts.js';
import { parseIdNumber } from '../identity/id-number.js';
import { maskIdNumber, maskPhone } from '../identity/masking.js';
import { hashPassword } from '../identity/password-hash.js';
import { sameName } from '../identity/person-name.js';
import { normalisePhone } from '../identity/phone.js';
import type { LogoutOutbox, LogoutOutcome } from '../oidc/logout-outbox.js';
import type { AccountSessions, SessionView } from '../oidc/account-sessions.js';
import { noticeMessage, type SmsGateway } from '../ports/sms/index.js';
import type { Database } from '../store/schema.js';
import { unbindAllWithin } from '../wechat/bindings.js';
import type { Approvals, ApprovalView } from './approvals.js';
import { BAN_REASONS, isBanReason } from './ban-reasons.js';
import { initialPassword } from './initial-password.js';
import { authorize, refuse, type StaffActor } from './roles.js';
import type { StaffSessions } from './staff-sessions.js';

/** A search hit: enough to recognise the person in front of the desk, nothing in clear. */
export interface CitizenSummary {
  id: string;
  status: AccountRow['status'];
  assurance_level: number;
  name_masked: string;
  id_number_masked: string;
  phone_masked?: string;
}

export interface CitizenDetail extends CitizenSummary {
  registration_channel: AccountRow['registration_channel'];
  password_must_change: boolean;
  totp_enabled: boolean;
  registered_at: string;
  factors: Array<{ kind: string; masked: string; verified_at: string }>;
  sessions: SessionView[];
  events: Array<{ at: string; action: string; result: string; details: Record<string, unknown> }>;
  approvals: ApprovalView[];
}

const VIEWERS = ['agent', 'supervisor'] as const;

/**
 * The helpdesk's work on citizens' accounts: find by ID number or phone (exact, through
 * the blind index), read masked, reset a password after an in-person check, ban, and ask
 * for an unban. An agent acts only on an account their own search in this session found.
 */
export class CitizenDesk {
  constructor(
    private readonly accounts: Accounts,
    private readonly sessions: AccountSessions,
    private readonly logouts: LogoutOutbox,
    private readonly staffSessions: StaffSessions,
    private readonly events: SecurityEvents,
    private readonly approvals: Approvals,
    private readonly sms: SmsGateway,
    private readonly audit: AuditLog,
  ) {
    approvals.onApproved('account.unban', (approval, decider, trx, meta) => this.unban(approval.target_id, approval.id, decider, trx, meta));
    approvals.describe('account.unban', async (accountId) => {
      const row = await this.accounts.row(accountId);
      if (!row) return undefined;
      const { masked } = this.accounts.profileOf(row);
      const grounds = await this.events.grounds('account', accountId, 'account.ban');
      return { label: `${masked.name}（${masked.idNumber}）`, href: `/admin/citizens/${accountId}`, ...(grounds ? { grounds } : {}) };
    });
  }

  private summary(row: AccountRow): CitizenSummary {
    const profile = this.accounts.profileOf(row);
    return {
      id: row.id, status: row.status, assurance_level: row.assurance_level,
      name_masked: profile.masked.name, id_number_masked: profile.masked.idNumber,
      ...(profile.masked.phone ? { phone_masked: profile.masked.phone } : {}),
    };
  }

  /** Exact match on an ID number or an 11-digit phone; the hit is remembered for this session. */
  async search(actor: StaffActor, query: string, meta: RequestMeta): Promise<CitizenSummary[]> {
    await authorize(this.audit, actor, VIEWERS, 'citizen.search', meta);
    const id = parseIdNumber(query.trim());
    const phone = id.ok ? undefined : normalisePhone(query.trim());
    if (!id.ok && !phone) return refuse(this.audit, actor, 'citizen.search', new AppError('invalid_input', { field: 'q' }), meta);
    const row = id.ok ? await this.accounts.byIdNumber(id.value) : await this.accounts.byPhone(phone!);
    const hit = row && row.status !== 'deregistered' ? row : undefined;
    if (hit) await this.staffSessions.remember(actor.sessionHandle, hit.id);
    await this.audit.append({
      actor: { kind: 'staff', id: actor.id }, action: 'citizen.search', result: 'success', ...(hit ? { target: { kind: 'account', id: hit.id } } : {}),
      details: { by: id.ok ? 'id_number' : 'phone', query_masked: id.ok ? maskIdNumber(id.value) : maskPhone(phone!), found: Boolean(hit) }, meta,
    });
    return hit ? [this.summary(hit)] : [];
  }

  /** The account, if this session's search found it; refused and audited otherwise. */
  private async found(actor: StaffActor, accountId: string, action: string, meta: RequestMeta): Promise<AccountRow> {
    // The account this session's search found, or one a request this member may decide is about.
    const mayLook = await this.staffSessions.found(actor.sessionHandle, accountId) || await this.approvals.decidable(actor, accountId);
    const row = mayLook ? await this.accounts.row(accountId) : undefined;
    if (!row || row.status === 'deregistered') return refuse(this.audit, actor, action, new AppError('outside_search'), meta, { kind: 'account', id: accountId });
    return row;
  }

  async detail(actor: StaffActor, accountId: string, meta: RequestMeta): Promise<CitizenDetail> {
    await authorize(this.audit, actor, VIEWERS, 'citizen.view', meta);
    const row = await this.found(actor, accountId, 'citizen.view', meta);
    const [factors, sessions, events, approvals] = await Promise.all([
      this.accounts.factors(row.id),
      this.sessions.list(row.id),
      this.events.recent(row.id, 20),
      this.approvals.list(actor, { targetId: row.id }, meta),
    ]);
    await this.audit.append({ actor: { kind: 'staff', id: actor.id }, action: 'citizen.view', target: { kind: 'account', id: row.id }, result: 'success', meta });
    return {
      ...this.summary(row),
      registration_channel: row.registration_channel,
      password_must_change: row.password_must_change,
      totp_enabled: row.totp_enabled_at !== null,
      registered_at: new Date(row.created_at).toISOString(),
      factors: factors.map((f) => ({ kind: f.kind, masked: f.masked, verified_at: new Date(f.verified_at).toISOString() })),
      sessions,
      events: events.map((e) => ({ at: new Date(e.at).toISOString(), action: e.action, result: e.result, details: e.details })),
      approvals,
    };
  }

  /**
   * Counter reset (凭身份证到大厅重置): the agent has checked the person and types their
   * name and ID number again, which must be the account's. A random password is returned
   * once; every session and token of the account dies; the change is forced at next login.
   */
  /**
   * The in-person check before a counter act: an account this session found, active, and
   * the name and ID number the agent typed from the card are the account's. Refusals are
   * audited under `action`.
   */
  async inPerson(actor: StaffActor, accountId: string, input: { name: string; idNumber: string }, action: string, meta: RequestMeta): Promise<{ row: AccountRow; profile: AccountProfile }> {
    await authorize(this.audit, actor, ['agent'], action, meta);
    const row = await this.found(actor, accountId, action, meta);
    const target = { kind: 'account', id: row.id };
    if (row.status !== 'active') return refuse(this.audit, actor, action, new AppError('account_not_active'), meta, target);
    const profile = this.accounts.profileOf(row);
    const typed = parseIdNumber(input.idNumber.trim());
    if (!typed.ok || typed.value !== profile.idNumber || !sameName(input.name, profile.name)) {
      return refuse(this.audit, actor, action, new AppError('identity_mismatch'), meta, target);
    }
    return { row, profile };
  }

  /**
   * Counter reset (凭身份证到大厅重置): after the in-person check, a random password is
   * returned once; every session and token of the account dies, its WeChat bindings with
   * them; the change is forced at next login; the bound phone is told.
   */
  async resetPassword(actor: StaffActor, accountId: string, input: { name: string; idNumber: string }, meta: RequestMeta): Promise<LogoutOutcome & { password: string }> {
    const { row, profile } = await this.inPerson(actor, accountId, input, 'account.password_reset', meta);
    const target = { kind: 'account', id: row.id };
    const password = initialPassword({ idNumber: profile.idNumber, phone: profile.phone });
    const hash = await hashPassword(password);
    // The reset and every login it ends are one act: written together, ended until done.
    const ending = await this.accounts.transaction(async (trx) => {
      await this.accounts.update(row.id, { password_hash: hash, password_must_change: true, password_changed_at: new Date() }, trx);
      await this.audit.append({ actor: { kind: 'staff', id: actor.id }, action: 'account.password_reset', target, result: 'success', details: { channel: 'counter' }, meta }, trx);
      await unbindAllWithin(trx, this.audit, row.id, 'account.password_reset', meta);
      return this.logouts.enqueue(trx, { kind: 'account', account_id: row.id }, { actor: { kind: 'system' }, action: 'session.revoke_all', target, details: { cause: 'account.password_reset' }, meta });
    });
    const revoked = await this.logouts.settle(ending);
    if (profile.phone) await this.notify(profile.phone, { kind: 'password-reset', at: new Date() });
    return { password, ...revoked };
  }

  /**
   * Ban (禁用): a reason from the list (and text for "other") is required. At once: status
   * banned, every SSO session ended, every grant and refresh token revoked, every WeChat
   * binding removed (an unban does not bring them back); then an SMS.
   */
  async ban(actor: StaffActor, accountId: string, input: { reason?: string; note?: string }, meta: RequestMeta): Promise<LogoutOutcome> {
    await authorize(this.audit, actor, ['agent'], 'account.ban', meta);
    const row = await this.found(actor, accountId, 'account.ban', meta);
    const target = { kind: 'account', id: row.id };
    const note = input.note?.trim().slice(0, 500) ?? '';
    if (!isBanReason(input.reason) || (input.reason === 'other' && note.length < 2)) {
      return refuse(this.audit, actor, 'account.ban', new AppError('ban_reason_required'), meta, target);
    }
    if (row.status !== 'active') return refuse(this.audit, actor, 'account.ban', new AppError('account_not_active'), meta, target);
    const reason = input.reason;
    const ending = await this.accounts.transaction(async (trx) => {
      await this.accounts.update(row.id, { status: 'banned' }, trx);
      await this.audit.append({ actor: { kind: 'staff', id: actor.id }, action: 'account.ban', target, result: 'success', details: { reason, note }, meta }, trx);
      await unbindAllWithin(trx, this.audit, row.id, 'account.ban', meta);
      return this.logouts.enqueue(trx, { kind: 'account', account_id: row.id }, { actor: { kind: 'system' }, action: 'session.revoke_all', target, details: { cause: 'account.ban' }, meta });
    });
    const revoked = await this.logouts.settle(ending);
    const phone = this.accounts.openField(row, 'phone');
    if (phone) await this.notify(phone, { kind: 'account-banned', at: new Date(), reason: BAN_REASONS[reason] });
    return revoked;
  }

  /** Asks a supervisor to lift a ban; refused (and audited) unless the account is banned. */
  async requestUnban(actor: StaffActor, accountId: string, reason: string, meta: RequestMeta): Promise<ApprovalView> {
    await authorize(this.audit, actor, ['agent'], 'approval.request.account.unban', meta);
    const row = await this.found(actor, accountId, 'approval.request.account.unban', meta);
    if (row.status !== 'banned') return refuse(this.audit, actor, 'approval.request.account.unban', new AppError('account_not_banned'), meta, { kind: 'account', id: row.id });
    return this.approvals.request('account.unban', row.id, reason, actor, meta);
  }

  /** The approved unban, inside the deciding transaction; the SMS goes once it has committed. */
  private async unban(accountId: string, approvalId: string, decider: StaffActor, trx: Transaction<Database>, meta: RequestMeta) {
    const row = await this.accounts.rowForUpdate(accountId, trx);
    if (!row || row.status !== 'banned') throw new AppError('account_not_banned');
    await this.accounts.update(row.id, { status: 'active' }, trx);
    await this.audit.append({ actor: { kind: 'staff', id: decider.id }, action: 'account.unban', target: { kind: 'account', id: row.id }, result: 'success', details: { approval: approvalId }, meta }, trx);
    const phone = this.accounts.openField(row, 'phone');
    return { after: async () => { if (phone) await this.notify(phone, { kind: 'account-unbanned', at: new Date() }); } };
  }

  private async notify(phone: string, notice: Parameters<typeof noticeMessage>[1]): Promise<void> {
    // A notice that cannot be sent does not undo the act; the audit record stands.
    await this.sms.send(noticeMessage(phone, notice)).catch(() => undefined);
  }
}
