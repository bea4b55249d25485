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

/** A signed-in staff member as every staff service sees them. */
export interface StaffActor {
  id: string;
  username: string;
  roles: StaffRole[];
  /** Names the console session (never its cookie value): what a search remembers is bound to it. */
  sessionHandle: string;
}

/**
 * Refuses, and audits the refusal, unless the actor holds one of `roles`. Every staff
 * service calls this first: the console's menus are a convenience, this is the rule.
 * A refusal of an act on a known object names it, so the object's audit trail shows it.
 */
export async function authorize(audit: AuditLog, actor: StaffActor, roles: readonly StaffRole[], action: string, meta: RequestMeta, target?: { kind: string; id: string }): Promise<void> {
  if (actor.roles.some((role) => roles.includes(role))) return;
  await audit.append({
    actor: { kind: 'staff', id: actor.id }, action, result: 'denied', ...(target ? { target } : {}),
    details: { reason: 'missing_role', needs: [...roles], holds: actor.roles }, meta,
  });
  throw new AppError('forbidden');
}

/** Audits a refused staff act with its reason, then throws the error that says why. */
export async function refuse(audit: AuditLog, actor: StaffActor, action: string, error: AppError, meta: RequestMeta, target?: { kind: string; id: string }): Promise<never> {
  await audit.append({
    actor: { kind: 'staff', id: actor.id }, action, result: 'denied', ...(target ? { target } : {}),
    details: { reason: error.code }, meta,
  });
  throw error;
}
