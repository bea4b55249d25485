import type { Configuration } from 'oidc-provider';

/** Lifetimes in seconds. Every artifact has one set explicitly; nothing relies on a library default. */
export const LIFETIMES = {
  accessToken: 15 * 60,
  authorizationCode: 60,
  clientCredentials: 10 * 60,
  idToken: 60 * 60,
  interaction: 60 * 60,
  pushedAuthorizationRequest: 60,
  session: 12 * 60 * 60,
  grant: 30 * 24 * 60 * 60,
  /** Each rotation grants this much again ... */
  refreshTokenSliding: 30 * 24 * 60 * 60,
  /** ... but never past this, counted from the first login. */
  refreshTokenAbsolute: 90 * 24 * 60 * 60,
} as const;

/** The longest any token we sign stays valid: how long a retired signing key must stay published. */
export const LONGEST_SIGNED_TOKEN_SECONDS = Math.max(LIFETIMES.idToken, LIFETIMES.accessToken, LIFETIMES.clientCredentials) + 5 * 60;

export const ttl: NonNullable<Configuration['ttl']> = {
  AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? LIFETIMES.accessToken,
  AuthorizationCode: LIFETIMES.authorizationCode,
  ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? LIFETIMES.clientCredentials,
  IdToken: LIFETIMES.idToken,
  Interaction: LIFETIMES.interaction,
  PushedAuthorizationRequest: LIFETIMES.pushedAuthorizationRequest,
  Session: LIFETIMES.session,
  Grant: LIFETIMES.grant,
  DeviceCode: 10 * 60,
  BackchannelAuthenticationRequest: 10 * 60,
  RefreshToken: (_ctx, token) => {
    const firstIssued = token.iiat ?? token.iat ?? Math.floor(Date.now() / 1000);
    const untilCap = firstIssued + LIFETIMES.refreshTokenAbsolute - Math.floor(Date.now() / 1000);
    return Math.max(1, Math.min(LIFETIMES.refreshTokenSliding, untilCap));
  },
};
