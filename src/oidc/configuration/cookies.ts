import type { Configuration } from 'oidc-provider';

/**
 * HttpOnly and signed always; Secure whenever the issuer is served over https.
 *
 * The session cookie is `SameSite=None` on https, so that a relying party's cross-site
 * form post to the authorization or end-session endpoint (both must accept POST) carries
 * the single sign-on session, as a GET navigation does. Browsers accept `None` only with
 * `Secure`, so an http issuer (development) keeps `Lax` and serves those endpoints by GET
 * only. What `Lax` also did, keeping other sites' posts from acting on the session, every
 * form here does with its own CSRF token, and oidc-provider's logout confirmation with its
 * `xsrf`. The interaction cookies are set and read on our own site only: they stay `Lax`.
 */
export function cookies(keys: string[], secure: boolean): NonNullable<Configuration['cookies']> {
  return {
    keys,
    names: { session: '_session', interaction: '_interaction', resume: '_interaction_resume' },
    long: { httpOnly: true, sameSite: secure ? 'none' : 'lax', secure, signed: true },
    short: { httpOnly: true, sameSite: 'lax', secure, signed: true },
  };
}
