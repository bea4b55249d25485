import { z } from 'zod';
import type { GranteeRef } from '../../delegation/delegations.js';

const when = z.iso.datetime({ offset: true }).transform((value) => new Date(value));
const scope = z.array(z.object({
  client_id: z.string().min(1).max(128),
  service_items: z.array(z.string().min(1).max(64)).min(1).max(50),
})).min(1).max(20);
const grantee = z.union([
  z.object({ id_number: z.string().trim().min(1).max(32), name: z.string().trim().min(1).max(50) }),
  z.object({ phone: z.string().trim().min(1).max(20) }),
]);

/** Delegation inputs, for the JSON API and the OpenAPI document. */
export const delegationSchemas = {
  grant: z.object({
    enterprise_id: z.string().min(1).max(64),
    parent_id: z.string().min(1).max(64).optional(),
    grantee,
    scope,
    valid_from: when.optional(),
    valid_until: when,
    may_redelegate: z.boolean().default(false),
  }),
  change: z.object({
    version: z.number().int().min(1).optional(),
    scope: scope.optional(),
    valid_from: when.optional(),
    valid_until: when.optional(),
    may_redelegate: z.boolean().optional(),
  }),
  cancel: z.object({ version: z.number().int().min(1).optional() }),
  request: z.object({
    uscc: z.string().trim().min(18).max(18),
    scope,
    valid_from: when.optional(),
    valid_until: when,
    reason: z.string().max(200).optional(),
  }),
  approve: z.object({
    parent_id: z.string().min(1).max(64).optional(),
    scope: scope.optional(),
    valid_from: when.optional(),
    valid_until: when.optional(),
    may_redelegate: z.boolean().optional(),
  }),
};

export function granteeRef(input: z.infer<typeof grantee>): GranteeRef {
  return 'phone' in input ? { phone: input.phone } : { idNumber: input.id_number, name: input.name };
}
