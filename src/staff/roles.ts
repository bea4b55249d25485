import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import type { StaffRole } from '../store/schema.js';

export type { StaffRole };

/**
 * agent: counter and helpdesk (registers, resets, bans, asks for unbans); supervisor: the
 * department head who decides requests; auditor: reads the audit log and nothing else;
 * admin: staff accounts (and clients). Nobody has a role that was not granted to them.
 */
export const STAFF_ROLES: readonly StaffRole[] = ['agent', 'supervisor', 'auditor', 'admin'];

/** What a member must replace before any act (staff-credentials.ts); absent when nothing is due. */
export interface CredentialsDue {
  /** A handed-over password (first sign-in) or an expired one. */
  password: boolean;
  /** A handed-over authenticator secret (first sign-in, or after a reset). */
  authenticator: boolean;
  /** The password is due because it is older than STAFF_PASSWORD_MAX_AGE_DAYS. */
  passwordExpired: boolean;
}

/** A signed-in staff member as every staff service sees them. */
export interface StaffActor {
  id: string;
  username: string;
  /** The name the member is known by (a hand-over sheet shows it); absent when none was given. */
  displayName?: string;
  roles: StaffRole[];
  /** Names the console session (never its cookie value): what a search remembers is bound to it. */
  sessionHandle: string;
  /** Set while the member still holds handed-over or expired credentials: no act until replaced. */
  due?: CredentialsDue;
}

/**
 * Refuses, and audits the refusal, unless the actor holds one of `roles` and their own
 * credentials (a member still holding what an admin handed over could be that admin).
 * Every staff service calls this first: the console's menus are a convenience, this is
 * the rule. A refusal of an act on a known object names it, so the object's audit trail shows it.
 */
export async function authorize(audit: AuditLog, actor: StaffActor, roles: readonly StaffRole[], action: string, meta: RequestMeta, target?: { kind: string; id: string }): Promise<void> {
  if (actor.due) return refuse(audit, actor, action, new AppError('credentials_change_required'), meta, target);
  if (actor.roles.some((role) => roles.includes(role))) return;
  await audit.append({
    actor: { kind: 'staff', id: actor.id }, action, result: 'denied', ...(target ? { target } : {}),
    details: { reason: 'missing_role', needs: [...roles], holds: actor.roles }, meta,
  });
  throw new AppError('forbidden');
}

/** Refusals refuse() has written: auditRefusals() does not write them twice. */
const audited = new WeakSet<AppError>();

/** Audits a refused staff act with its reason, then throws the error that says why. */
export async function refuse(audit: AuditLog, actor: StaffActor, action: string, error: AppError, meta: RequestMeta, target?: { kind: string; id: string }): Promise<never> {
  await audit.append({
    actor: { kind: 'staff', id: actor.id }, action, result: 'denied', ...(target ? { target } : {}),
    details: { reason: error.code, ...(typeof error.details.field === 'string' ? { field: error.details.field } : {}) }, meta,
  });
  audited.add(error);
  throw error;
}

/**
 * Runs a staff act; whatever refusal it ends in (an AppError, not a fault of ours or of a
 * store) is audited with its reason, unless it already was, and thrown on. For acts whose
 * refusals come from many places: input, registries, flows, codes, constraints.
 */
export async function auditRefusals<T>(audit: AuditLog, actor: StaffActor, action: string, meta: RequestMeta, work: () => Promise<T>, target?: { kind: string; id: string }): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError && error.status < 500 && !audited.has(error)) return refuse(audit, actor, action, error, meta, target);
    throw error;
  }
}
