import type { Configuration } from 'oidc-provider';

/**
 * Only asymmetric signatures: client secrets are stored as digests, so nothing may be
 * signed or verified with them (no HS256, no client_secret_jwt).
 */
const ASYMMETRIC = ['ES256', 'RS256', 'PS256'] as const;

export const enabledJWA: NonNullable<Configuration['enabledJWA']> = {
  idTokenSigningAlgValues: ['ES256', 'RS256'],
  userinfoSigningAlgValues: ['ES256', 'RS256'],
  introspectionSigningAlgValues: ['ES256', 'RS256'],
  authorizationSigningAlgValues: ['ES256', 'RS256'],
  requestObjectSigningAlgValues: ASYMMETRIC,
  clientAuthSigningAlgValues: ASYMMETRIC,
  dPoPSigningAlgValues: ['ES256', 'EdDSA', 'RS256', 'PS256'],
};

export const clientAuthMethods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
