import { z } from 'zod';
import { STAFF_ROLES } from '../../staff/roles.js';
import { BAN_REASONS } from '../../staff/ban-reasons.js';

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
