import type { Configuration } from 'oidc-provider';

export interface SessionLifetimes {
  /** The session ends after this long without an authorization request in it ... */
  idleSeconds: number;
  /** ... and this long after its login at the latest, however busy it is. */
  maxSeconds: number;
}

/**
 * oidc-provider stores the session again, with this lifetime, on every request that uses
 * it: so each use grants `idleSeconds` more, but never past `maxSeconds` after the login.
 * The store's TTL does the expiring; a new login (prompt=login, max_age, step-up) restarts
 * both clocks, and the session gets a new id (oidc-provider's resume does that).
 */
export function sessionTtl(lifetimes: SessionLifetimes): NonNullable<NonNullable<Configuration['ttl']>['Session']> {
  return (_ctx, session) => {
    const loginTs = (session as { loginTs?: number }).loginTs;
    if (typeof loginTs !== 'number') return lifetimes.idleSeconds;
    const untilCap = loginTs + lifetimes.maxSeconds - Math.floor(Date.now() / 1000);
    return Math.max(1, Math.min(lifetimes.idleSeconds, untilCap));
  };
}
