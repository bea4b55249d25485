import { randomUUID } from 'node:crypto';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { FieldCipher } from '../crypto/field-cipher.js';
import { AppError } from '../errors.js';
import { hashPassword } from '../identity/password-hash.js';
import { createTotpSecret, otpauthUri } from '../identity/totp.js';
import type { Db } from '../store/db.js';
import { initialPassword } from './initial-password.js';
import { authorize, refuse, STAFF_ROLES, type StaffActor } from './roles.js';
import { isUniqueViolation, staffStore, type ApprovalRow, type StaffRow } from './staff-store.js';
import type { Approvals, ApprovalView } from './approvals.js';
import type { Transaction } from 'kysely';
import type { Database, StaffRole } from '../store/schema.js';

const USERNAME = /^[a-z][a-z0-9._-]{2,31}$/;
const TOTP_ISSUER = '统一身份认证平台·管理';

/** What a new staff member is handed, once: nothing of it is stored in a readable form. */
export interface StaffCredentials {
  id: string;
  username: string;
  roles: StaffRole[];
  password: string;
  totpSecret: string;
  otpauthUri: string;
}

export interface StaffSummary {
  id: string;
  username: string;
  display_name: string;
  status: StaffRow['status'];
  roles: StaffRole[];
  created_at: string;
}

/** Who creates staff accounts on the first run: the operator at the command line. */
export type StaffCreator = { kind: 'system' } | { kind: 'staff'; actor: StaffActor };

export function normaliseUsername(value: string): string {
  return value.normalize('NFKC').trim().toLowerCase();
}

/**
 * Staff accounts, apart from citizens': a password and an authenticator secret from the
 * start (there is no staff account without TOTP), and the roles granted, one by one.
 * The admin role is never granted directly from the console: that takes a second
 * admin's approval (see approvals.ts); only the command line's first admin is direct.
 */
export class StaffAccounts {
  constructor(private readonly db: Db, private readonly cipher: FieldCipher, private readonly audit: AuditLog) {}

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

  async list(actor: StaffActor, meta: RequestMeta): Promise<StaffSummary[]> {
    await authorize(this.audit, actor, ['admin'], 'staff.list', meta);
    const rows = await staffStore.list(this.db);
    return rows.map((row) => ({ id: row.id, username: row.username, display_name: row.display_name, status: row.status, roles: row.roles, created_at: new Date(row.created_at).toISOString() }));
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
    if (!USERNAME.test(username)) throw new AppError('invalid_input', { field: 'username' });
    if (roles.length === 0 || roles.some((role) => !STAFF_ROLES.includes(role))) throw new AppError('invalid_input', { field: 'roles' });
    const displayName = (input.displayName ?? username).trim().slice(0, 50) || username;

    const id = randomUUID();
    const password = initialPassword();
    const totpSecret = createTotpSecret();
    const creatorId = by.kind === 'staff' ? by.actor.id : null;
    try {
      await this.db.transaction().execute(async (trx) => {
        await staffStore.insert(trx, {
          id, username, display_name: displayName, status: 'active',
          password_hash: await hashPassword(password),
          totp_secret_enc: this.cipher.encrypt(totpSecret, `staff-totp:${id}`),
          created_by: creatorId,
        });
        for (const role of roles) await staffStore.grant(trx, id, role, creatorId);
        await this.audit.append({
          actor: by.kind === 'staff' ? { kind: 'staff', id: by.actor.id } : { kind: 'system' },
          action: 'staff.create', target: { kind: 'staff', id }, result: 'success',
          details: { username, roles, via: by.kind === 'staff' ? 'console' : 'cli' }, meta,
        }, trx);
      });
    } catch (error) {
      if (isUniqueViolation(error, 'staff_accounts_username_key')) throw new AppError('username_taken', {}, { cause: error });
      throw error;
    }
    return { id, username, roles, password, totpSecret, otpauthUri: otpauthUri({ secret: totpSecret, accountLabel: username, issuer: TOTP_ISSUER }) };
  }

  /** Asks a second admin to grant the admin role (the two-person rule). */
  async requestAdmin(actor: StaffActor, staffId: string, reason: string, approvals: Approvals, meta: RequestMeta): Promise<ApprovalView> {
    await authorize(this.audit, actor, ['admin'], 'approval.request.staff.grant_admin', meta);
    const row = await this.row(staffId);
    if (!row) throw new AppError('not_found');
    if ((await this.roles(staffId)).includes('admin')) return refuse(this.audit, actor, 'approval.request.staff.grant_admin', new AppError('invalid_input', { field: 'role' }), meta, { kind: 'staff', id: staffId });
    return approvals.request('staff.grant_admin', staffId, reason, actor, meta);
  }

  /** The approved grant, inside the deciding transaction. */
  async grantApprovedAdmin(approval: ApprovalRow, decider: StaffActor, trx: Transaction<Database>, meta: RequestMeta): Promise<void> {
    await staffStore.grant(trx, approval.target_id, 'admin', decider.id);
    await this.audit.append({
      actor: { kind: 'staff', id: decider.id }, action: 'staff.role_grant', target: { kind: 'staff', id: approval.target_id }, result: 'success',
      details: { role: 'admin', approval: approval.id, requested_by: approval.requested_by }, meta,
    }, trx);
  }
}
