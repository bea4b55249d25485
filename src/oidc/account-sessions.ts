import type { KeyedDigest } from '../crypto/digest.js';
import type { Cache } from '../store/cache.js';
import type { Db } from '../store/db.js';
import { accountSessions, destroyAccountCacheArtifacts } from './adapters/cache-artifacts.js';
import { destroyAccountArtifacts, grantOf, holdingClients } from './adapters/durable-artifacts.js';
import type { BackchannelLogout, SessionAuthorizations } from './backchannel-logout.js';

/** A session as its owner sees it: `handle` names it without revealing the id its cookie carries. */
export interface SessionView {
  handle: string;
  /** When the login happened (ISO 8601), as every answer of the JSON API gives a time. */
  login_at?: string;
  clients: string[];
  amr?: string[];
  current: boolean;
}

/**
 * What the caller is signed in with, and must not lose when it signs out everything else:
 * its SSO session (by id for pages, by uid for a bearer token, whose access token without
 * offline_access lives only as long as that session) with the grants in it, and its grants.
 */
export interface KeepSignedIn {
  sessionId?: string;
  /** The session by its handle: what a job kept for later may hold instead of the id. */
  sessionHandle?: string;
  sessionUid?: string;
  grantIds: string[];
}

/**
 * Everything the provider holds for one account: its SSO sessions (cache) and its grants
 * and refresh tokens (database). Ending a session ends the grants it carries too: deleting
 * the session alone would leave working every offline_access refresh token its logins
 * produced, and a person who signs a device out expects the apps on it signed out too.
 * Revoking all is what a password reset, a ban or deregistration relies on: no session,
 * code, access or refresh token survives it. Every relying party signed in through an
 * ended session is sent a back-channel logout token for it (see backchannel-logout.ts);
 * one that only held a revoked grant (an app whose login session has long expired) is
 * sent one without `sid`, when it does not require `sid`.
 */
export class AccountSessions {
  constructor(private readonly db: Db, private readonly cache: Cache, private readonly digest: KeyedDigest, private readonly backchannel?: BackchannelLogout) {}

  /**
   * An opaque, stable name for a session: its id is what the (signed) session cookie holds,
   * so it is never put in a page or an API answer, even to the session's owner.
   */
  handle(sessionId: string): string {
    return this.digest.digest('session-handle', sessionId).slice(0, 32);
  }

  /**
   * The account's live sessions, newest first. `current` marks the caller's own: the page's
   * session by id, or the session a bearer token was issued in by its uid.
   */
  async list(accountId: string, current: { sessionId?: string; sessionUid?: string } = {}): Promise<SessionView[]> {
    const sessions = await accountSessions(this.cache, accountId);
    // Newest first: ISO 8601 times of one format sort as the times do.
    return sessions.map(({ id, payload }) => ({
      handle: this.handle(id),
      ...(typeof payload.loginTs === 'number' ? { login_at: new Date(payload.loginTs * 1000).toISOString() } : {}),
      clients: Object.keys((payload.authorizations as Record<string, unknown> | undefined) ?? {}),
      ...(Array.isArray(payload.amr) ? { amr: payload.amr as string[] } : {}),
      current: id === current.sessionId || (current.sessionUid !== undefined && payload.uid === current.sessionUid),
    })).sort((a, b) => (b.login_at ?? '').localeCompare(a.login_at ?? ''));
  }

  /** The grants a session's logins created, one per client it signed in to. */
  private grantsOf(payload: Record<string, unknown>): string[] {
    const authorizations = (payload.authorizations ?? {}) as Record<string, { grantId?: string }>;
    return Object.values(authorizations).map((a) => a.grantId).filter((id): id is string => typeof id === 'string');
  }

  /** Ends the account's session named by `handle`, and its grants; false when there is none. */
  async endByHandle(accountId: string, handle: string): Promise<{ ended: boolean; grants: string[] }> {
    const sessions = await accountSessions(this.cache, accountId);
    const session = sessions.find((s) => this.handle(s.id) === handle);
    if (!session) return { ended: false, grants: [] };
    const grants = this.grantsOf(session.payload);
    await this.cache.delete(`oidc:Session:${session.id}`);
    await this.revokeGrants(grants);
    await this.tellClients(accountId, [session.payload]);
    return { ended: true, grants };
  }

  /**
   * Ends every session of the account but `keep.sessionId`, and revokes every grant (so
   * every refresh and access token) but `keep.grantIds`, including grants whose session
   * has long expired: an app's thirty-day refresh token outlives the login that made it.
   */
  async revokeOthers(accountId: string, keep: KeepSignedIn): Promise<{ sessions: number; grants: number }> {
    const all = await accountSessions(this.cache, accountId);
    const isKept = (s: (typeof all)[number]) => s.id === keep.sessionId || (keep.sessionHandle !== undefined && this.handle(s.id) === keep.sessionHandle)
      || (keep.sessionUid !== undefined && s.payload.uid === keep.sessionUid);
    const sessions = all.filter((s) => !isKept(s));
    await Promise.all(sessions.map((s) => this.cache.delete(`oidc:Session:${s.id}`)));
    const rows = await this.db.selectFrom('oidc_artifacts').select(['model', 'id', 'grant_id', 'payload', 'expires_at'])
      .where('account_id', '=', accountId).execute();
    const kept = new Set([...keep.grantIds, ...all.filter(isKept).flatMap((s) => this.grantsOf(s.payload))]);
    const grants = new Set<string>([
      ...sessions.flatMap((s) => this.grantsOf(s.payload)),
      ...rows.map(grantOf).filter((id): id is string => Boolean(id)),
    ].filter((id) => !kept.has(id)));
    await this.revokeGrants([...grants]);
    // A logout token without sid ends every session the client has for the person: not for the clients still signed in.
    const keptClients = new Set(all.filter(isKept).flatMap((s) => Object.keys((s.payload.authorizations as Record<string, unknown> | undefined) ?? {})));
    const holders = holdingClients(rows.filter((row) => grants.has(grantOf(row) ?? ''))).filter((clientId) => !keptClients.has(clientId));
    await this.tellClients(accountId, sessions.map((s) => s.payload), holders);
    return { sessions: sessions.length, grants: grants.size };
  }

  /** Revokes every session, grant, code and token of the account; returns what was ended. */
  async revokeAll(accountId: string): Promise<{ sessions: string[]; grants: string[] }> {
    const live = await accountSessions(this.cache, accountId);
    const { grants, clients } = await destroyAccountArtifacts(this.db, accountId);
    const sessions = await destroyAccountCacheArtifacts(this.cache, accountId);
    await this.revokeGrants(grants);
    await this.tellClients(accountId, live.map((s) => s.payload), clients);
    return { sessions, grants };
  }

  /**
   * Back-channel logout, once everything is really ended, to the clients of ended sessions
   * and to `grantHolders`, the clients whose revoked grants no ended session carried.
   */
  private async tellClients(accountId: string, ended: Array<Record<string, unknown>>, grantHolders: string[] = []): Promise<void> {
    if (!this.backchannel || (ended.length === 0 && grantHolders.length === 0)) return;
    await this.backchannel.sessionsEnded(accountId, ended.map((payload) => ({ authorizations: payload.authorizations as SessionAuthorizations | undefined })), grantHolders);
  }

  /**
   * Ends particular logins (grants), of any accounts, without ending the SSO sessions they
   * were made in: a delegation cancelled, an enterprise deregistered, its representative
   * replaced. Every client that held one is sent a back-channel logout token, with the
   * `sid` of the session that carries the login when there is one, so it can end exactly
   * that login and keep the person's other ones. A login already ended is not announced
   * again, though a session may still name it. Returns the logins that were still alive.
   */
  async endLogins(grantIds: string[]): Promise<string[]> {
    if (grantIds.length === 0) return [];
    const rows = await this.db.selectFrom('oidc_artifacts').select(['model', 'id', 'grant_id', 'payload', 'expires_at', 'account_id'])
      .where((eb) => eb.or([eb.and([eb('model', '=', 'Grant'), eb('id', 'in', grantIds)]), eb('grant_id', 'in', grantIds)]))
      .execute();
    const ended = new Set(rows.map(grantOf).filter((id): id is string => id !== undefined));
    await this.revokeGrants(grantIds);
    const accounts = new Set(rows.map((row) => row.account_id).filter((id): id is string => typeof id === 'string'));
    await Promise.all([...accounts].map(async (accountId) => {
      const carrying = (await accountSessions(this.cache, accountId)).map(({ payload }) => ({
        authorizations: Object.fromEntries(Object.entries((payload.authorizations ?? {}) as Record<string, { grantId?: string; sid?: string }>)
          .filter(([, authorization]) => authorization.grantId !== undefined && ended.has(authorization.grantId))),
      }));
      await this.backchannel?.sessionsEnded(accountId, carrying, holdingClients(rows.filter((row) => row.account_id === accountId)));
    }));
    return [...ended];
  }

  /** Deletes grants and everything issued under them, durable (refresh tokens) and cached (codes, access tokens). */
  async revokeGrants(grantIds: string[]): Promise<void> {
    if (grantIds.length === 0) return;
    await this.db.deleteFrom('oidc_artifacts')
      .where((eb) => eb.or([eb.and([eb('model', '=', 'Grant'), eb('id', 'in', grantIds)]), eb('grant_id', 'in', grantIds)]))
      .execute();
    await Promise.all(grantIds.map(async (grantId) => {
      const members = await this.cache.members(`oidc:grant:${grantId}`);
      await Promise.all(members.map((member) => this.cache.delete(`oidc:${member}`)));
      await this.cache.delete(`oidc:grant:${grantId}`);
    }));
  }
}
