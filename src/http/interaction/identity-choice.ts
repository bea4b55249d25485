import { formBody } from '../body.js';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import { z } from 'zod';
import type { AuditLog } from '../../audit/audit-log.js';
import type { ActingAs, ActingAuthority } from '../../delegation/acting-authority.js';
import type { Enterprises } from '../../enterprises/enterprises.js';
import { AppError } from '../../errors.js';
import { maskUscc } from '../../identity/masking.js';
import type { Locale } from '../../i18n/messages.js';
import { actAsEnterprise, actAsSelf, CHOICE_PROMPT, requestedKind } from '../../oidc/acting-identity.js';
import type { CsrfTokens } from '../csrf.js';
import { noStore } from '../middleware/security-headers.js';
import type { PageRenderer } from '../render.js';
import { grantEndView } from '../delegation/page-dates.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { finishInteraction, loadInteraction } from './details.js';

export interface IdentityChoiceDependencies {
  provider: () => Provider;
  pages: PageRenderer;
  csrf: CsrfTokens;
  acting: ActingAuthority;
  audit: AuditLog;
  /** Asks the register whether a representative acting for the enterprise still is one. */
  enterprises: Pick<Enterprises, 'confirmRepresentative'>;
}

const choiceForm = z.object({ csrf: z.string(), choice: z.string().min(1).max(100) });

const SELF = 'self';
const valueOf = (option: ActingAs) => `${option.enterprise.id}:${option.delegationGrantId ?? 'root'}`;

/**
 * The identity choice (选择办事身份): after authentication, as themselves or as one of the
 * enterprises whose authority covers this client. Reached when the provider's
 * `select_account` prompt is pending (oidc/acting-identity.ts).
 */
export function identityChoiceRoutes(deps: IdentityChoiceDependencies): Router {
  const router = new Router({ prefix: '/interaction/:uid/identity' });
  const form = formBody();

  async function load(ctx: Context) {
    const details = await loadInteraction(deps.provider(), ctx, CHOICE_PROMPT);
    if (!details.session?.accountId) throw new AppError('wrong_step');
    const clientId = String(details.params.client_id);
    const kind = requestedKind(details.params);
    const options = kind === 'natural' ? [] : await deps.acting.options(details.session.accountId, clientId);
    // A client only for legal persons is never offered "as myself".
    const allowSelf = kind !== 'legal' && await deps.acting.acceptsNatural(clientId);
    return { details, accountId: details.session.accountId, clientId, options, allowSelf };
  }

  async function show(ctx: Context, loaded: Awaited<ReturnType<typeof load>>, error?: AppError) {
    const locale = ctx.state.locale as Locale;
    const client = await deps.provider().Client.find(loaded.clientId);
    deps.pages.render(ctx, 'identity-choice', locale, {
      uid: loaded.details.uid,
      csrf: deps.csrf.issue(loaded.details.uid),
      clientName: client?.clientName ?? loaded.clientId,
      allowSelf: loaded.allowSelf,
      options: loaded.options.map((option) => ({
        value: valueOf(option),
        name: option.enterprise.name,
        uscc: maskUscc(option.enterprise.uscc),
        role: option.role,
        level: option.level,
        // As the delegation pages show it: a grant through 2027-03-31 (ending at the next midnight) reads 2027-03-31.
        until: option.validUntil ? grantEndView(option.validUntil).text : undefined,
      })),
      ...(error ? { error: { code: error.code, message: error.messageIn(locale) } } : {}),
    }, error?.status ?? 200);
  }

  router.use(noStore);

  router.get('/', async (ctx) => show(ctx, await load(ctx)));

  router.post('/', form, async (ctx) => {
    const loaded = await load(ctx);
    const input = parseInput(choiceForm, ctx.request.body);
    deps.csrf.verify(loaded.details.uid, input.csrf);
    const chosen = input.choice === SELF ? undefined : loaded.options.find((option) => valueOf(option) === input.choice);
    if ((input.choice === SELF && !loaded.allowSelf) || (input.choice !== SELF && !chosen)) {
      return show(ctx, loaded, new AppError('identity_choice_invalid'));
    }
    if (chosen?.role === 'legal_representative') {
      // Acting in the enterprise's name as its representative: the register has the last word.
      try {
        await deps.enterprises.confirmRepresentative(chosen.enterprise.id, loaded.accountId, requestMeta(ctx));
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        return show(ctx, await load(ctx), error);
      }
    }
    await deps.audit.append({
      actor: { kind: 'citizen', id: loaded.accountId },
      action: 'login.identity_choice',
      target: chosen ? { kind: 'enterprise', id: chosen.enterprise.id } : { kind: 'account', id: loaded.accountId },
      result: 'success',
      details: {
        client_id: loaded.clientId,
        entity_type: chosen ? 'legal' : 'natural',
        ...(chosen ? { role: chosen.role, level: chosen.level, delegation_grant_id: chosen.delegationGrantId } : {}),
      },
      meta: requestMeta(ctx),
    });
    const result = chosen ? actAsEnterprise(chosen.enterprise.id, chosen.delegationGrantId) : actAsSelf();
    await finishInteraction(deps.provider(), ctx, result);
  });

  return router;
}
