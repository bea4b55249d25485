import type { Configuration } from 'oidc-provider';

/**
 * Scopes and the claims they release. `realname` is ours: the masked ID number, how the
 * identity was proven, and whether the subject is a natural or a legal person. The full
 * ID number is a separate claim released only where a client's access policy allows it.
 */
export const claims: NonNullable<Configuration['claims']> = {
  // entity_type, org and authority: whom the login acts as (oidc/acting-identity.ts), in the ID token too.
  openid: ['sub', 'auth_time', 'acr', 'amr', 'entity_type', 'org', 'authority'],
  // The full name only where the client's access policy releases it (release_name); the rest get it masked.
  profile: ['name', 'name_masked'],
  phone: ['phone_number', 'phone_number_masked', 'phone_number_verified'],
  realname: ['id_number_masked', 'assurance_level', 'entity_type'],
  id_number: ['id_number'],
};

/**
 * Lets the app confirm a PC login by QR code (flows/qr-login.ts). It releases no claims; a
 * token carrying it is accepted only from a client that lists it in its registered `scope`.
 */
export const QR_LOGIN_SCOPE = 'qr_login';

/**
 * Opens the person's own account through the JSON APIs (/api/v1/account, enterprises,
 * delegations, re-binding, WeChat bindings). It releases no claims; like qr_login it is
 * granted only to a client that lists it in its registered `scope` (the province's app,
 * mini-program or account centre), never to a department's service.
 */
export const ACCOUNT_SCOPE = 'account';

/** Scopes a client gets only by listing them in its registered `scope`. */
export const FIRST_PARTY_SCOPES: readonly string[] = [ACCOUNT_SCOPE, QR_LOGIN_SCOPE];

export const scopes = ['openid', 'offline_access', 'profile', 'phone', 'realname', 'id_number', ACCOUNT_SCOPE, QR_LOGIN_SCOPE];

/**
 * The `scope` of a client registered without one: every scope but the first-party ones, so
 * that oidc-provider itself refuses a department's request for them (invalid_scope).
 */
export const DEFAULT_CLIENT_SCOPE = scopes.filter((scope) => !FIRST_PARTY_SCOPES.includes(scope)).join(' ');

export const ACR_VALUES = ['urn:civic-idp:loa:2', 'urn:civic-idp:loa:3'] as const;
