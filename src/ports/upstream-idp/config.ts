import { readFile } from 'node:fs/promises';
import { z } from 'zod';

/**
 * One upstream OpenID provider in UPSTREAM_IDPS_FILE: the national platform or another
 * province's platform, where we are a registered confidential client.
 */
const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope token');
const claimName = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'a claim name');

const upstreamSchema = z.object({
  /** Appears in our URLs (`/federation/<id>/callback`) and the audit log; never change it once live. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lower-case letters, digits and "-", at most 32'),
  display_name: z.object({ 'zh-CN': z.string().min(1).max(60), en: z.string().min(1).max(60) }).strict(),
  issuer: z.url({ protocol: /^https?$/ }).refine((value) => !/[?#]/.test(value), 'must have no query or fragment'),
  client_id: z.string().min(1).max(255),
  client_secret: z.string().min(16, 'must be at least 16 characters'),
  token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
  scopes: z.array(scopeToken).min(1).default(['openid', 'profile', 'id_number'])
    .refine((scopes) => scopes.includes('openid'), 'must include "openid"'),
  /** The upstream's `acr` values we accept and the assurance level each is worth here; any other acr is refused. */
  acr_map: z.record(z.string().min(1).max(255), z.union([z.literal(2), z.literal(3)]))
    .refine((map) => Object.keys(map).length > 0, 'must map at least one acr value'),
  /** Which claims of the ID token (or, failing that, userinfo) carry the ID number and the name. */
  claims: z.object({ id_number: claimName.default('id_number'), name: claimName.default('name') }).strict().default({ id_number: 'id_number', name: 'name' }),
}).strict();

export type UpstreamIdp = z.infer<typeof upstreamSchema>;

export const upstreamIdpsFileSchema = z.array(upstreamSchema).superRefine((entries, ctx) => {
  const ids = new Set<string>();
  const issuers = new Set<string>();
  entries.forEach((entry, index) => {
    if (ids.has(entry.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate id "${entry.id}"` });
    if (issuers.has(entry.issuer)) ctx.addIssue({ code: 'custom', path: [index, 'issuer'], message: `duplicate issuer "${entry.issuer}"` });
    ids.add(entry.id);
    issuers.add(entry.issuer);
  });
});

export class UpstreamIdpsFileError extends Error {
  override readonly name = 'UpstreamIdpsFileError';
}

/**
 * Reads and validates UPSTREAM_IDPS_FILE at start-up, naming every problem at once. No file
 * configured means no upstreams. In production every issuer must be https.
 */
export async function readUpstreamIdps(path: string | undefined, options: { production: boolean }): Promise<UpstreamIdp[]> {
  if (!path) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UpstreamIdpsFileError(`${path}: ${(error as Error).message}`);
  }
  const parsed = upstreamIdpsFileSchema.safeParse(raw);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${path} [${issue.path.join('.')}]: ${issue.message}`);
  if (parsed.success && options.production) {
    parsed.data.forEach((entry, index) => {
      if (!entry.issuer.startsWith('https://')) problems.push(`${path} [${index}.issuer]: must be an https:// URL in production`);
    });
  }
  if (problems.length > 0 || !parsed.success) throw new UpstreamIdpsFileError(problems.join('\n'));
  return parsed.data;
}

/** Where an upstream sends people back to us: register this redirect URI with the upstream. */
export function federationCallback(issuer: string, upstreamId: string): string {
  return `${issuer.replace(/\/$/, '')}/federation/${upstreamId}/callback`;
}
