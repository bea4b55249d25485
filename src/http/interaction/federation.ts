import { formBody } from '../body.js';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import { z } from 'zod';
import type { RequestMeta } from '../../audit/audit-log.js';
import { AppError } from '../../errors.js';
import type { FederatedLogin } from '../../federation/federated-login.js';
import type { PendingLogin, PendingLogins } from '../../flows/pending-login.js';
import type { Locale } from '../../i18n/messages.js';
import { acrFor } from '../../oidc/account-claims.js';
import type { CsrfTokens } from '../csrf.js';
import { noStore } from '../middleware/security-headers.js';
import type { PageRenderer } from '../render.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { finishInteraction, loadInteraction } from './details.js';
import { continueLogin } from './pending-steps.js';
import { unlessStoreFault } from '../../store/faults.js';

export interface FederationRouteDependencies {
  provider: () => Provider;
  pages: PageRenderer;
  csrf: CsrfTokens;
  federation: FederatedLogin;
  pending: PendingLogins;
  agreementVersion: string;
}

/** What the local login pages need from federation: the upstreams to offer, and the link after a local login. */
export interface FederationHooks {
  loginPage(interactionUid: string): Promise<Record<string, unknown>>;
  afterLocalLogin(interactionUid: string, accountId: string, meta: RequestMeta): Promise<void>;
}

export function federationHooks(federation: FederatedLogin): FederationHooks {
  return {
    async loginPage(interactionUid) {
      const upstreams = federation.list();
      if (upstreams.length === 0) return {};
      const view = await federation.firstLoginView(interactionUid).catch(unlessStoreFault(() => undefined));
      return { upstreams, ...(view?.linking ? { federationLinking: view.upstream.displayName } : {}) };
    },
    afterLocalLogin: (interactionUid, accountId, meta) => federation.afterLocalLogin(interactionUid, accountId, meta),
  };
}

const upstreamId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/);
const startForm = z.object({ csrf: z.string(), upstream: upstreamId });
const createForm = z.object({ csrf: z.string(), accept_agreement: z.literal('yes').optional() });
const csrfOnly = z.object({ csrf: z.string() });

/**
 * Login through an upstream identity provider. The upstream returns to one fixed URL per
 * upstream (`/federation/<id>/callback`, registered there); that URL only finds which login
 * the state belongs to and sends the browser on to it, because the interaction cookie is
 * scoped to `/interaction/<uid>`. There the state is checked against the browser's own
 * interaction and used up, and the code is redeemed.
 */
export function federationRoutes(deps: FederationRouteDependencies): Router {
  const router = new Router();
  const form = formBody();

  const load = (ctx: Context) => loadInteraction(deps.provider(), ctx, 'login');

  async function login(ctx: Context, uid: string, accountId: string, assuranceLevel: number): Promise<void> {
    await deps.pending.clear(uid);
    await finishInteraction(deps.provider(), ctx, { login: { accountId, acr: acrFor(assuranceLevel), amr: ['fed'], remember: true } });
  }

  async function firstLoginPage(ctx: Context, uid: string, error?: AppError): Promise<void> {
    const locale = ctx.state.locale as Locale;
    const view = await deps.federation.firstLoginView(uid);
    deps.pages.render(ctx, 'federation-first', locale, {
      uid,
      csrf: deps.csrf.issue(uid),
      upstreamName: view.upstream.displayName[locale],
      view,
      agreementVersion: deps.agreementVersion,
      ...(error ? { error: { code: error.code, message: error.messageIn(locale) } } : {}),
    }, error?.status ?? 200);
  }

  router.use(noStore);

  router.post('/interaction/:uid/federation/start', form, async (ctx) => {
    const details = await load(ctx);
    const input = parseInput(startForm, ctx.request.body);
    deps.csrf.verify(details.uid, input.csrf);
    const uiLocales = typeof details.params.ui_locales === 'string' ? details.params.ui_locales : undefined;
    ctx.status = 303;
    ctx.redirect(await deps.federation.begin(details.uid, input.upstream, { uiLocales }));
  });

  router.get('/federation/:upstream/callback', async (ctx) => {
    const uid = await deps.federation.locate(String(ctx.params.upstream), ctx.querystring, requestMeta(ctx));
    ctx.status = 303;
    ctx.redirect(`/interaction/${encodeURIComponent(uid)}/federation/${encodeURIComponent(String(ctx.params.upstream))}/return?${ctx.querystring}`);
  });

  router.get('/interaction/:uid/federation/:upstream/return', async (ctx) => {
    const details = await load(ctx);
    const outcome = await deps.federation.finish(details.uid, String(ctx.params.upstream), ctx.querystring, requestMeta(ctx));
    if (outcome.kind === 'login') {
      const { kind: _kind, ...first } = outcome;
      const pending: PendingLogin = { ...first, amr: ['fed'], totpDone: false };
      return continueLogin(ctx, deps.pending, details.uid, pending, () => login(ctx, details.uid, outcome.accountId, outcome.assuranceLevel));
    }
    ctx.status = 303;
    ctx.redirect(`/interaction/${details.uid}/federation`);
  });

  router.get('/interaction/:uid/federation', async (ctx) => {
    const details = await load(ctx);
    await firstLoginPage(ctx, details.uid);
  });

  router.post('/interaction/:uid/federation/create', form, async (ctx) => {
    const details = await load(ctx);
    const input = parseInput(createForm, ctx.request.body);
    deps.csrf.verify(details.uid, input.csrf);
    try {
      const created = await deps.federation.createAccount(details.uid, { agreed: input.accept_agreement === 'yes' }, requestMeta(ctx));
      await login(ctx, details.uid, created.accountId, created.assuranceLevel);
    } catch (error) {
      if (!(error instanceof AppError) || !['agreement_required', 'already_registered'].includes(error.code)) throw error;
      await firstLoginPage(ctx, details.uid, error);
    }
  });

  router.post('/interaction/:uid/federation/link', form, async (ctx) => {
    const details = await load(ctx);
    const input = parseInput(csrfOnly, ctx.request.body);
    deps.csrf.verify(details.uid, input.csrf);
    await deps.federation.chooseLink(details.uid);
    ctx.status = 303;
    ctx.redirect(`/interaction/${details.uid}`);
  });

  return router;
}
