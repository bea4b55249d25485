import { errors, interactionPolicy, type Account, type Configuration, type FindAccount, type KoaContextWithOIDC } from 'oidc-provider';
import type { ActingAs, ActingAuthority, ActingChoice, ClientLegalPolicy } from '../delegation/acting-authority.js';
import { sameChoice } from '../delegation/acting-authority.js';
import type { Catalogue } from '../delegation/scope.js';
import type { ClientRegistry } from './clients.js';
import type { EntityType } from './policy-check.js';
import { oncePerRequest } from '../request-scope.js';

/**
 * Acting for an enterprise (法人) in tokens.
 *
 * After a citizen authenticates, the `select_account` prompt asks whom they act as when
 * they hold authority, for an enterprise, that covers the requesting client; the answer
 * is the interaction result `select_account` (see `actAsEnterprise`). It is bound to the
 * oidc-provider Grant (table acting_identities), so every token of that Grant carries it,
 * and it is checked again whenever a token is issued or used: code exchange, refresh and
 * userinfo find no account once the authority behind it is cancelled or expired.
 *
 * A client asks for a kind of identity with the authorization parameter
 * `entity_type=natural` (never offered an enterprise) or `entity_type=legal` (only
 * enterprises offered); `prompt=select_account` asks again without signing out.
 */
export const ENTITY_TYPE_PARAM = 'entity_type';
export const CHOICE_PROMPT = 'select_account';

export type RequestedKind = 'natural' | 'legal' | undefined;

export function requestedKind(params: Record<string, unknown> | undefined): RequestedKind {
  const value = params?.[ENTITY_TYPE_PARAM];
  return value === 'natural' || value === 'legal' ? value : undefined;
}

/**
 * The interaction result that makes a login act as an enterprise by root authority.
 * The enterprise-account login merges it into its result:
 * `interactionResult(req, res, { login: {...}, ...actAsEnterprise(enterpriseId) })`.
 * The representative's root authority is checked when the Grant is bound, and again at every token.
 */
export function actAsEnterprise(enterpriseId: string, delegationGrantId: string | null = null): { [CHOICE_PROMPT]: ActingChoice } {
  return { [CHOICE_PROMPT]: { entity_type: 'legal', enterprise_id: enterpriseId, delegation_grant_id: delegationGrantId } };
}

export function actAsSelf(): { [CHOICE_PROMPT]: ActingChoice } {
  return { [CHOICE_PROMPT]: { entity_type: 'natural' } };
}

/** The legal-person claims of tokens: `org` and `authority` for this client. */
export function legalClaims(acting: ActingAs) {
  return {
    entity_type: 'legal' as const,
    org: { uscc: acting.enterprise.uscc, name: acting.enterprise.name, type: acting.enterprise.type },
    authority: {
      role: acting.role,
      level: acting.level,
      service_items: acting.serviceItems,
      valid_until: acting.validUntil ? acting.validUntil.toISOString() : null,
    },
  };
}

/** A client's stance on legal persons, from its access policy. */
export function clientLegalPolicy(clients: ClientRegistry): ClientLegalPolicy {
  return async (clientId) => {
    const policy = await clients.validPolicy(clientId);
    if (!policy) return undefined;
    return {
      acceptsLegal: policy.entity_types.includes('legal'),
      serviceItems: policy.service_items.map((item) => item.code),
      acceptsNatural: policy.entity_types.includes('natural'),
    };
  };
}

/** The service items delegation may draw on: those of clients that take legal persons. */
export function serviceCatalogue(clients: ClientRegistry) {
  const legal = clientLegalPolicy(clients);
  return async (clientIds: string[]): Promise<Catalogue> => {
    const catalogue: Catalogue = new Map();
    for (const clientId of new Set(clientIds)) {
      const policy = await legal(clientId);
      if (policy?.acceptsLegal) catalogue.set(clientId, new Set(policy.serviceItems));
    }
    return catalogue;
  };
}

/**
 * Whom the access policy judges at an authorization (configuration/policy.ts): the
 * identity chosen in this interaction, else the one the Grant acts as, else, before any
 * choice, a legal person when an enterprise will be offered to this person for this client
 * (so a client only for legal persons offers the choice instead of refusing), else the person.
 */
export function actingEntityType(acting: ActingAuthority) {
  return async (ctx: KoaContextWithOIDC): Promise<EntityType> => {
    const { oidc } = ctx;
    const chosen = (oidc.result as Record<string, unknown> | undefined)?.[CHOICE_PROMPT] as ActingChoice | undefined;
    if (chosen) return chosen.entity_type;
    const grant = oidc.entities.Grant;
    const bound = grant ? await acting.bindingOf(grant.jti) : undefined;
    if (bound) return bound.entity_type;
    const accountId = oidc.session?.accountId;
    if (!accountId || !oidc.client || requestedKind(oidc.params as Record<string, unknown>) === 'natural') return 'natural';
    return (await optionsInRequest(acting, accountId, oidc.client.clientId)).length > 0 ? 'legal' : 'natural';
  };
}

/** The access policy and the choice prompt both ask this in the same authorization request. */
function optionsInRequest(acting: ActingAuthority, accountId: string, clientId: string) {
  return oncePerRequest(`acting-options:${accountId}:${clientId}`, () => acting.options(accountId, clientId));
}

/** Ends a token's payload (`exp`) no later than the `authority.valid_until` it carries (legalClaims). */
export function capAtAuthorityEnd(payload: Record<string, unknown>): void {
  const until = (payload.authority as { valid_until?: unknown } | undefined)?.valid_until;
  if (typeof until !== 'string' || typeof payload.exp !== 'number') return;
  const end = Math.floor(Date.parse(until) / 1000);
  if (Number.isFinite(end) && end < payload.exp) payload.exp = end;
}

type TokenLike = { grantId?: string; clientId?: string; accountId?: string };

/**
 * What the Grant behind a token acts as now: natural, an enterprise, or nothing (authority
 * gone, or a person acting as themself at a client that now takes only legal persons).
 */
function actingFor(acting: ActingAuthority, token: TokenLike | undefined): Promise<ActingAs | 'natural' | 'void'> {
  const { grantId, clientId, accountId } = token ?? {};
  if (!grantId || !clientId) return Promise.resolve('natural');
  // A token request asks this for the account, for the token's claims and for the ID token.
  return oncePerRequest(`acting-for:${grantId}:${clientId}:${accountId}`, () => actingForNow(acting, { grantId, clientId, accountId }));
}

/** Whether a token's grant still acts as what it was issued as (see actingFor): false once its authority is gone. */
export async function actsNow(acting: ActingAuthority, token: TokenLike): Promise<boolean> {
  return await actingFor(acting, token) !== 'void';
}

async function actingForNow(acting: ActingAuthority, token: TokenLike & { grantId: string; clientId: string }): Promise<ActingAs | 'natural' | 'void'> {
  const binding = await acting.bindingOf(token.grantId);
  if (!binding || binding.entity_type === 'natural') return await acting.acceptsNatural(token.clientId) ? 'natural' : 'void';
  if (binding.account_id !== token.accountId) return 'void';
  return await acting.resolve(binding.account_id, token.clientId, binding) ?? 'void';
}

/** Wraps the provider's configuration: findAccount, loadExistingGrant, token claims, the choice prompt, the parameter. */
export function applyActingIdentity(configuration: Configuration, acting: ActingAuthority): void {
  const baseFind = configuration.findAccount!;
  const baseLoad = configuration.loadExistingGrant!;

  const findAccount: FindAccount = async (ctx, sub, token) => {
    const account = await baseFind(ctx, sub, token);
    if (!account) return undefined;
    const as = await actingFor(acting, token as TokenLike | undefined);
    if (as === 'void') return undefined;
    if (as === 'natural') {
      // `openid` releases entity_type for the legal persons' sake; for a person it stays a `realname` claim.
      return {
        accountId: account.accountId,
        async claims(use, scope, claims, rejected) {
          const all = await account.claims(use, scope, claims, rejected);
          if (scope.split(' ').includes('realname') || Object.hasOwn(claims ?? {}, 'entity_type')) return all;
          const { entity_type: _omitted, ...rest } = all;
          return rest as typeof all;
        },
      };
    }
    return {
      accountId: account.accountId,
      async claims(...args: Parameters<Account['claims']>) {
        return { ...await account.claims(...args), ...legalClaims(as) };
      },
    };
  };

  async function freshGrant(ctx: KoaContextWithOIDC, from: InstanceType<KoaContextWithOIDC['oidc']['provider']['Grant']> | undefined) {
    const { oidc } = ctx;
    const grant = new oidc.provider.Grant({ clientId: oidc.client!.clientId, accountId: oidc.session!.accountId });
    if (from) {
      const scope = from.getOIDCScope();
      if (scope) grant.addOIDCScope(scope);
      const claims = from.getOIDCClaims?.() as string[] | undefined;
      if (claims?.length) grant.addOIDCClaims(claims);
      for (const [indicator, scopes] of Object.entries((from as unknown as { resources?: Record<string, string> }).resources ?? {})) grant.addResourceScope(indicator, scopes);
    }
    await grant.save();
    return grant;
  }

  const loadExistingGrant: NonNullable<Configuration['loadExistingGrant']> = async (ctx) => {
    const { oidc } = ctx;
    let grant = await baseLoad(ctx);
    const accountId = oidc.session!.accountId!;
    const clientId = oidc.client!.clientId;
    const chosen = (oidc.result as Record<string, unknown> | undefined)?.[CHOICE_PROMPT] as ActingChoice | undefined;
    const current = grant ? await acting.bindingOf(grant.jti) : undefined;
    if (chosen) {
      if (chosen.entity_type === 'legal' && !await acting.resolve(accountId, clientId, chosen)) {
        throw new errors.AccessDenied('the chosen enterprise authority is not available');
      }
      if (chosen.entity_type === 'natural' && !await acting.acceptsNatural(clientId)) {
        throw new errors.AccessDenied('the client does not accept a natural person');
      }
      // A Grant never changes whom it acts as: its tokens were issued as that.
      if (!grant || (current && !sameChoice(current, chosen)) || (!current && chosen.entity_type === 'legal')) grant = await freshGrant(ctx, grant);
      await acting.bind(grant.jti, accountId, clientId, chosen);
      return grant;
    }
    if (grant && current) {
      const kind = requestedKind(oidc.params as Record<string, unknown>);
      const lapsed = current.entity_type === 'legal'
        ? !await acting.resolve(accountId, clientId, current)
        : !await acting.acceptsNatural(clientId);
      if (lapsed || (kind && kind !== current.entity_type)) grant = await freshGrant(ctx, grant);
    }
    return grant;
  };

  const extraTokenClaims: NonNullable<Configuration['extraTokenClaims']> = async (_ctx, token) => {
    const as = await actingFor(acting, token as TokenLike);
    return typeof as === 'object' ? legalClaims(as) : undefined;
  };

  /** Ask whom the person acts as when they have not chosen for this Grant and an enterprise is on offer. */
  const choice = new interactionPolicy.Prompt(
    { name: CHOICE_PROMPT, requestable: true },
    new interactionPolicy.Check('acting_identity', 'the identity to act as must be chosen', async (ctx) => {
      const { oidc } = ctx;
      const accountId = oidc.session?.accountId;
      if (!accountId || !oidc.client) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      if ((oidc.result as Record<string, unknown> | undefined)?.[CHOICE_PROMPT]) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const grant = oidc.entities.Grant;
      if (grant && await acting.bindingOf(grant.jti)) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const kind = requestedKind(oidc.params as Record<string, unknown>);
      if (kind === 'natural') return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      if (kind === 'legal') return interactionPolicy.Check.REQUEST_PROMPT;
      return (await optionsInRequest(acting, accountId, oidc.client.clientId)).length > 0;
    }),
  );
  // After login, before consent, in whatever policy the provider already has (the access policy's included).
  const policy = (configuration.interactions?.policy as ReturnType<typeof interactionPolicy.base> | undefined) ?? interactionPolicy.base();
  policy.add(choice, policy.findIndex((prompt) => prompt.name === 'login') + 1);

  // Introspection answers `active: false` for a token whose acting authority is gone, expiry included.
  const introspection = configuration.features?.introspection;
  const allowed = introspection?.allowedPolicy;
  if (introspection && allowed) {
    introspection.allowedPolicy = async (ctx, client, token) => await allowed(ctx, client, token) && await actingFor(acting, token as TokenLike) !== 'void';
  }

  // A JWT access token is checked by its resource server alone: it must not outlive the authority it carries.
  const baseJwt = configuration.formats?.customizers?.jwt;
  const jwt: NonNullable<NonNullable<Configuration['formats']>['customizers']>['jwt'] = async (ctx, token, structured) => {
    if (baseJwt) await baseJwt(ctx, token, structured);
    capAtAuthorityEnd(structured.payload);
  };

  configuration.findAccount = findAccount;
  configuration.loadExistingGrant = loadExistingGrant;
  configuration.extraTokenClaims = extraTokenClaims;
  configuration.formats = { ...configuration.formats, customizers: { ...configuration.formats?.customizers, jwt } };
  configuration.extraParams = [...(Array.isArray(configuration.extraParams) ? configuration.extraParams : []), ENTITY_TYPE_PARAM];
  configuration.interactions = { ...configuration.interactions, policy };
}
