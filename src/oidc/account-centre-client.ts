import type { ClientFileEntry } from './clients.js';
import { accessPolicySchema } from './access-policy.js';

export const ACCOUNT_CENTRE_CLIENT_ID = 'account-centre';

/** Where the provider sends a citizen back after signing in to the account centre. */
export function accountCentreCallback(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/account/callback`;
}

/**
 * The account centre (个人中心) signs citizens in through our own /auth, like any relying
 * party, so login, second factor, lockout and audit are the ones every service gets. It
 * is defined here rather than in CLIENTS_FILE because its redirect URI follows ISSUER.
 * Public with PKCE: it never redeems its codes (see http/account/login.ts), so a
 * secret would protect nothing.
 */
export function accountCentreClient(issuer: string): ClientFileEntry {
  return {
    client_id: ACCOUNT_CENTRE_CLIENT_ID,
    client_name: '个人中心',
    application_type: 'web',
    redirect_uris: [accountCentreCallback(issuer)],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    // The person's own account: never acting for an enterprise, and everything of it shown to them
    // (its pages read it with identity/release.ts OWNER_RELEASE, not through claims).
    access_policy: accessPolicySchema.parse({ entity_types: ['natural'], release_id_number: true, release_phone_number: true, release_name: true }),
  };
}
