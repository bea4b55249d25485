import { randomUUID } from 'node:crypto';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { FieldCipher } from '../crypto/field-cipher.js';
import { AppError } from '../errors.js';
import { hashPassword } from '../identity/password-hash.js';
import { createTotpSecret, otpauthUri } from '../identity/totp.js';
import type { Db } from '../store/db.js';
import { initialPassword } from './initial-password.js';
import { authorize, refuse, STAFF_ROLES, type StaffActor } from './roles.js';
import { checkSeparation, rolesCompatible } from './separation-of-duties.js';
import { STAFF_TOTP_ISSUER, type StaffCredentials as CredentialPolicy } from './staff-credentials.js';
import type { StaffLock } from './staff-lock.js';
import { isUniqueViolation, staffStore, type ApprovalRow, type StaffRow } from './staff-store.js';
import type { Approvals, ApprovalView } from './approvals.js';
import type { Transaction } from 'kysely';
import type { Database, StaffRole } from '../store/schema.js';

const USERNAME = /^[a-z][a-z0-9._-]{2,31}$/;

/** What a new staff member is handed, once: nothing of it is stored in a readable form. */
export interface StaffCredentials {
  id: string;
  username: string;
  roles: StaffRole[];
  password: string;
  totpSecret: string;
  otpauthUri: string;
  /** The holder must replace both at first sign-in: true for everyone but the very first admin. */
  mustChange: boolean;
}

export interface StaffSummary {
  id: string;
  username: string;
  display_name: string;
  status: StaffRow['status'];
  roles: StaffRole[];
  created_at: string;
  /** Locked by failed sign-ins (an admin may unlock). */
  locked: boolean;
  /** Whether the member holds credentials of their own, or what they must still replace. */
  credentials: ReturnType<CredentialPolicy['state']>;
  last_login_at: string | null;
}

/** Who creates staff accounts on the first run: the operator at the command line. */
export type StaffCreator = { kind: 'system' } | { kind: 'staff'; actor: StaffActor };

export function normaliseUsername(value: string): string {
  return value.normalize('NFKC').trim().toLowerCase();
}

/**
 * Staff accounts, apart from citizens': a password and an authenticator secret from the
 * start (there is no staff account without TOTP), and the roles granted, one by one, of
 * one of the three separated powers (separation-of-duties.ts). The admin role is never
 * granted directly from the console: that takes a second admin's approval (see
 * approvals.ts); only the command line is direct. Whoever creates a member sees what is
 * handed over, so the member replaces both at first sign-in (staff-credentials.ts), except
 * the very first admin, created at the command line by the operator who will hold it.
 */
export class StaffAccounts {
  constructor(
    private readonly db: Db,
    private readonly cipher: FieldCipher,
    private readonly audit: AuditLog,
    private readonly credentials: CredentialPolicy,
    private readonly lock: StaffLock,
  ) {}

  row(id: string): Promise<StaffRow | undefined> {
    return staffStore.byId(this.db, id);
  }

  byUsername(username: string): Promise<StaffRow | undefined> {
    return staffStore.byUsername(this.db, normaliseUsername(username));
  }

  roles(id: string): Promise<StaffRole[]> {
    return staffStore.roles(this.db, id);
  }

  openTotpSecret(row: StaffRow): string {
    return this.cipher.decrypt(row.totp_secret_enc, `staff-totp:${row.id}`);
  }

  useTotpStep(id: string, step: number): Promise<boolean> {
    return staffStore.useTotpStep(this.db, id, step);
  }

  updatePasswordHash(id: string, hash: string): Promise<void> {
    return staffStore.updatePasswordHash(this.db, id, hash);
  }

  /** Remembers a completed sign-in, for the staff list. */
  signedIn(id: string): Promise<void> {
    return staffStore.update(this.db, id, { last_login_at: new Date() });
  }

  async summary(row: StaffRow, roles: StaffRole[]): Promise<StaffSummary> {
    return {
      id: row.id, username: row.username, display_name: row.display_name, status: row.status, roles, created_at: new Date(row.created_at).toISOString(),
      locked: await this.lock.locked(row.id), credentials: this.credentials.state(row),
      last_login_at: row.last_login_at ? new Date(row.last_login_at).toISOString() : null,
    };
  }

  async list(actor: StaffActor, meta: RequestMeta): Promise<StaffSummary[]> {
    await authorize(this.audit, actor, ['admin'], 'staff.list', meta);
    const rows = await staffStore.list(this.db);
    return Promise.all(rows.map((row) => this.summary(row, row.roles)));
  }

  /**
   * Creates a staff account with the given roles and returns its credentials, once. From
   * the console only an admin may, and never with the admin role: that is requested
   * separately and needs a second admin.
   */
  async create(input: { username: string; displayName?: string; roles: StaffRole[] }, by: StaffCreator, meta: RequestMeta): Promise<StaffCredentials> {
    const username = normaliseUsername(input.username);
    const roles = [...new Set(input.roles)].sort();
    if (by.kind === 'staff') {
      await authorize(this.audit, by.actor, ['admin'], 'staff.create', meta);
      if (roles.includes('admin')) return refuse(this.audit, by.actor, 'staff.create', new AppError('admin_needs_approval'), meta);
    }
    const refused = (error: AppError) => this.refuseCreation(by, error, { username, roles }, meta);
    if (!USERNAME.test(username)) return refused(new AppError('invalid_input', { field: 'username' }));
    if (roles.length === 0 || roles.some((role) => !STAFF_ROLES.includes(role))) return refused(new AppError('invalid_input', { field: 'roles' }));
    if (!rolesCompatible(roles)) return refused(new AppError('roles_incompatible', { field: 'roles' }));
    const displayName = (input.displayName ?? username).trim().slice(0, 50) || username;

    const id = randomUUID();
    const password = initialPassword();
    const totpSecret = createTotpSecret();
    const creatorId = by.kind === 'staff' ? by.actor.id : null;
    const passwordHash = await hashPassword(password);
    let mustChange = true;
    try {
      await this.db.transaction().execute(async (trx) => {
        // The operator creating the very first admin is its holder: nobody else has seen it.
        mustChange = !(by.kind === 'system' && roles.includes('admin') && !await staffStore.anyWithRole(trx, 'admin'));
        await staffStore.insert(trx, {
          id, username, display_name: displayName, status: 'active',
          password_hash: passwordHash,
          totp_secret_enc: this.cipher.encrypt(totpSecret, `staff-totp:${id}`),
          created_by: creatorId,
          password_must_change: mustChange,
          totp_must_enrol: mustChange,
        });
        for (const role of roles) await staffStore.grant(trx, id, role, creatorId);
        await this.audit.append({
          actor: by.kind === 'staff' ? { kind: 'staff', id: by.actor.id } : { kind: 'system' },
          action: 'staff.create', target: { kind: 'staff', id }, result: 'success',
          details: { username, roles, via: by.kind === 'staff' ? 'console' : 'cli', first_sign_in_change: mustChange }, meta,
        }, trx);
      });
    } catch (error) {
      if (isUniqueViolation(error, 'staff_accounts_username_key')) return refused(new AppError('username_taken', {}, { cause: error }));
      throw error;
    }
    return { id, username, roles, password, totpSecret, otpauthUri: otpauthUri({ secret: totpSecret, accountLabel: username, issuer: STAFF_TOTP_ISSUER }), mustChange };
  }

  /** A refused creation, audited: as the admin's in the console, as the system's at the command line. */
  private async refuseCreation(by: StaffCreator, error: AppError, attempt: { username: string; roles: string[] }, meta: RequestMeta): Promise<never> {
    if (by.kind === 'staff') return refuse(this.audit, by.actor, 'staff.create', error, meta);
    await this.audit.append({
      actor: { kind: 'system' }, action: 'staff.create', result: 'denied',
      details: { reason: error.code, username: attempt.username.slice(0, 64), roles: attempt.roles.slice(0, 8), via: 'cli' }, meta,
    });
    throw error;
  }

  /**
   * Asks a second admin to grant the admin role (the two-person rule). System
   * administration is a power of its own: a member holding another role is refused.
   */
  async requestAdmin(actor: StaffActor, staffId: string, reason: string, approvals: Approvals, meta: RequestMeta): Promise<ApprovalView> {
    const action = 'approval.request.staff.grant_admin';
    const target = { kind: 'staff', id: staffId };
    await authorize(this.audit, actor, ['admin'], action, meta);
    if (!await this.row(staffId)) return refuse(this.audit, actor, action, new AppError('not_found'), meta, target);
    const roles = await this.roles(staffId);
    if (roles.includes('admin')) return refuse(this.audit, actor, action, new AppError('staff_role_unchanged'), meta, target);
    if (!rolesCompatible([...roles, 'admin'])) return refuse(this.audit, actor, action, new AppError('roles_incompatible'), meta, target);
    return approvals.request('staff.grant_admin', staffId, reason, actor, meta);
  }

  /**
   * The approved grant, inside the deciding transaction, the member locked: a role granted
   * since the request is judged here again, so no race ends in two powers.
   */
  async grantApprovedAdmin(approval: ApprovalRow, decider: StaffActor, trx: Transaction<Database>, meta: RequestMeta): Promise<void> {
    if (!await staffStore.forUpdate(trx, approval.target_id)) throw new AppError('not_found');
    checkSeparation([...await staffStore.roles(trx, approval.target_id), 'admin']);
    await staffStore.grant(trx, approval.target_id, 'admin', decider.id);
    await this.audit.append({
      actor: { kind: 'staff', id: decider.id }, action: 'staff.role_grant', target: { kind: 'staff', id: approval.target_id }, result: 'success',
      details: { role: 'admin', approval: approval.id, requested_by: approval.requested_by }, meta,
    }, trx);
  }
}
