import type { Configuration } from 'oidc-provider';

/**
 * Scopes and the claims they release. `realname` is ours: the masked ID number, how the
 * identity was proven, and whether the subject is a natural or a legal person. The full
 * ID number is a separate claim released only where a client's access policy allows it.
 */
export const claims: NonNullable<Configuration['claims']> = {
  openid: ['sub', 'auth_time', 'acr', 'amr'],
  profile: ['name'],
  phone: ['phone_number', 'phone_number_verified'],
  realname: ['id_number_masked', 'assurance_level', 'entity_type'],
  id_number: ['id_number'],
};

export const scopes = ['openid', 'offline_access', 'profile', 'phone', 'realname', 'id_number'];

export const ACR_VALUES = ['urn:civic-idp:loa:2', 'urn:civic-idp:loa:3'] as const;
