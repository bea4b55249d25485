import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { requestMeta } from '../../http/request-meta.js';
import type { ClientAccess, EntityType, RefusalReason, Verdict } from '../policy-check.js';

const { Check, Prompt, base } = interactionPolicy;

/** The prompt whose page says why a client's policy refuses the signed-in person. */
export const POLICY_PROMPT = 'access_policy';
/** The login prompt's reason when the session must be proven again, more strongly. */
export const STEP_UP_REASON = 'policy_step_up';

const REFUSALS: Record<RefusalReason, string> = {
  entity_type: 'the client does not accept this kind of identity',
  account_excluded: 'the access policy of the client does not admit this account',
  assurance_level: 'the assurance level of the account is below what the client requires',
  login_method: 'the client requires a login method this account cannot use here',
};

type AcrClaimRequest = { essential?: boolean; value?: string; values?: string[] };

/** What the request asks for: `acr_values` (or the client's default_acr_values), and essential acr claims. */
function requestedAcrs(ctx: KoaContextWithOIDC): string[] {
  const fromParam = typeof ctx.oidc.params?.acr_values === 'string' ? ctx.oidc.params.acr_values.split(' ').filter(Boolean) : [];
  const claim = (ctx.oidc.claims as { id_token?: { acr?: AcrClaimRequest } } | undefined)?.id_token?.acr;
  const essential = claim?.essential ? [...(claim.value ? [claim.value] : []), ...(Array.isArray(claim.values) ? claim.values : [])] : [];
  return [...fromParam, ...essential];
}

/**
 * Enforces each client's access policy at every authorization: with a login page, through
 * an existing SSO session, and with prompt=none. Two additions to oidc-provider's default
 * interaction policy:
 *
 * - a first prompt, `access_policy`, that stops a signed-in person the policy excludes
 *   (entity type, allow/deny list, an assurance level above the account's, a login method
 *   the account cannot use). Interactively it shows a page that says why; with
 *   prompt=none the client gets `access_denied`.
 * - a check on the login prompt, `policy_step_up`, when the account qualifies but the
 *   session is weaker (a lower acr, or none of the required methods in its amr): the
 *   login page asks for a stronger method; with prompt=none the client gets `login_required`.
 *
 * The acting identity is the natural person until the identity choice (acting for an
 * enterprise) records otherwise; `entityType` is the seam for it (oidc/acting-identity.ts,
 * `actingEntityType`).
 */
export function interactionPolicyFor(access: ClientAccess, entityType: (ctx: KoaContextWithOIDC) => EntityType | Promise<EntityType> = () => 'natural') {
  const verdicts = new WeakMap<KoaContextWithOIDC, Promise<Verdict | undefined>>();

  async function judge(ctx: KoaContextWithOIDC): Promise<Verdict | undefined> {
    const { session, client } = ctx.oidc;
    const accountId = session?.accountId;
    const clientId = client?.clientId;
    if (!session || !accountId || !clientId) return undefined;
    const acting = await entityType(ctx);
    const verdict = await access.judge({
      clientId, accountId, entityType: acting,
      session: { acr: session.acr, amr: session.amr },
      requestedAcrs: requestedAcrs(ctx),
    });
    if (verdict?.outcome === 'refused') await access.recordRefusal({ clientId, accountId, entityType: acting, verdict }, requestMeta(ctx));
    return verdict;
  }

  /** One judgement per request, however many checks ask. */
  function verdictFor(ctx: KoaContextWithOIDC): Promise<Verdict | undefined> {
    let verdict = verdicts.get(ctx);
    if (!verdict) {
      verdict = judge(ctx);
      verdicts.set(ctx, verdict);
    }
    return verdict;
  }

  const details = async (ctx: KoaContextWithOIDC) => {
    const verdict = await verdictFor(ctx);
    return verdict && verdict.outcome !== 'allowed'
      ? { policy_reason: verdict.reason, policy_level: verdict.level, policy_methods: verdict.methods }
      : {};
  };

  const policy = base();
  policy.add(new Prompt(
    { name: POLICY_PROMPT, requestable: false },
    ...Object.entries(REFUSALS).map(([reason, description]) => new Check(
      `policy_${reason}`, description, 'access_denied',
      async (ctx) => {
        const verdict = await verdictFor(ctx);
        return verdict?.outcome === 'refused' && verdict.reason === reason;
      },
      details,
    )),
  ), 0);
  policy.get('login')!.checks.add(new Check(
    STEP_UP_REASON, 'the client requires a stronger authentication than this session has', 'login_required',
    async (ctx) => (await verdictFor(ctx))?.outcome === 'step_up',
    details,
  ));
  return policy;
}
