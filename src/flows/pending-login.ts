import type { Cache } from '../store/cache.js';
import type { FirstFactorResult } from '../identity/authentication.js';

/**
 * A login whose first factor passed but which still needs a second factor or a new
 * password, kept per interaction. Nothing here is a session: the provider only gets the
 * account once every step is done.
 */
export interface PendingLogin extends FirstFactorResult {
  amr: string[];
  totpDone: boolean;
  /**
   * Enterprise-account login: the representative's own login, acting for this enterprise
   * once it completes. It passes the same second factor and forced change as any other.
   */
  actAs?: { enterpriseId: string };
}

export class PendingLogins {
  constructor(private readonly cache: Cache, private readonly ttlSeconds: number) {}

  private key(interactionUid: string) {
    return `pending-login:${interactionUid}`;
  }

  async save(interactionUid: string, pending: PendingLogin): Promise<void> {
    await this.cache.set(this.key(interactionUid), JSON.stringify(pending), this.ttlSeconds);
  }

  async get(interactionUid: string): Promise<PendingLogin | undefined> {
    const raw = await this.cache.get(this.key(interactionUid));
    return raw ? JSON.parse(raw) as PendingLogin : undefined;
  }

  async clear(interactionUid: string): Promise<void> {
    await this.cache.delete(this.key(interactionUid));
  }
}

/** What remains to do: the second factor first, then the forced password change. */
export function nextStep(pending: PendingLogin): 'totp' | 'password_change' | 'done' {
  if (pending.needsTotp && !pending.totpDone) return 'totp';
  if (pending.mustChangePassword) return 'password_change';
  return 'done';
}
