import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { Accounts } from '../identity/accounts.js';
import type { AccessPolicy } from './access-policy.js';

/** Who acts: the person themself, or (after the identity choice) an enterprise they represent. */
export type EntityType = 'natural' | 'legal';

const ACR_PREFIX = 'urn:civic-idp:loa:';

/** `urn:civic-idp:loa:3` → 3; anything else (another scheme's value) → undefined. */
export function levelOfAcr(acr: unknown): number | undefined {
  if (typeof acr !== 'string' || !acr.startsWith(ACR_PREFIX)) return undefined;
  const level = Number(acr.slice(ACR_PREFIX.length));
  return Number.isInteger(level) && level >= 1 && level <= 3 ? level : undefined;
}

/**
 * The sign-in methods the login page itself offers. A policy may name others (qr, fed,
 * wechat): they satisfy it when the session was made with them, and a session lacking
 * them can only be refused here, not stepped up.
 */
export const INTERACTIVE_METHODS: ReadonlySet<string> = new Set(['pwd', 'sms']);

/** TOTP is a second step after either first factor; a policy names it as `otp` or `mfa`. */
const SECOND_FACTOR = new Set(['otp', 'mfa']);

export interface AccountStanding {
  id: string;
  assuranceLevel: number;
  totpEnabled: boolean;
}

/** How the current SSO session was proven. */
export interface SessionProof {
  acr?: string;
  amr?: string[];
}

export type RefusalReason = 'entity_type' | 'account_excluded' | 'assurance_level' | 'login_method';

export type Verdict =
  | { outcome: 'allowed' }
  /** Nothing the person can do online changes it: a page that says why, never a token. */
  | { outcome: 'refused'; reason: RefusalReason; level: number; methods: string[] }
  /** The account qualifies but this session is weaker: sign in again with one of `methods`. */
  | { outcome: 'step_up'; reason: 'assurance_level' | 'login_method'; level: number; methods: string[] };

/** The level a request needs: the policy's minimum, raised by the lowest of the requested acr values we know. */
export function requiredLevel(policy: Pick<AccessPolicy, 'min_assurance_level'>, requestedAcrs: readonly string[] = []): number {
  const requested = requestedAcrs.map(levelOfAcr).filter((level): level is number => level !== undefined);
  return requested.length ? Math.max(policy.min_assurance_level, Math.min(...requested)) : policy.min_assurance_level;
}

/** Whether a natural or a legal person may use the client; the identity choice asks this with 'legal'. */
export function entityTypeAllowed(policy: Pick<AccessPolicy, 'entity_types'>, entityType: EntityType): boolean {
  return policy.entity_types.includes(entityType);
}

export function accountListed(policy: Pick<AccessPolicy, 'allow_accounts' | 'deny_accounts'>, accountId: string): boolean {
  if (policy.deny_accounts.includes(accountId)) return false;
  return policy.allow_accounts === undefined || policy.allow_accounts.includes(accountId);
}

/**
 * Decides whether an account, acting as `entityType`, may use a client whose policy is
 * `policy`, with the session it has. Refusals come first (no login could help), then
 * what a new login in this session could fix.
 */
export function judgeAccess(input: {
  policy: AccessPolicy;
  entityType: EntityType;
  account: AccountStanding;
  session: SessionProof;
  requestedAcrs?: readonly string[];
}): Verdict {
  const { policy, account, session } = input;
  const level = requiredLevel(policy, input.requestedAcrs);
  const methods = policy.login_methods ?? [];
  const refuse = (reason: RefusalReason): Verdict => ({ outcome: 'refused', reason, level, methods });

  if (!entityTypeAllowed(policy, input.entityType)) return refuse('entity_type');
  if (!accountListed(policy, account.id)) return refuse('account_excluded');
  if (account.assuranceLevel < level) return refuse('assurance_level');

  // What a new login on our page could prove: the policy's methods that the page offers
  // (TOTP only for an account that has it), or any of the page's methods when the policy names none.
  const offered = methods.length === 0 ? [...INTERACTIVE_METHODS]
    : methods.filter((method) => INTERACTIVE_METHODS.has(method) || (SECOND_FACTOR.has(method) && account.totpEnabled));
  const amr = session.amr ?? [];
  if (methods.length > 0 && !methods.some((method) => amr.includes(method))) {
    if (offered.length === 0) return refuse('login_method');
    return { outcome: 'step_up', reason: 'login_method', level, methods: offered };
  }
  // The session's level never counts for more than the account's present one.
  const sessionLevel = Math.min(levelOfAcr(session.acr) ?? 0, account.assuranceLevel);
  if (sessionLevel < level) {
    if (offered.length === 0) return refuse('login_method');
    return { outcome: 'step_up', reason: 'assurance_level', level, methods: offered };
  }
  return { outcome: 'allowed' };
}

/** Where a client's current policy comes from (a change made on any instance applies to the next authorization). */
export interface PolicySource {
  currentPolicy(clientId: string): Promise<AccessPolicy | undefined>;
}

/**
 * The access policy applied to a real account and client: what the provider's interaction
 * policy asks at every authorization, and what the identity choice asks before acting
 * for an enterprise.
 */
export class ClientAccess {
  constructor(private readonly policies: PolicySource, private readonly accounts: Accounts, private readonly audit: AuditLog) {}

  async standing(accountId: string): Promise<AccountStanding | undefined> {
    const row = await this.accounts.row(accountId);
    if (!row) return undefined;
    return { id: row.id, assuranceLevel: row.assurance_level, totpEnabled: row.totp_enabled_at !== null };
  }

  /** Undefined when the client or the account does not exist: the provider refuses those on its own. */
  async judge(input: { clientId: string; accountId: string; entityType: EntityType; session: SessionProof; requestedAcrs?: readonly string[] }): Promise<Verdict | undefined> {
    const [policy, account] = await Promise.all([this.policies.currentPolicy(input.clientId), this.standing(input.accountId)]);
    if (!policy || !account) return undefined;
    return judgeAccess({ policy, account, entityType: input.entityType, session: input.session, requestedAcrs: input.requestedAcrs });
  }

  async recordRefusal(input: { clientId: string; accountId: string; entityType: EntityType; verdict: Verdict & { outcome: 'refused' } }, meta: RequestMeta): Promise<void> {
    await this.audit.append({
      actor: { kind: 'citizen', id: input.accountId },
      action: 'authorization.refused',
      target: { kind: 'account', id: input.accountId },
      result: 'denied',
      details: { client_id: input.clientId, reason: input.verdict.reason, entity_type: input.entityType, required_level: input.verdict.level },
      meta,
    });
  }
}

/** The stronger of two acr values (ours are ordered by level); the new one when they cannot be compared. */
export function strongerAcr(previous: string | undefined, next: string | undefined): string | undefined {
  const before = levelOfAcr(previous);
  const after = levelOfAcr(next);
  if (before !== undefined && (after === undefined || before > after)) return previous;
  return next;
}
