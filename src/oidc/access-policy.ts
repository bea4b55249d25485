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
  /** The full name under scope `profile`; otherwise only `name_masked` (*三). */
  release_name: z.boolean().default(false),
  /** The full phone number under scope `phone`; otherwise only `phone_number_masked` (PIPL: minimum necessary). */
  release_phone_number: z.boolean().default(false),
  /** Third-party clients ask the person; the province's own services are granted directly. */
  require_consent: z.boolean().default(false),
  service_items: z.array(serviceItemSchema).default([]),
  allow_accounts: z.array(z.string()).optional(),
  deny_accounts: z.array(z.string()).default([]),
  /** Offer enterprise-account login (USCC + password + SMS); needs ENTERPRISE_ACCOUNT_LOGIN=on as well. */
  enterprise_account_login: z.boolean().default(false),
}).strict();

export type AccessPolicy = z.infer<typeof accessPolicySchema>;

/** What a stored policy that no longer parses means: everyone is refused, rather than nobody. */
export const REFUSE_EVERYONE: AccessPolicy = (() => {
  const policy = accessPolicySchema.parse({ entity_types: ['natural'], allow_accounts: [] });
  for (const value of Object.values(policy)) if (Array.isArray(value)) Object.freeze(value);
  return Object.freeze(policy);
})();

/** A policy as stored, or REFUSE_EVERYONE when it does not parse. */
export function storedPolicy(value: unknown): AccessPolicy {
  const parsed = accessPolicySchema.safeParse(value ?? {});
  return parsed.success ? parsed.data : REFUSE_EVERYONE;
}

const byClient = new WeakMap<object, AccessPolicy>();

/**
 * The access policy of an oidc-provider Client. The provider keeps one Client object per
 * version of its metadata, so the policy is parsed once per object, not on every request.
 */
export function policyOfClient(client: object): AccessPolicy {
  let policy = byClient.get(client);
  if (!policy) {
    policy = storedPolicy((client as { access_policy?: unknown }).access_policy);
    byClient.set(client, policy);
  }
  return policy;
}
