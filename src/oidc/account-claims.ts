import type { Client, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import type { Accounts } from '../identity/accounts.js';
import { maskIdNumber, maskName, maskPhone } from '../identity/masking.js';
import { NOTHING_RELEASED, type Release } from '../identity/release.js';
import { policyOfClient } from './access-policy.js';

/** `+8613800138000`: OpenID Connect asks for E.164. */
function e164(phone: string): string {
  return `+86${phone}`;
}

/**
 * What a client may have whole, by its access policy: the full ID number, phone number and
 * name (the rest see them masked), and the account id when its `sub` is that id.
 */
export function releaseTo(client: Client): Release {
  const policy = policyOfClient(client);
  return {
    idNumber: policy.release_id_number, phone: policy.release_phone_number, name: policy.release_name,
    accountId: client.subjectType !== 'pairwise',
  };
}

function releaseOf(ctx: KoaContextWithOIDC | undefined): Release {
  const client = ctx?.oidc?.client;
  return client ? releaseTo(client) : NOTHING_RELEASED;
}

/**
 * How oidc-provider finds an account and its claims. Only active accounts exist for the
 * provider: a banned or deregistered account yields nothing, so its tokens stop working.
 */
export function findAccount(accounts: Accounts, readGrantWithAccount?: (grantId: string) => Promise<unknown>): FindAccount {
  return async (ctx, sub, token) => {
    // With a token, its Grant is read next: one query reads the Grant and the account.
    const grantId = (token as { grantId?: string } | undefined)?.grantId;
    if (grantId && readGrantWithAccount && !accounts.claimsSourceLeft(sub)) await readGrantWithAccount(grantId);
    const row = await accounts.claimsSource(sub);
    if (!row || row.status !== 'active') return undefined;
    return {
      accountId: row.id,
      // Only what the granted scopes (or an explicit claims request) can release is decrypted.
      async claims(_use, scope, requested) {
        const wanted = (claim: string, scopeName: string) => scope.split(' ').includes(scopeName) || Object.hasOwn(requested ?? {}, claim);
        const name = wanted('name', 'profile') || wanted('name_masked', 'profile') ? accounts.openField(row, 'name') : undefined;
        const phone = wanted('phone_number', 'phone') ? accounts.openField(row, 'phone') : undefined;
        const idNumber = wanted('id_number_masked', 'realname') || wanted('id_number', 'id_number') ? accounts.openField(row, 'id_number') : undefined;
        const release = releaseOf(ctx);
        return {
          sub: row.id,
          ...(name ? (release.name ? { name } : { name_masked: maskName(name) }) : {}),
          ...(phone ? { ...(release.phone ? { phone_number: e164(phone) } : { phone_number_masked: maskPhone(phone) }), phone_number_verified: true } : {}),
          ...(idNumber ? { id_number_masked: maskIdNumber(idNumber) } : {}),
          assurance_level: row.assurance_level,
          entity_type: 'natural',
          ...(idNumber && release.idNumber ? { id_number: idNumber } : {}),
        };
      },
    };
  };
}

export function acrFor(assuranceLevel: number): string {
  return `urn:civic-idp:loa:${Math.max(2, Math.min(3, assuranceLevel))}`;
}
