import type { Transaction } from 'kysely';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { FieldCipher } from '../crypto/field-cipher.js';
import { AppError } from '../errors.js';
import { createTotpSecret, otpauthUri } from '../identity/totp.js';
import type { Db } from '../store/db.js';
import type { Database, StaffRole } from '../store/schema.js';
import type { Approvals, ApprovalView } from './approvals.js';
import { auditRefusals, authorize, refuse, type StaffActor } from './roles.js';
import { checkSeparation } from './separation-of-duties.js';
import type { StaffAccounts, StaffSummary } from './staff-accounts.js';
import { STAFF_TOTP_ISSUER } from './staff-credentials.js';
import { StaffLock } from './staff-lock.js';
import { staffStore, type ApprovalRow, type StaffRow } from './staff-store.js';

/** A reset authenticator's secret, shown once to the admin who hands it over in person. */
export interface IssuedAuthenticator {
  staff: StaffSummary;
  secret: string;
  otpauth_uri: string;
}

type Work<T> = (row: StaffRow, trx: Transaction<Database>, reason: string) => Promise<T>;

function reasonOf(text: string | undefined): string {
  const reason = (text ?? '').trim();
  if (reason.length < 2 || reason.length > 500) throw new AppError('invalid_input', { field: 'reason' });
  return reason;
}

/**
 * What admins do to a staff member after creating them: disable and re-enable, grant and
 * withdraw a role, reset the authenticator, unlock. Each act names a reason, is judged
 * with the member's row locked (so twenty at once end as if one after another), and is
 * audited in its own transaction; each refusal is audited after the rollback.
 *
 * Which acts need a second admin (maker-checker): those that give power back. Re-enabling
 * a disabled member goes through approvals.ts (`staff.enable`), as granting the admin role
 * does: one admin alone must not be able to bring back an account that was shut for cause,
 * which is exactly what a rogue or impersonated admin would want. The acts that take power
 * away (disabling, withdrawing a role, resetting an authenticator) take effect at once and
 * end the member's console sessions at once: waiting for a second admin would protect the
 * attacker, which is why a citizen's ban is immediate and only the unban is checked.
 * Granting a role other than admin is what creating a member with it already is, which an
 * admin does alone, and the separation of powers bounds it. An authenticator reset gives
 * the admin a secret but never the password, which only the holder knows, and the holder
 * replaces the secret at the next sign-in. Unlocking only lets the member try their own
 * credentials again before the thirty minutes are over. Nobody does any of this to themselves.
 */
export class StaffLifecycle {
  constructor(
    private readonly db: Db,
    private readonly staff: StaffAccounts,
    private readonly approvals: Approvals,
    private readonly lock: StaffLock,
    private readonly cipher: FieldCipher,
    private readonly audit: AuditLog,
  ) {
    approvals.onApproved('staff.enable', (approval, decider, trx, meta) => this.enableApproved(approval, decider, trx, meta));
  }

  /** The common shape of an admin's act on another member: refusals audited, the act and its record one transaction. */
  private async act<T>(actor: StaffActor, staffId: string, action: string, reasonText: string | undefined, meta: RequestMeta, work: Work<T>): Promise<T> {
    const target = { kind: 'staff', id: staffId };
    await authorize(this.audit, actor, ['admin'], action, meta, target);
    if (staffId === actor.id) return refuse(this.audit, actor, action, new AppError('staff_self_administration'), meta, target);
    // A refusal thrown inside the transaction rolls it back, then is audited.
    return auditRefusals(this.audit, actor, action, meta, () => {
      const reason = reasonOf(reasonText);
      return this.db.transaction().execute(async (trx) => {
        const row = await staffStore.forUpdate(trx, staffId);
        if (!row) throw new AppError('not_found');
        return work(row, trx, reason);
      });
    }, target);
  }

  private record(actor: StaffActor, action: string, row: StaffRow, details: Record<string, unknown>, trx: Transaction<Database>, meta: RequestMeta) {
    return this.audit.append({ actor: { kind: 'staff', id: actor.id }, action, target: { kind: 'staff', id: row.id }, result: 'success', details: { username: row.username, ...details }, meta }, trx);
  }

  private async view(staffId: string): Promise<StaffSummary> {
    const row = (await this.staff.row(staffId))!;
    return this.staff.summary(row, await this.staff.roles(staffId));
  }

  /** Disabled at once: no sign-in, and every console session of the member ends. */
  async disable(actor: StaffActor, staffId: string, reason: string, meta: RequestMeta): Promise<StaffSummary> {
    await this.act(actor, staffId, 'staff.disable', reason, meta, async (row, trx, why) => {
      if (row.status !== 'active') throw new AppError('staff_not_active');
      await staffStore.update(trx, row.id, { status: 'disabled' });
      await staffStore.nextSessionEpoch(trx, row.id);
      await this.record(actor, 'staff.disable', row, { reason: why }, trx, meta);
    });
    return this.view(staffId);
  }

  /** Asks a second admin to re-enable a disabled member. */
  async requestEnable(actor: StaffActor, staffId: string, reason: string, meta: RequestMeta): Promise<ApprovalView> {
    const action = 'approval.request.staff.enable';
    const target = { kind: 'staff', id: staffId };
    await authorize(this.audit, actor, ['admin'], action, meta, target);
    if (staffId === actor.id) return refuse(this.audit, actor, action, new AppError('staff_self_administration'), meta, target);
    const row = await this.staff.row(staffId);
    if (!row) return refuse(this.audit, actor, action, new AppError('not_found'), meta, target);
    if (row.status !== 'disabled') return refuse(this.audit, actor, action, new AppError('staff_not_disabled'), meta, target);
    return this.approvals.request('staff.enable', staffId, reason, actor, meta);
  }

  /** The approved re-enabling, inside the deciding transaction; a member enabled meanwhile is refused. */
  private async enableApproved(approval: ApprovalRow, decider: StaffActor, trx: Transaction<Database>, meta: RequestMeta): Promise<void> {
    const row = await staffStore.forUpdate(trx, approval.target_id);
    if (!row || row.status !== 'disabled') throw new AppError('staff_not_disabled');
    await staffStore.update(trx, row.id, { status: 'active' });
    await this.record(decider, 'staff.enable', row, { approval: approval.id, requested_by: approval.requested_by, reason: approval.reason }, trx, meta);
  }

  /** Grants a role other than admin (that one needs a second admin), within the member's power. */
  async grantRole(actor: StaffActor, staffId: string, role: StaffRole, reason: string, meta: RequestMeta): Promise<StaffSummary> {
    if (role === 'admin') {
      await authorize(this.audit, actor, ['admin'], 'staff.role_grant', meta, { kind: 'staff', id: staffId });
      return refuse(this.audit, actor, 'staff.role_grant', new AppError('admin_needs_approval'), meta, { kind: 'staff', id: staffId });
    }
    await this.act(actor, staffId, 'staff.role_grant', reason, meta, async (row, trx, why) => {
      const roles = await staffStore.roles(trx, row.id);
      if (roles.includes(role)) throw new AppError('staff_role_unchanged');
      checkSeparation([...roles, role], 'role');
      await staffStore.grant(trx, row.id, role, actor.id);
      await this.record(actor, 'staff.role_grant', row, { role, reason: why }, trx, meta);
    });
    return this.view(staffId);
  }

  /** Withdraws a role at once; the member's console sessions end, so no page keeps what it showed. */
  async withdrawRole(actor: StaffActor, staffId: string, role: StaffRole, reason: string, meta: RequestMeta): Promise<StaffSummary> {
    await this.act(actor, staffId, 'staff.role_withdraw', reason, meta, async (row, trx, why) => {
      if (!(await staffStore.roles(trx, row.id)).includes(role)) throw new AppError('staff_role_unchanged');
      await staffStore.withdraw(trx, row.id, role);
      await staffStore.nextSessionEpoch(trx, row.id);
      await this.record(actor, 'staff.role_withdraw', row, { role, reason: why }, trx, meta);
    });
    return this.view(staffId);
  }

  /**
   * A new authenticator secret, to be handed over in person; the old one stops working and
   * every console session ends at once. At the next sign-in (own password, this secret) the
   * member must enrol one of their own before anything else.
   */
  async resetAuthenticator(actor: StaffActor, staffId: string, reason: string, meta: RequestMeta): Promise<IssuedAuthenticator> {
    const secret = createTotpSecret();
    const row = await this.act(actor, staffId, 'staff.authenticator_reset', reason, meta, async (found, trx, why) => {
      await staffStore.update(trx, found.id, { totp_secret_enc: this.cipher.encrypt(secret, `staff-totp:${found.id}`), totp_last_step: null, totp_must_enrol: true });
      await staffStore.nextSessionEpoch(trx, found.id);
      await this.record(actor, 'staff.authenticator_reset', found, { reason: why }, trx, meta);
      return found;
    });
    return { staff: await this.view(staffId), secret, otpauth_uri: otpauthUri({ secret, accountLabel: row.username, issuer: STAFF_TOTP_ISSUER }) };
  }

  /** Lifts a lock before its thirty minutes are over; the record is written before the lock goes. */
  async unlock(actor: StaffActor, staffId: string, reason: string, meta: RequestMeta): Promise<StaffSummary> {
    await this.act(actor, staffId, 'staff.unlock', reason, meta, async (row, trx, why) => {
      if (!await this.lock.locked(row.id)) throw new AppError('staff_not_locked');
      await this.record(actor, 'staff.unlock', row, { reason: why }, trx, meta);
    });
    await this.lock.clear(StaffLock.member(staffId));
    return this.view(staffId);
  }
}
