import { AppError } from '../errors.js';
import type { StaffRole } from '../store/schema.js';

/**
 * Three separated powers (三权分立, GB/T 22239-2019 8.1.4): system administration (admins:
 * staff accounts and clients), security operation (agents and supervisors: the work on
 * citizens' and enterprises' accounts) and audit (auditors: the record of both). A person
 * holds roles of one power only, so that nobody administers the accounts whose acts they
 * perform, or reads the record of acts they performed or enabled.
 */
export const POWERS: Readonly<Record<'system' | 'security' | 'audit', readonly StaffRole[]>> = {
  system: ['admin'],
  security: ['agent', 'supervisor'],
  audit: ['auditor'],
};

/**
 * Within security operation, agent and supervisor are refused together too. The model does
 * not need one person to hold both: supervisors already search and read accounts, and
 * nothing an agent does is needed to decide a request. And it would undo the maker-checker:
 * the supervisor is the checker of agents' acts, and a checker who is also a maker ends up
 * deciding the requests of the colleagues who decide theirs (two such people approve each
 * other's unbans), or bans alone what only a second person may lift. The check that nobody
 * decides their own request stays in approvals.ts for a member whose role has changed.
 */
const NEVER_TOGETHER: ReadonlyArray<readonly [StaffRole, StaffRole]> = [['agent', 'supervisor']];

/** The power a role belongs to. */
export function powerOf(role: StaffRole): keyof typeof POWERS {
  return (Object.keys(POWERS) as Array<keyof typeof POWERS>).find((power) => POWERS[power].includes(role))!;
}

/** Whether a set of roles may be held by one person. */
export function rolesCompatible(roles: readonly StaffRole[]): boolean {
  if (new Set(roles.map(powerOf)).size > 1) return false;
  return !NEVER_TOGETHER.some(([a, b]) => roles.includes(a) && roles.includes(b));
}

/**
 * Throws `roles_incompatible` unless one person may hold `roles`; `field` names the form
 * field that asked for them, so a page shows the refusal beside it.
 */
export function checkSeparation(roles: readonly StaffRole[], field?: string): void {
  if (!rolesCompatible(roles)) throw new AppError('roles_incompatible', field ? { field } : {});
}
