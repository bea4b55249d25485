import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { KeyedDigest } from '../crypto/digest.js';
import type { Db } from '../store/db.js';
import { accessPolicySchema } from './access-policy.js';

const CLIENT_SECRET_PURPOSE = 'client-secret';
const CACHE_MS = 5_000;
const CACHE_ENTRIES = 1_000;

/** One entry of CLIENTS_FILE: oidc-provider client metadata plus our access policy. */
const clientFileEntrySchema = z.object({
  client_id: z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/, 'letters, digits, ".", "_", "~" and "-", at most 128'),
  client_secret: z.string().min(32, 'must be at least 32 characters').optional(),
  access_policy: accessPolicySchema.default(accessPolicySchema.parse({})),
}).catchall(z.unknown());

export const clientsFileSchema = z.array(clientFileEntrySchema).superRefine((entries, ctx) => {
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    if (seen.has(entry.client_id)) ctx.addIssue({ code: 'custom', path: [index, 'client_id'], message: `duplicate client_id "${entry.client_id}"` });
    seen.add(entry.client_id);
  });
});

export type ClientFileEntry = z.infer<typeof clientFileEntrySchema>;

export class ClientsFileError extends Error {}

/** Validates client metadata as oidc-provider would; supplied by the provider once it exists. */
export type MetadataValidator = (metadata: Record<string, unknown>) => Promise<void>;

/**
 * The registered relying parties. Secrets are kept only as keyed digests: the provider
 * holds the digest in place of the secret and compares digests (see oidc/internals.ts).
 */
export class ClientRegistry {
  /**
   * Client metadata is read on every token, introspection and userinfo request. A few
   * seconds of caching removes that query from the hot path; this instance forgets an
   * entry as soon as it changes a client, other instances within CACHE_MS.
   */
  private readonly cache = new Map<string, { at: number; metadata: Record<string, unknown> | undefined }>();

  constructor(private readonly db: Db, private readonly digest: KeyedDigest) {}

  secretDigest(secret: string): string {
    return this.digest.digest(CLIENT_SECRET_PURPOSE, secret);
  }

  secretMatches(secret: string, digest: string): boolean {
    return this.digest.matches(CLIENT_SECRET_PURPOSE, secret, digest);
  }

  /** Metadata as oidc-provider reads it, or undefined for an unknown client. */
  async providerMetadata(clientId: string): Promise<Record<string, unknown> | undefined> {
    const cached = this.cache.get(clientId);
    // A copy each time: the provider may annotate what it is given.
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.metadata && structuredClone(cached.metadata);
    const metadata = await this.loadMetadata(clientId);
    if (this.cache.size >= CACHE_ENTRIES) this.cache.clear();
    this.cache.set(clientId, { at: Date.now(), metadata });
    return metadata && structuredClone(metadata);
  }

  private async loadMetadata(clientId: string): Promise<Record<string, unknown> | undefined> {
    const row = await this.db.selectFrom('oidc_clients')
      .select(['metadata', 'secret_digest', 'access_policy'])
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      ...row.metadata,
      client_id: clientId,
      ...(row.secret_digest ? { client_secret: row.secret_digest } : {}),
      access_policy: row.access_policy,
    };
  }

  /** Reads and validates a CLIENTS_FILE; throws ClientsFileError naming every problem. */
  static async readFile(path: string): Promise<ClientFileEntry[]> {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new ClientsFileError(`${path}: ${(error as Error).message}`);
    }
    const parsed = clientsFileSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ClientsFileError(parsed.error.issues.map((issue) => `${path} [${issue.path.join('.')}]: ${issue.message}`).join('\n'));
    }
    return parsed.data;
  }

  /** Inserts or replaces the given clients in one transaction; all or nothing. */
  async upsert(entries: ClientFileEntry[], validate: MetadataValidator, source: 'file' | 'console' = 'file'): Promise<void> {
    const rows: Array<{ client_id: string; metadata: string; secret_digest: string | null; access_policy: string; source: 'file' | 'console' }> = [];
    for (const { client_secret: secret, access_policy: policy, ...metadata } of entries) {
      const secretDigest = secret ? this.secretDigest(secret) : null;
      try {
        await validate({ ...metadata, ...(secretDigest ? { client_secret: secretDigest } : {}), access_policy: policy });
      } catch (error) {
        const detail = (error as { error_description?: string }).error_description ?? (error as Error).message;
        throw new ClientsFileError(`client "${metadata.client_id}": ${detail}`);
      }
      rows.push({
        client_id: metadata.client_id,
        metadata: JSON.stringify(metadata),
        secret_digest: secretDigest,
        access_policy: JSON.stringify(policy),
        source,
      });
    }
    await this.db.transaction().execute(async (trx) => {
      for (const row of rows) {
        await trx.insertInto('oidc_clients').values(row)
          .onConflict((conflict) => conflict.column('client_id').doUpdateSet({
            metadata: row.metadata,
            secret_digest: row.secret_digest,
            access_policy: row.access_policy,
            source: row.source,
            updated_at: new Date(),
          }))
          .execute();
      }
    });
    for (const row of rows) this.cache.delete(row.client_id);
  }
}
