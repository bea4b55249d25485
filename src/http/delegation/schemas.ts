import { z } from 'zod';
import type { GranteeRef } from '../../delegation/delegations.js';
import { at, enterpriseStatus, enterpriseType } from '../api/common-schemas.js';

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

const scopeOut = z.array(z.object({ client_id: z.string(), service_items: z.array(z.string()) }));
const grantView = z.object({
  id: z.string(),
  enterprise_id: z.string(),
  parent_id: z.string().nullable(),
  level: z.number().int(),
  grantor_name_masked: z.string(),
  grantee_name_masked: z.string(),
  scope: scopeOut,
  valid_from: at,
  valid_until: at,
  may_redelegate: z.boolean(),
  status: z.enum(['pending', 'active', 'revoked', 'expired']),
  version: z.number().int(),
  revoked_at: at.optional(),
});
const requestView = z.object({
  id: z.string(),
  enterprise_id: z.string(),
  requester_name_masked: z.string(),
  scope: scopeOut,
  valid_from: at,
  valid_until: at,
  reason: z.string().nullable(),
  status: z.enum(['pending', 'approved', 'rejected', 'withdrawn']),
  grant_id: z.string().optional(),
});
const enterpriseView = z.object({ id: z.string(), name: z.string(), uscc_masked: z.string(), type: enterpriseType, status: enterpriseStatus });

/** Delegation answers as present.ts shows them (people by masked name only), for the OpenAPI document. */
export const delegationResponses = {
  overview: z.object({
    enterprises: z.array(enterpriseView.extend({ role: z.enum(['legal_representative', 'delegate']) })),
    held: z.array(grantView),
    granted: z.array(grantView),
  }),
  grant: grantView,
  requests: z.object({ mine: z.array(requestView), to_decide: z.array(requestView) }),
  request: requestView,
  tree: z.object({ enterprise: enterpriseView, grants: z.array(grantView) }),
  history: z.object({ grant: grantView, history: z.array(z.object({ at, action: z.string(), details: z.record(z.string(), z.unknown()) })) }),
  cancelled: z.object({ revoked: z.array(z.string()).describe('the ids of the grant and every grant below it') }),
};

export function granteeRef(input: z.infer<typeof grantee>): GranteeRef {
  return 'phone' in input ? { phone: input.phone } : { idNumber: input.id_number, name: input.name };
}
