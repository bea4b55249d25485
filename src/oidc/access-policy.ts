import { z } from 'zod';

/**
 * Who may use a client, decided per application by the province. Stored with the client
 * and enforced at every authorization; fields are optional in CLIENTS_FILE.
 */
export const serviceItemSchema = z.object({
  code: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, ".", "_" and "-"'),
  name: z.string().min(1).max(100),
});

export const accessPolicySchema = z.object({
  entity_types: z.array(z.enum(['natural', 'legal'])).min(1).default(['natural', 'legal']),
  min_assurance_level: z.number().int().min(1).max(3).default(2),
  login_methods: z.array(z.enum(['pwd', 'sms', 'otp', 'qr', 'fed', 'wechat', 'mfa'])).min(1).optional(),
  release_id_number: z.boolean().default(false),
  /** Third-party clients ask the person; the province's own services are granted directly. */
  require_consent: z.boolean().default(false),
  service_items: z.array(serviceItemSchema).default([]),
  allow_accounts: z.array(z.string()).optional(),
  deny_accounts: z.array(z.string()).default([]),
  /** Offer enterprise-account login (USCC + password + SMS); needs ENTERPRISE_ACCOUNT_LOGIN=on as well. */
  enterprise_account_login: z.boolean().default(false),
}).strict();

export type AccessPolicy = z.infer<typeof accessPolicySchema>;
