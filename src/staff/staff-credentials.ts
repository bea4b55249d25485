import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { addressesOf } from '../audit/audit-queries.js';
import type { FieldCipher } from '../crypto/field-cipher.js';
import { AppError } from '../errors.js';
import { hashPassword, verifyPassword } from '../identity/password-hash.js';
import { checkPassword } from '../identity/password-policy.js';
import { createTotpSecret, otpauthUri, verifyTotp } from '../identity/totp.js';
import type { Cache } from '../store/cache.js';
import type { Db } from '../store/db.js';
import { refuse, type CredentialsDue, type StaffActor } from './roles.js';
import { StaffLock } from './staff-lock.js';
import type { StaffSessions } from './staff-sessions.js';
import { staffStore, type StaffRow } from './staff-store.js';

/** The issuer an authenticator app shows next to a staff member's codes. */
export const STAFF_TOTP_ISSUER = '统一身份认证平台·管理';
const ENROLMENT_SECONDS = 10 * 60;
const DAY_MS = 86_400_000;
const ACTION = 'staff.credentials.change';
/** How many of the creator's latest sign-ins a member's first credential change is compared with. */
const CREATOR_SIGN_INS = 5;

/** A new authenticator secret waiting for its first code: shown to its holder only. */
export interface PendingAuthenticator {
  secret: string;
  otpauth_uri: string;
  expires_in: number;
}

/** What the member holds, as they (and their API) see it. */
export interface CredentialStatus {
  password_change_required: boolean;
  password_expired: boolean;
  authenticator_enrolment_required: boolean;
  password_changed_at: string;
  password_expires_at: string;
}

export type CredentialChange = { currentPassword: string; newPassword?: string; code?: string };

/**
 * A staff member's credentials are known to them alone (GB/T 22239-2019 8.1.4: changed
 * periodically, known only to the holder). What an admin hands over (a new member's
 * password and authenticator secret, or a reset authenticator) opens one thing only: this
 * service, where the holder replaces it before any act (`due`, enforced by authorize() and
 * by the console for every route). A password older than STAFF_PASSWORD_MAX_AGE_DAYS is
 * due the same way. Later the holder may change either whenever they like.
 *
 * A change needs the current password (a session left open is not enough) and, for an
 * authenticator, a code from the new secret, which is held for ten minutes in the cache
 * under the console session that asked for it, encrypted: another session of the same
 * member (an admin who used the handed-over credentials first) neither sees nor confirms it.
 * Replacing credentials ends every other console session of the member.
 */
export class StaffCredentials {
  constructor(
    private readonly db: Db,
    private readonly cache: Cache,
    private readonly cipher: FieldCipher,
    private readonly lock: StaffLock,
    private readonly sessions: StaffSessions,
    private readonly audit: AuditLog,
    private readonly maxAgeDays: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private expiresAt(row: StaffRow): Date {
    return new Date(new Date(row.password_changed_at).getTime() + this.maxAgeDays * DAY_MS);
  }

  /** What the member must replace before any act, or undefined. */
  due(row: StaffRow): CredentialsDue | undefined {
    const passwordExpired = this.expiresAt(row) <= this.now();
    const due = { password: row.password_must_change || passwordExpired, authenticator: row.totp_must_enrol, passwordExpired: passwordExpired && !row.password_must_change };
    return due.password || due.authenticator ? due : undefined;
  }

  /** How the staff list names the state of a member's credentials. */
  state(row: StaffRow): 'set' | 'first_sign_in' | 'authenticator_reset' | 'password_expired' {
    const due = this.due(row);
    if (!due) return 'set';
    if (row.password_must_change) return 'first_sign_in';
    return due.authenticator ? 'authenticator_reset' : 'password_expired';
  }

  private async activeRow(actor: StaffActor): Promise<StaffRow> {
    const row = await staffStore.byId(this.db, actor.id);
    if (!row || row.status !== 'active') throw new AppError('unauthenticated');
    return row;
  }

  async status(actor: StaffActor): Promise<CredentialStatus> {
    const row = await this.activeRow(actor);
    const due = this.due(row);
    return {
      password_change_required: Boolean(due?.password), password_expired: Boolean(due?.passwordExpired), authenticator_enrolment_required: Boolean(due?.authenticator),
      password_changed_at: new Date(row.password_changed_at).toISOString(), password_expires_at: this.expiresAt(row).toISOString(),
    };
  }

  private enrolmentKey(actor: StaffActor) {
    return `staff-enrolment:${actor.sessionHandle}`;
  }

  private describe(actor: StaffActor, secret: string, expiresIn: number): PendingAuthenticator {
    return { secret, otpauth_uri: otpauthUri({ secret, accountLabel: actor.username, issuer: STAFF_TOTP_ISSUER }), expires_in: expiresIn };
  }

  /** The enrolment this session has in progress, if any: a reload shows the secret the app may already hold. */
  async pendingAuthenticator(actor: StaffActor): Promise<PendingAuthenticator | undefined> {
    const raw = await this.cache.get(this.enrolmentKey(actor));
    if (!raw) return undefined;
    return this.describe(actor, this.cipher.decrypt(raw, this.enrolmentKey(actor)), await this.cache.ttl(this.enrolmentKey(actor)) ?? ENROLMENT_SECONDS);
  }

  /** A fresh secret for this session, replacing any pending one. */
  async startAuthenticator(actor: StaffActor): Promise<PendingAuthenticator> {
    await this.activeRow(actor);
    const secret = createTotpSecret();
    await this.cache.set(this.enrolmentKey(actor), this.cipher.encrypt(secret, this.enrolmentKey(actor)), ENROLMENT_SECONDS);
    return this.describe(actor, secret, ENROLMENT_SECONDS);
  }

  /**
   * Replaces the password, the authenticator or both, in one transaction with its audit
   * record; whatever is due must be among them. Returns what was replaced.
   */
  async change(actor: StaffActor, input: CredentialChange, meta: RequestMeta): Promise<{ password: boolean; authenticator: boolean }> {
    const row = await this.activeRow(actor);
    const due = this.due(row);
    const newPassword = input.newPassword ? input.newPassword : undefined;
    const code = input.code?.trim() ? input.code.trim() : undefined;
    const refused = (error: AppError) => refuse(this.audit, actor, ACTION, error, meta, { kind: 'staff', id: actor.id });
    if ((due?.password || !code) && !newPassword) return refused(new AppError('invalid_input', { field: 'new_password' }));
    if (due?.authenticator && !code) return refused(new AppError('invalid_input', { field: 'code' }));

    await this.checkCurrentPassword(actor, row, input.currentPassword, meta);
    let hash: string | undefined;
    if (newPassword) {
      const policy = checkPassword(newPassword);
      if (!policy.ok) return refused(new AppError('weak_password', { reason: policy.reason }));
      if (await verifyPassword(row.password_hash, newPassword)) return refused(new AppError('weak_password', { reason: 'same_as_current' }));
      hash = await hashPassword(policy.normalised);
    }
    let authenticator: { secret: string; step: number } | undefined;
    if (code) {
      const pending = await this.pendingAuthenticator(actor);
      if (!pending) return refused(new AppError('totp_enrolment_expired'));
      const verified = await verifyTotp({ secret: pending.secret, token: code });
      if (!verified.ok) return refused(new AppError('totp_invalid'));
      // Two confirmations racing: one takes the pending secret, the other finds it gone.
      if (await this.cache.take(this.enrolmentKey(actor)) === null) return refused(new AppError('totp_enrolment_expired'));
      authenticator = { secret: pending.secret, step: verified.step };
    }

    const handover = row.password_must_change && row.created_by ? await this.handover(row.created_by, actor.id, meta) : undefined;
    const epoch = await this.db.transaction().execute(async (trx) => {
      // Two changes racing (the holder and whoever else holds the handed-over credentials,
      // each past the checks above): the first to lock the row wins; the other finds it
      // changed since it was read and changes nothing.
      const locked = await staffStore.forUpdate(trx, actor.id);
      if (!locked || locked.status !== 'active' || locked.session_epoch !== row.session_epoch) return undefined;
      await staffStore.update(trx, actor.id, {
        ...(hash ? { password_hash: hash, password_changed_at: this.now(), password_must_change: false } : {}),
        // The confirming code is spent: it cannot also pass the next sign-in.
        ...(authenticator ? { totp_secret_enc: this.cipher.encrypt(authenticator.secret, `staff-totp:${actor.id}`), totp_last_step: authenticator.step, totp_must_enrol: false } : {}),
      });
      const next = await staffStore.nextSessionEpoch(trx, actor.id);
      await this.audit.append({
        actor: { kind: 'staff', id: actor.id }, action: ACTION, target: { kind: 'staff', id: actor.id }, result: 'success',
        details: {
          password_replaced: Boolean(hash), authenticator_replaced: Boolean(authenticator),
          was_due: due ? (row.password_must_change ? 'first_sign_in' : due.passwordExpired ? 'password_expired' : 'authenticator_reset') : 'none',
          ...handover,
        },
        meta,
      }, trx);
      return next;
    });
    if (epoch === undefined) return refused(new AppError('credentials_changed_meanwhile'));
    await this.sessions.carryOver(actor.sessionHandle, epoch);
    return { password: Boolean(hash), authenticator: Boolean(authenticator) };
  }

  /**
   * For the record of a member's first credential change, what an auditor needs to judge
   * the hand-over: who created the member, and whether the change came from an address
   * that admin used (the creation, or one of their latest sign-ins). The creator knew what
   * was handed over; a first sign-in from their address is the one to look at.
   */
  private async handover(creatorId: string, memberId: string, meta: RequestMeta): Promise<{ handed_over_by: string; handed_over_by_username?: string; from_creator_address: boolean }> {
    const [creator, created, signIns] = await Promise.all([
      staffStore.byId(this.db, creatorId),
      addressesOf(this.db, 'staff', memberId, 'staff.create', 1),
      addressesOf(this.db, 'staff', creatorId, 'staff.login', CREATOR_SIGN_INS),
    ]);
    return {
      handed_over_by: creatorId, ...(creator ? { handed_over_by_username: creator.username } : {}),
      from_creator_address: meta.ip !== undefined && [...created, ...signIns].includes(meta.ip),
    };
  }

  /** The current password, under the member's sign-in lock: a session left open does not let anyone guess it. */
  private async checkCurrentPassword(actor: StaffActor, row: StaffRow, password: string, meta: RequestMeta): Promise<void> {
    const subject = StaffLock.member(actor.id);
    const failures = await this.lock.take(subject, actor.id, ACTION, meta);
    if (await verifyPassword(row.password_hash, password)) {
      await this.lock.release(subject);
      return;
    }
    await this.lock.failed(failures, actor.id, ACTION, { step: 'current_password', reason: 'password_incorrect' }, meta);
    throw new AppError('password_incorrect');
  }

  /**
   * Audits a refused act of a member whose credentials are due and returns the refusal:
   * every console page and API route but this service's, the session probe and sign-out.
   */
  async refuseUntilReplaced(actor: StaffActor, request: { method: string; route: string }, meta: RequestMeta): Promise<AppError> {
    await this.audit.append({
      actor: { kind: 'staff', id: actor.id }, action: 'staff.credentials.required', target: { kind: 'staff', id: actor.id }, result: 'denied',
      details: { reason: 'credentials_change_required', ...request }, meta,
    });
    return new AppError('credentials_change_required');
  }
}
