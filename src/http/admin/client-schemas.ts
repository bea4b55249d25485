import { z } from 'zod';
import { accessPolicySchema } from '../../oidc/access-policy.js';
import { CLIENT_KINDS } from '../../staff/client-admin.js';
import { at } from '../api/common-schemas.js';

const uri = z.string().trim().min(1).max(2000);
/** A list of addresses: a JSON array, or a form's textarea with one per line. */
const uris = z.preprocess(
  (value) => (typeof value === 'string' ? value.split(/\r?\n/).map((line) => line.trim()).filter(Boolean) : value),
  z.array(uri).max(20),
);
/** A form's checkboxes: absent, one value, or several. */
const checked = <T extends z.ZodType>(item: T) => z.preprocess((value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]), z.array(item));
const lines = (value: unknown) => (typeof value === 'string' ? value.split(/\r?\n/).map((line) => line.trim()).filter(Boolean) : []);

/** Client registration and editing, shared by the console's pages and its JSON API. */
export const clientSchemas = {
  register: z.object({
    client_id: z.string().trim().min(1).max(128),
    client_name: z.string().trim().min(1).max(100),
    kind: z.enum(CLIENT_KINDS),
    redirect_uris: uris.optional(),
    post_logout_redirect_uris: uris.optional(),
    backchannel_logout_uri: z.union([z.literal(''), uri]).optional(),
    grant_types: z.array(z.string().max(100)).max(10).optional(),
    response_types: z.array(z.string().max(100)).max(10).optional(),
    access_policy: z.record(z.string(), z.unknown()).optional(),
  }),
  update: z.object({
    client_name: z.string().trim().min(1).max(100).optional(),
    redirect_uris: uris.optional(),
    post_logout_redirect_uris: uris.optional(),
    backchannel_logout_uri: z.union([z.literal(''), uri, z.null()]).optional(),
  }),
  /**
   * The policy form's fields as the access policy (validated afterwards by ClientPolicies):
   * checkboxes, one account id per line, one service item per line as "code name".
   */
  policyForm: z.object({
    entity_types: checked(z.string().max(16)),
    min_assurance_level: z.coerce.number().int(),
    login_methods: checked(z.string().max(16)),
    release_id_number: z.string().optional(),
    release_phone_number: z.string().optional(),
    release_name: z.string().optional(),
    require_consent: z.string().optional(),
    enterprise_account_login: z.string().optional(),
    service_items: z.string().max(8000).default(''),
    allow_list: z.string().optional(),
    allow_accounts: z.string().max(8000).default(''),
    deny_accounts: z.string().max(8000).default(''),
  }).transform((form) => ({
    entity_types: form.entity_types,
    min_assurance_level: form.min_assurance_level,
    ...(form.login_methods.length > 0 ? { login_methods: form.login_methods } : {}),
    release_id_number: form.release_id_number !== undefined,
    release_phone_number: form.release_phone_number !== undefined,
    release_name: form.release_name !== undefined,
    require_consent: form.require_consent !== undefined,
    enterprise_account_login: form.enterprise_account_login !== undefined,
    service_items: lines(form.service_items).map((line) => {
      const [code = '', ...name] = line.split(/\s+/);
      return { code, name: name.join(' ') };
    }),
    ...(form.allow_list !== undefined ? { allow_accounts: lines(form.allow_accounts) } : {}),
    deny_accounts: lines(form.deny_accounts),
  })),
};

const clientView = z.object({
  client_id: z.string(),
  client_name: z.string(),
  kind: z.enum(CLIENT_KINDS),
  source: z.enum(['file', 'console']),
  policy_source: z.enum(['file', 'console']),
  confidential: z.boolean(),
  application_type: z.string(),
  grant_types: z.array(z.string()),
  response_types: z.array(z.string()),
  token_endpoint_auth_method: z.string(),
  redirect_uris: z.array(z.string()),
  post_logout_redirect_uris: z.array(z.string()),
  backchannel_logout_uri: z.string().nullable(),
  access_policy: accessPolicySchema,
  policy_summary: z.object({
    entity_types: z.array(z.enum(['natural', 'legal'])),
    min_assurance_level: z.number().int(),
    login_methods: z.union([z.array(z.string()), z.literal('any')]),
    release_id_number: z.boolean(),
    release_phone_number: z.boolean(),
    release_name: z.boolean(),
    service_items: z.number().int(),
    allow_accounts: z.number().int().nullable(),
    deny_accounts: z.number().int(),
  }),
  created_at: at,
  updated_at: at,
});

/** Clients as the console shows them (staff/client-admin.ts ClientView): never a secret but the one just made. */
export const clientResponses = {
  clients: z.object({ clients: z.array(clientView) }),
  registered: z.object({ client: clientView, client_secret: z.string().optional().describe('a confidential client\'s secret, shown this once') }),
  client: clientView,
  secret: z.object({ client_id: z.string(), client_secret: z.string() }),
};
