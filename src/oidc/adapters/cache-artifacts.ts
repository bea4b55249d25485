import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Cache } from '../../store/cache.js';

// Fallback only: every model has a configured ttl, so oidc-provider always passes one.
const DEFAULT_TTL_SECONDS = 14 * 24 * 3600;

/**
 * Short-lived oidc-provider artifacts (sessions, interactions, codes, opaque access
 * tokens, replay detection) in the cache with their TTL. Secondary lookups (by uid, by
 * user code, by grant) are separate single-key indexes, valid on Redis Cluster.
 */
export class CacheArtifacts implements Adapter {
  constructor(private readonly cache: Cache, private readonly model: string) {}

  private key(id: string) {
    return `oidc:${this.model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
    const ttl = expiresIn && expiresIn > 0 ? Math.ceil(expiresIn) : DEFAULT_TTL_SECONDS;
    const writes: Promise<unknown>[] = [this.cache.putRecord(this.key(id), JSON.stringify(payload), ttl)];
    if (payload.grantId) writes.push(this.cache.addToSet(grantIndexKey(payload.grantId), `${this.model}:${id}`, ttl));
    if (payload.accountId) writes.push(this.cache.addToSet(accountIndexKey(payload.accountId), `${this.model}:${id}`, ttl));
    if (payload.uid) writes.push(this.cache.set(`oidc:${this.model}:uid:${payload.uid}`, id, ttl));
    if (payload.userCode) writes.push(this.cache.set(`oidc:${this.model}:user-code:${payload.userCode}`, id, ttl));
    await Promise.all(writes);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const record = await this.cache.getRecord(this.key(id));
    if (!record) return undefined;
    const payload = JSON.parse(record.value) as AdapterPayload;
    return record.consumedAt === undefined ? payload : { ...payload, consumed: record.consumedAt };
  }

  async findByUid(uid: string) {
    const id = await this.cache.get(`oidc:${this.model}:uid:${uid}`);
    return id ? this.find(id) : undefined;
  }

  async findByUserCode(userCode: string) {
    const id = await this.cache.get(`oidc:${this.model}:user-code:${userCode}`);
    return id ? this.find(id) : undefined;
  }

  /** Atomic: of concurrent redemptions of one code, exactly one passes. */
  async consume(id: string) {
    const outcome = await this.cache.consumeRecord(this.key(id), Math.floor(Date.now() / 1000));
    if (outcome !== 'consumed') throw new errors.InvalidGrant(`${this.model} ${outcome === 'missing' ? 'not found' : 'already consumed'}`);
  }

  async destroy(id: string) {
    await this.cache.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string) {
    const index = grantIndexKey(grantId);
    const prefix = `${this.model}:`;
    const members = (await this.cache.members(index)).filter((member) => member.startsWith(prefix));
    await Promise.all(members.map((member) => this.cache.delete(`oidc:${member}`)));
  }
}

function grantIndexKey(grantId: string) {
  return `oidc:grant:${grantId}`;
}

function accountIndexKey(accountId: string) {
  return `oidc:account:${accountId}`;
}

/** Deletes every short-lived artifact of an account (sessions, codes, access tokens); returns the session ids. */
export async function destroyAccountCacheArtifacts(cache: Cache, accountId: string): Promise<string[]> {
  const members = await cache.members(accountIndexKey(accountId));
  await Promise.all(members.map((member) => cache.delete(`oidc:${member}`)));
  await cache.delete(accountIndexKey(accountId));
  return members.filter((member) => member.startsWith('Session:')).map((member) => member.slice('Session:'.length));
}

/** The live sessions of an account, as stored payloads. */
export async function accountSessions(cache: Cache, accountId: string): Promise<Array<{ id: string; payload: AdapterPayload }>> {
  const members = (await cache.members(accountIndexKey(accountId))).filter((member) => member.startsWith('Session:'));
  const found = await Promise.all(members.map(async (member) => {
    const record = await cache.getRecord(`oidc:${member}`);
    return record ? { id: member.slice('Session:'.length), payload: JSON.parse(record.value) as AdapterPayload } : undefined;
  }));
  return found.filter((entry): entry is { id: string; payload: AdapterPayload } => entry !== undefined);
}
