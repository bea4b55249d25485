import { z } from 'zod';
import { STAFF_ROLES } from '../../staff/roles.js';
import { BAN_REASONS } from '../../staff/ban-reasons.js';
import { sessionView } from '../account/responses.js';
import { at, epochSeconds, factorKind, loginsPending, securityEvent } from '../api/common-schemas.js';

const text = (max: number) => z.string().trim().min(1).max(max);
const role = z.enum(STAFF_ROLES as unknown as ['agent', 'supervisor', 'auditor', 'admin']);

/**
 * A console page's form for an act that cannot be undone at once (a ban, a password reset,
 * deregistering an enterprise, a new client secret): its "I confirm" box must be ticked,
 * so that one click on the wrong button does nothing. The JSON API's callers confirm in
 * their own interface.
 */
const confirmation = z.object({ confirm: z.unknown().refine((value) => value === 'yes', 'confirmation_required') });

export function confirmedForm<T>(schema: z.ZodType<T>) {
  return z.intersection(schema, confirmation);
}

/** The console's inputs, shared by the pages (form posts) and the JSON API. */
export const adminSchemas = {
  login: z.object({ username: text(64), password: z.string().min(1).max(256) }),
  totp: z.object({ code: z.string().max(16).default('') }),
  search: z.object({ q: text(32) }),
  createStaff: z.object({ username: text(32), display_name: z.string().trim().max(50).optional(), roles: z.union([role, z.array(role).min(1).max(4)]).transform((r) => (Array.isArray(r) ? r : [r])) }),
  reason: z.object({ reason: text(500) }),
  ban: z.object({ reason: z.enum(Object.keys(BAN_REASONS) as [string, ...string[]]).optional(), note: z.string().max(500).optional() }),
  identity: z.object({ name: text(50), id_number: text(32) }),
  counterStart: z.object({ name: text(50), id_number: text(32), phone: text(20) }),
  code: z.object({ code: text(8) }),
  phoneChange: z.object({ name: text(50), id_number: text(32), phone: text(20) }),
  decision: z.object({ note: z.string().max(500).optional() }),
  /** Replacing one's own credentials: the current password, and a new password, a code from a new authenticator, or both. */
  credentials: z.object({ current_password: z.string().min(1).max(256), new_password: z.string().max(256).optional(), code: z.string().max(16).optional() }),
  role: z.object({ role, reason: text(500) }),
  /** Audit filters, from a query string: empty fields mean no filter. */
  auditFilter: z.object({
    from: z.union([z.literal(''), z.iso.date(), z.iso.datetime()]).optional(),
    to: z.union([z.literal(''), z.iso.date(), z.iso.datetime()]).optional(),
    actor_kind: z.union([z.literal(''), z.enum(['citizen', 'staff', 'client', 'system', 'anonymous'])]).optional(),
    actor_id: z.string().max(64).optional(),
    action: z.string().max(64).regex(/^[a-z_.]*$/).optional(),
    target_id: z.string().max(64).optional(),
    result: z.union([z.literal(''), z.enum(['success', 'failure', 'denied'])]).optional(),
    before: z.coerce.number().int().positive().optional(),
  }),
};

const masked = z.string();
const staffRoles = z.array(role);

/** A staff member as admins see them (staff/staff-accounts.ts StaffSummary). */
const staffSummary = z.object({
  id: z.string(), username: z.string(), display_name: z.string(), status: z.enum(['active', 'disabled']), roles: staffRoles, created_at: at,
  locked: z.boolean(),
  credentials: z.enum(['set', 'first_sign_in', 'authenticator_reset', 'password_expired']).describe('set: the holder\'s own; otherwise what the holder must replace at the next sign-in'),
  last_login_at: at.nullable(),
});

/** One's own credentials (staff/staff-credentials.ts CredentialStatus). */
const credentialStatus = z.object({
  password_change_required: z.boolean(), password_expired: z.boolean(), authenticator_enrolment_required: z.boolean(),
  password_changed_at: at, password_expires_at: at,
});

/** A role named in a path (/staff/{staffId}/roles/{role}/withdraw). */
export const roleParam = z.object({ role });

/** The console page's form: the new password typed twice. */
export const credentialsForm = adminSchemas.credentials.extend({ confirm: z.string().max(256).optional() })
  .refine((input) => (input.new_password ?? '') === (input.confirm ?? ''), { message: 'invalid_input', path: ['confirm'] });

/** A request for a second person's decision (staff/approvals.ts ApprovalView). */
export const approvalView = z.object({
  id: z.string(),
  kind: z.enum(['account.unban', 'enterprise.restore', 'staff.grant_admin', 'staff.enable']),
  target: z.object({ kind: z.string(), id: z.string() }),
  requested_by: z.string(),
  reason: z.string(),
  status: z.enum(['pending', 'approved', 'rejected', 'expired']),
  expires_at: at,
  decided_by: z.string().optional(),
  decided_at: at.optional(),
  decision_note: z.string().optional(),
  created_at: at,
});

/** What a decider is shown of a request's subject (staff/approvals.ts ApprovalSubject): never a person unmasked. */
const approvalSubject = z.object({
  label: z.string().describe('a person masked, e.g. *三（110105********002X）; an enterprise by name and code; a staff member by username'),
  href: z.string().optional().describe('the console page of the subject (target.id names it for this API)'),
  grounds: z.object({
    action: z.string().describe('the act the request would undo, e.g. account.ban'),
    at,
    by: z.string().optional().describe('who did it: a staff member\'s username'),
    reason: z.string().optional(),
    note: z.string().optional(),
  }).optional(),
});

/** A request as the list shows it (staff/approvals.ts ApprovalListed and ApprovalCase). */
const approvalListed = approvalView.extend({
  requester: z.string().describe('the requester\'s username'),
  subject: approvalSubject.optional().describe('pending requests: about whom or what, and the act the request would undo'),
  history: z.array(approvalView).optional().describe('pending requests: the earlier requests about the same subject, newest first'),
});

const citizenSummary = z.object({
  id: z.string(),
  status: z.enum(['active', 'banned', 'deregistered']),
  assurance_level: z.number().int(),
  name_masked: masked,
  id_number_masked: masked,
  phone_masked: masked.optional(),
});

/** The console's answers (staff/*.ts views), for the OpenAPI document. */
export const adminResponses = {
  passwordStep: z.object({ next: z.literal('totp') }),
  totpStep: z.object({ next: z.enum(['session', 'credentials']).describe('credentials: replace the handed-over or expired credentials before anything else'), session_max_seconds: z.number().int() }),
  session: z.object({ staff: z.object({ id: z.string(), username: z.string(), roles: staffRoles }), credentials_change_required: z.boolean(), csrf_token: z.string() }),
  citizens: z.object({ results: z.array(citizenSummary) }),
  citizen: citizenSummary.extend({
    registration_channel: z.enum(['online', 'counter', 'federation']),
    password_must_change: z.boolean(),
    totp_enabled: z.boolean(),
    registered_at: at,
    factors: z.array(z.object({ kind: factorKind, masked, verified_at: at })),
    sessions: z.array(sessionView),
    events: z.array(securityEvent),
    approvals: z.array(approvalView),
  }),
  passwordReset: z.object({ password: z.string().describe('shown this once'), password_must_change: z.literal(true), revoked_sessions: z.number().int(), revoked_grants: z.number().int(), logins_pending: loginsPending }),
  banned: z.object({ status: z.literal('banned'), revoked_sessions: z.number().int(), revoked_grants: z.number().int(), logins_pending: loginsPending }),
  approval: approvalView,
  phoneChange: z.object({ flow_id: z.string(), account_id: z.string(), state: z.enum(['code_sent', 'complete']), phone_masked: masked, expires_at: epochSeconds }),
  counterStarted: z.object({
    flow_id: z.string(), state: z.enum(['code_sent', 'complete']), expires_at: epochSeconds,
    name_masked: masked.optional(), id_number_masked: masked.optional(), phone_masked: masked.optional(),
  }),
  counterDone: z.object({
    account_id: z.string(), name_masked: masked, id_number_masked: masked, phone_masked: masked,
    password: z.string().describe('the initial password, shown this once'), agreement_version: z.string(),
  }),
  approvals: z.object({ approvals: z.array(approvalListed) }),
  staff: z.object({ staff: z.array(staffSummary) }),
  staffMember: staffSummary,
  staffCreated: z.object({ id: z.string(), username: z.string(), roles: staffRoles, password: z.string(), otpauth_uri: z.string(), must_change: z.boolean().describe('the holder replaces both at first sign-in') }),
  authenticatorReset: z.object({ staff: staffSummary, secret: z.string().describe('shown this once'), otpauth_uri: z.string() }),
  credentials: credentialStatus,
  credentialsChanged: credentialStatus.extend({ password_changed: z.boolean(), authenticator_changed: z.boolean() }),
  pendingAuthenticator: z.object({ secret: z.string(), otpauth_uri: z.string(), expires_in: z.number().int().describe('seconds left to confirm it') }),
  audit: z.object({
    records: z.array(z.object({
      seq: z.number().int(), at, actor_kind: z.string(), actor_id: z.string().nullable(), action: z.string(),
      target_kind: z.string().nullable(), target_id: z.string().nullable(), result: z.enum(['success', 'failure', 'denied']),
      actor_username: z.string().nullable().describe('for a staff actor'), target_username: z.string().nullable().describe('for a staff target'),
      ip: z.string().nullable(), user_agent: z.string().nullable(), request_id: z.string().nullable(),
      details: z.record(z.string(), z.unknown()), prev_hash: z.string(), hash: z.string(),
    })),
    next_before: z.number().int().optional().describe('send as ?before= for the next page'),
  }),
};

/** The audit filter as the domain takes it; a bare date `to` includes that whole day. */
export function auditFilterOf(input: z.infer<typeof adminSchemas.auditFilter>) {
  const day = (value: string | undefined, end: boolean) => {
    if (!value) return undefined;
    const at = new Date(value.length === 10 ? `${value}T00:00:00+08:00` : value);
    return end && value.length === 10 ? new Date(at.getTime() + 86_400_000) : at;
  };
  return {
    from: day(input.from, false),
    to: day(input.to, true),
    actorKind: input.actor_kind || undefined,
    actorId: input.actor_id?.trim() || undefined,
    action: input.action || undefined,
    targetId: input.target_id?.trim() || undefined,
    result: input.result || undefined,
    beforeSeq: input.before,
  };
}
