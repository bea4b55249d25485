import type { FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import type { Accounts } from '../identity/accounts.js';
import { accessPolicySchema } from './access-policy.js';

/** `+8613800138000`: OpenID Connect asks for E.164. */
function e164(phone: string): string {
  return `+86${phone}`;
}

function releasesIdNumber(ctx: KoaContextWithOIDC | undefined): boolean {
  const policy = accessPolicySchema.safeParse((ctx?.oidc?.client as { access_policy?: unknown } | undefined)?.access_policy ?? {});
  return policy.success && policy.data.release_id_number;
}

/**
 * How oidc-provider finds an account and its claims. Only active accounts exist for the
 * provider: a banned or deregistered account yields nothing, so its tokens stop working.
 */
export function findAccount(accounts: Accounts): FindAccount {
  return async (ctx, sub) => {
    const row = await accounts.row(sub);
    if (!row || row.status !== 'active') return undefined;
    return {
      accountId: row.id,
      async claims() {
        const profile = accounts.profileOf(row);
        return {
          sub: row.id,
          name: profile.name,
          ...(profile.phone ? { phone_number: e164(profile.phone), phone_number_verified: true } : {}),
          id_number_masked: profile.masked.idNumber,
          assurance_level: profile.assuranceLevel,
          entity_type: 'natural',
          ...(releasesIdNumber(ctx) ? { id_number: profile.idNumber } : {}),
        };
      },
    };
  };
}

export function acrFor(assuranceLevel: number): string {
  return `urn:civic-idp:loa:${Math.max(2, Math.min(3, assuranceLevel))}`;
}
