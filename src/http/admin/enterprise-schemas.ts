import { z } from 'zod';
import type { CounterEnterpriseInput } from '../../staff/counter-enterprise.js';
import { at, loginsPending, enterpriseStatus, enterpriseType, registryStatus, securityEvent } from '../api/common-schemas.js';
import { approvalView } from './schemas.js';

/** Eight megabytes of scan, as base64, at most (the API hashes it and drops it). */
const MAX_SCAN_BASE64 = Math.ceil((8 * 1024 * 1024) / 3) * 4;
const text = (max: number) => z.string().trim().min(1).max(max);
/** A field a form may send empty: empty means absent. */
const optional = (max: number) => z.string().trim().max(max).optional().transform((v) => (v ? v : undefined));

/** The console's enterprise inputs, shared by the pages (form posts) and the JSON API. */
export const enterpriseSchemas = {
  counter: z.object({
    uscc: text(32),
    name: text(100),
    mode: z.enum(['in_person', 'power_of_attorney']),
    representative_name: text(50),
    representative_id_number: text(32),
    power_of_attorney_number: optional(64),
    /** Hex, typed by the agent or filled in by the page from the chosen scan. */
    power_of_attorney_sha256: optional(64),
    /** API only: the scan itself, base64; hashed (SHA-256) and never stored. */
    power_of_attorney_scan: z.base64().max(MAX_SCAN_BASE64).optional(),
    delegate_name: optional(50),
    delegate_id_number: optional(32),
  }),
};

const summary = z.object({
  id: z.string(), uscc: z.string(), name: z.string(), type: enterpriseType,
  status: enterpriseStatus, registry_status: registryStatus,
});

/** The console's enterprise answers (staff/enterprise-desk.ts, staff/counter-enterprise.ts). */
export const enterpriseConsoleResponses = {
  search: z.object({ results: z.array(summary) }),
  detail: summary.extend({
    registry_checked_at: at,
    registered_at: at,
    representative: z.object({ account_id: z.string(), name_masked: z.string(), id_number_masked: z.string(), phone_masked: z.string().optional(), since: at.nullable() })
      .nullable().describe('null between a change on the register and the new representative\'s claim'),
    grants: z.object({ total: z.number().int(), by_level_status: z.array(z.object({ level: z.number().int(), status: z.string(), count: z.number().int() })) }),
    counter_registrations: z.array(z.object({
      at, mode: z.string(), power_of_attorney_number: z.string().nullable(), power_of_attorney_sha256: z.string().nullable(), delegate_id_number_masked: z.string().nullable(),
    })),
    events: z.array(securityEvent),
    approvals: z.array(approvalView),
  }),
  deregistered: z.object({ status: z.literal('deregistered'), revoked_grants: z.number().int(), ended_logins: z.number().int(), logins_pending: loginsPending }),
  counter: z.object({
    mode: z.enum(['in_person', 'power_of_attorney']),
    state: z.enum(['code_sent', 'complete']),
    uscc: z.string(),
    name: z.string(),
    flow_id: z.string().optional().describe('with a power of attorney: the flow waiting for the representative\'s code'),
    code_sent_to: z.string().optional(),
    enterprise_id: z.string().optional(),
  }),
};

export type CounterEnterpriseBody = z.infer<typeof enterpriseSchemas.counter>;

/** The validated body as the counter service takes it. */
export function counterEnterpriseInput(body: CounterEnterpriseBody): CounterEnterpriseInput {
  const poa = body.mode === 'power_of_attorney';
  return {
    uscc: body.uscc,
    name: body.name,
    mode: body.mode,
    representative: { name: body.representative_name, idNumber: body.representative_id_number },
    ...(poa ? {
      powerOfAttorney: {
        number: body.power_of_attorney_number,
        sha256: body.power_of_attorney_sha256,
        ...(body.power_of_attorney_scan ? { scan: Buffer.from(body.power_of_attorney_scan, 'base64') } : {}),
      },
      ...(body.delegate_name || body.delegate_id_number ? { delegate: { name: body.delegate_name ?? '', idNumber: body.delegate_id_number ?? '' } } : {}),
    } : {}),
  };
}
