import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { KeyedDigest } from '../crypto/digest.js';
import type { Cache } from '../store/cache.js';
import type { Db } from '../store/db.js';
import { DEFAULT_CLIENT_SCOPE } from './configuration/claims.js';
import { accessPolicySchema, REFUSE_EVERYONE, storedPolicy, type AccessPolicy } from './access-policy.js';

const CLIENT_SECRET_PURPOSE = 'client-secret';
/** A safety net only: changes are broadcast to every instance (see `listenForChanges`). */
const CACHE_MS = 60_000;
const CACHE_ENTRIES = 1_000;
/** The cache channel on which a changed client id is announced ('*': forget them all). */
const CHANGES_CHANNEL = 'clients:changed';

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

interface CachedClient {
  at: number;
  metadata: Record<string, unknown> | undefined;
  /** Undefined for an unknown client; REFUSE_EVERYONE when the stored one does not parse. */
  policy: AccessPolicy | undefined;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const nested of Object.values(value)) deepFreeze(nested);
    Object.freeze(value);
  }
  return value;
}

const CLIENT_COLUMNS = ['client_id', 'metadata', 'secret_digest', 'access_policy', 'source', 'policy_source', 'created_at', 'updated_at'] as const;

/** A stored client as the console reads it (the secret only as its digest). */
export interface ClientRow {
  client_id: string;
  metadata: Record<string, unknown>;
  secret_digest: string | null;
  access_policy: Record<string, unknown>;
  source: 'file' | 'console';
  policy_source: 'file' | 'console';
  created_at: Date;
  updated_at: Date;
}

/** Validates client metadata as oidc-provider would; supplied by the provider once it exists. */
export type MetadataValidator = (metadata: Record<string, unknown>) => Promise<void>;

/**
 * The registered relying parties. Secrets are kept only as keyed digests: the provider
 * holds the digest in place of the secret and compares digests (see oidc/internals.ts).
 */
export class ClientRegistry {
  /**
   * Client metadata (its secret digest and access policy included) is read on every
   * authorization and token, introspection and userinfo request. It is kept in memory and
   * forgotten on every instance as soon as any instance, or the CLI, changes the client:
   * changes are broadcast on the cache. Entries also age out after CACHE_MS, in case a
   * broadcast is lost in a way the subscription cannot notice.
   */
  private readonly cache = new Map<string, CachedClient>();
  private changes: Cache | undefined;

  constructor(private readonly db: Db, private readonly digest: KeyedDigest) {}

  /** Hears the changes made by other instances and announces this one's. */
  async listenForChanges(cache: Cache): Promise<void> {
    await cache.subscribe(CHANGES_CHANNEL, {
      onMessage: (clientId) => (clientId === '*' ? this.cache.clear() : this.cache.delete(clientId)),
      onGap: () => this.cache.clear(),
    });
    this.changes = cache;
  }

  /** Forgets a changed client here at once, and on every other instance as soon as they hear. */
  private async changed(clientIds: string[]): Promise<void> {
    for (const clientId of clientIds) this.cache.delete(clientId);
    await Promise.all(clientIds.map((clientId) => this.changes?.publish(CHANGES_CHANNEL, clientId)));
  }

  secretDigest(secret: string): string {
    return this.digest.digest(CLIENT_SECRET_PURPOSE, secret);
  }

  secretMatches(secret: string, digest: string): boolean {
    return this.digest.matches(CLIENT_SECRET_PURPOSE, secret, digest);
  }

  /** Metadata as oidc-provider reads it, or undefined for an unknown client. */
  async providerMetadata(clientId: string): Promise<Record<string, unknown> | undefined> {
    // Shared, not copied: frozen, so nothing can change one caller's view under another.
    return this.cachedMetadata(clientId);
  }

  private async cachedMetadata(clientId: string): Promise<Record<string, unknown> | undefined> {
    return (await this.cached(clientId)).metadata;
  }

  private async cached(clientId: string): Promise<CachedClient> {
    const known = this.cache.get(clientId);
    if (known && Date.now() - known.at < CACHE_MS) return known;
    const metadata = deepFreeze(await this.loadMetadata(clientId));
    // Parsed once per load: the policy is asked on every authorization and token use.
    const entry: CachedClient = { at: Date.now(), metadata, policy: metadata && deepFreeze(storedPolicy(metadata.access_policy)) };
    if (this.cache.size >= CACHE_ENTRIES) this.cache.clear();
    this.cache.set(clientId, entry);
    return entry;
  }

  private async loadMetadata(clientId: string): Promise<Record<string, unknown> | undefined> {
    const row = await this.db.selectFrom('oidc_clients')
      .select(['metadata', 'secret_digest', 'access_policy'])
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      scope: DEFAULT_CLIENT_SCOPE,
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

  /**
   * Inserts or replaces the given clients in one transaction; all or nothing. A policy the
   * console has set (policy_source 'console') is kept, not replaced by the file's: the ids
   * of those clients are returned so the import can say so.
   */
  async upsert(entries: ClientFileEntry[], validate: MetadataValidator, source: 'file' | 'console' = 'file'): Promise<{ policyKept: string[] }> {
    const rows: Array<{ client_id: string; metadata: string; secret_digest: string | null; access_policy: string; source: 'file' | 'console'; policy_source: 'file' | 'console' }> = [];
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
        policy_source: source,
      });
    }
    const policyKept = await this.db.transaction().execute(async (trx) => {
      const kept = rows.length === 0 ? [] : await trx.selectFrom('oidc_clients').select('client_id')
        .where('client_id', 'in', rows.map((row) => row.client_id)).where('policy_source', '=', 'console')
        .forUpdate().execute();
      const keep = new Set(source === 'file' ? kept.map((row) => row.client_id) : []);
      for (const row of rows) {
        const keepPolicy = keep.has(row.client_id);
        await trx.insertInto('oidc_clients').values(row)
          .onConflict((conflict) => conflict.column('client_id').doUpdateSet({
            metadata: row.metadata,
            secret_digest: row.secret_digest,
            ...(keepPolicy ? {} : { access_policy: row.access_policy, policy_source: row.policy_source }),
            source: row.source,
            updated_at: new Date(),
          }))
          .execute();
      }
      return [...keep];
    });
    await this.changed(rows.map((row) => row.client_id));
    return { policyKept };
  }

  /** Every client as stored, for the console. */
  list(): Promise<ClientRow[]> {
    return this.db.selectFrom('oidc_clients').select(CLIENT_COLUMNS).orderBy('client_id').execute();
  }

  row(clientId: string): Promise<ClientRow | undefined> {
    return this.db.selectFrom('oidc_clients').select(CLIENT_COLUMNS).where('client_id', '=', clientId).executeTakeFirst();
  }

  /** Registers a client from the console; false when the id is taken (nothing changed). */
  async insert(client: { clientId: string; metadata: Record<string, unknown>; secretDigest: string | null; policy: AccessPolicy }): Promise<boolean> {
    const inserted = await this.db.insertInto('oidc_clients').values({
      client_id: client.clientId,
      metadata: JSON.stringify(client.metadata),
      secret_digest: client.secretDigest,
      access_policy: JSON.stringify(client.policy),
      source: 'console',
      policy_source: 'console',
    }).onConflict((conflict) => conflict.column('client_id').doNothing()).returning('client_id').executeTakeFirst();
    await this.changed([client.clientId]);
    return inserted !== undefined;
  }

  /**
   * Replaces a console client's metadata (never a file client's: the next start would put
   * the file's back). False when there is no such console client.
   */
  async replaceMetadata(clientId: string, metadata: Record<string, unknown>): Promise<boolean> {
    const done = await this.db.updateTable('oidc_clients')
      .set({ metadata: JSON.stringify(metadata), updated_at: new Date() })
      .where('client_id', '=', clientId).where('source', '=', 'console')
      .executeTakeFirst();
    await this.changed([clientId]);
    return done.numUpdatedRows > 0n;
  }

  /** Replaces a console client's secret digest; the old secret fails from the next request, on every instance. */
  async replaceSecretDigest(clientId: string, secretDigest: string): Promise<boolean> {
    const done = await this.db.updateTable('oidc_clients')
      .set({ secret_digest: secretDigest, updated_at: new Date() })
      .where('client_id', '=', clientId).where('source', '=', 'console').where('secret_digest', 'is not', null)
      .executeTakeFirst();
    await this.changed([clientId]);
    return done.numUpdatedRows > 0n;
  }

  /** The client's access policy, or undefined for an unknown client; a change applies to the next request. */
  async currentPolicy(clientId: string): Promise<AccessPolicy | undefined> {
    return (await this.cached(clientId)).policy;
  }

  /** The client's access policy when it is known and valid; undefined otherwise. */
  async validPolicy(clientId: string): Promise<AccessPolicy | undefined> {
    const { policy } = await this.cached(clientId);
    return policy === REFUSE_EVERYONE ? undefined : policy;
  }

  /**
   * Replaces a client's access policy (see ClientPolicies for the validated, audited edit).
   * Returns the policy before and after, or undefined for an unknown client.
   */
  async replacePolicy(clientId: string, after: AccessPolicy): Promise<{ before: AccessPolicy; after: AccessPolicy } | undefined> {
    this.cache.delete(clientId);
    const before = await this.currentPolicy(clientId);
    if (!before) return undefined;
    await this.db.updateTable('oidc_clients')
      .set({ access_policy: JSON.stringify(after), policy_source: 'console', updated_at: new Date() })
      .where('client_id', '=', clientId)
      .execute();
    await this.changed([clientId]);
    return { before, after };
  }
}
