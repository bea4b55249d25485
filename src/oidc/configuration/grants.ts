import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { policyOfClient } from '../access-policy.js';

function requiresConsent(ctx: KoaContextWithOIDC): boolean {
  return policyOfClient(ctx.oidc.client!).require_consent;
}

/**
 * The province's own services (the default) are trusted first-party clients: what they ask
 * for is granted without a consent page, so single sign-on needs no click. A client whose
 * policy sets `require_consent` gets the consent page for anything not yet granted.
 */
export const loadExistingGrant: NonNullable<Configuration['loadExistingGrant']> = async (ctx) => {
  const { oidc } = ctx;
  const clientId = oidc.client!.clientId;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(clientId);
  const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (requiresConsent(ctx)) return existing;

  const grant = existing ?? new oidc.provider.Grant({ clientId, accountId: oidc.session!.accountId });
  const scopes = [...oidc.requestParamOIDCScopes];
  if (scopes.length > 0) grant.addOIDCScope(scopes.join(' '));
  const claims = [...oidc.requestParamClaims];
  if (claims.length > 0) grant.addOIDCClaims(claims);
  for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {})) {
    const wanted = [...oidc.requestParamScopes].filter((scope) => (server as unknown as { scopes: Set<string> }).scopes.has(scope));
    if (wanted.length > 0) grant.addResourceScope(indicator, wanted.join(' '));
  }
  await grant.save();
  return grant;
};
