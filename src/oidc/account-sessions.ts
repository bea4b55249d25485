import type { Cache } from '../store/cache.js';
import type { Db } from '../store/db.js';
import { accountSessions, destroyAccountCacheArtifacts } from './adapters/cache-artifacts.js';
import { destroyAccountArtifacts } from './adapters/durable-artifacts.js';

export interface SessionSummary {
  id: string;
  /** Epoch seconds of the login that created the session. */
  loginAt?: number;
  clients: string[];
  amr?: string[];
  acr?: string;
}

/**
 * Everything the provider holds for one account: its SSO sessions (cache) and its grants
 * and refresh tokens (database). Revoking here is what a password reset, a ban or
 * deregistration relies on: no session, code, access or refresh token survives it.
 */
export class AccountSessions {
  constructor(private readonly db: Db, private readonly cache: Cache) {}

  async list(accountId: string): Promise<SessionSummary[]> {
    const sessions = await accountSessions(this.cache, accountId);
    return sessions.map(({ id, payload }) => ({
      id,
      loginAt: payload.loginTs as number | undefined,
      clients: Object.keys((payload.authorizations as Record<string, unknown> | undefined) ?? {}),
      amr: payload.amr as string[] | undefined,
      acr: payload.acr as string | undefined,
    })).sort((a, b) => (b.loginAt ?? 0) - (a.loginAt ?? 0));
  }

  /** Ends one session of the account (and only of that account). */
  async end(accountId: string, sessionId: string): Promise<boolean> {
    const sessions = await accountSessions(this.cache, accountId);
    if (!sessions.some((session) => session.id === sessionId)) return false;
    await this.cache.delete(`oidc:Session:${sessionId}`);
    return true;
  }

  /** Revokes every session, grant, code and token of the account; returns what was ended. */
  async revokeAll(accountId: string): Promise<{ sessions: string[]; grants: string[] }> {
    const grants = await destroyAccountArtifacts(this.db, accountId);
    const sessions = await destroyAccountCacheArtifacts(this.cache, accountId);
    await Promise.all(grants.map(async (grantId) => {
      const members = await this.cache.members(`oidc:grant:${grantId}`);
      await Promise.all(members.map((member) => this.cache.delete(`oidc:${member}`)));
    }));
    return { sessions, grants };
  }
}
