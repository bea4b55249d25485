import { readFile } from 'node:fs/promises';
import { z } from 'zod';

/**
 * APIs that accept our access tokens. A token requested with `resource=<identifier>` is an
 * RFC 9068 JWT for that API; a token without a resource is opaque and good for userinfo.
 */
const resourceServerSchema = z.object({
  identifier: z.url(),
  scope: z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'space-separated scope tokens'),
  access_token_ttl: z.number().int().min(30).max(24 * 3600).default(600),
  access_token_format: z.enum(['jwt', 'opaque']).default('jwt'),
  /** Clients (besides the token's own) that may introspect tokens for this API. */
  introspection_clients: z.array(z.string()).default([]),
}).strict();

export const resourceServersFileSchema = z.array(resourceServerSchema);
export type ResourceServerEntry = z.infer<typeof resourceServerSchema>;

export async function readResourceServers(path: string): Promise<ResourceServerEntry[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  const parsed = resourceServersFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((issue) => `${path} [${issue.path.join('.')}]: ${issue.message}`).join('\n'));
  }
  return parsed.data;
}
