import type { Configuration } from 'oidc-provider';

/**
 * oidc-provider accepts only S256. PKCE is mandatory for public clients (the app and the
 * mini-program) and used by confidential ones whenever they send it.
 */
export const pkce: NonNullable<Configuration['pkce']> = {
  required: (_ctx, client) => client.clientAuthMethod === 'none',
};
