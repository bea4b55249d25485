import type { Configuration } from 'oidc-provider';

/** HttpOnly and SameSite=Lax always; Secure whenever the issuer is served over https. */
export function cookies(keys: string[], secure: boolean): NonNullable<Configuration['cookies']> {
  return {
    keys,
    names: { session: '_session', interaction: '_interaction', resume: '_interaction_resume' },
    long: { httpOnly: true, sameSite: 'lax', secure, signed: true },
    short: { httpOnly: true, sameSite: 'lax', secure, signed: true },
  };
}
