import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { at } from '../api/common-schemas.js';
import { noStore } from '../middleware/security-headers.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { bearerGuard, principalOf } from './api.js';
import { pageKit, type ShowPage } from './page-kit.js';
import type { AccountCentreDependencies } from './routes.js';

export const wechatSchemas = {
  bind: z.object({ binding_ticket: z.string().min(1).max(128) }).strict(),
};

/** A binding as its owner sees it: the identity masked, never whole (wechat/bindings.ts BindingView). */
const binding = z.object({ id: z.string(), app_id: z.string(), openid_masked: z.string(), bound_at: at, last_login_at: at.nullable() });

export const wechatResponses = { binding, bindings: z.object({ bindings: z.array(binding) }) };

const csrfOnly = z.object({});

/**
 * WeChat bindings in the account centre: the page lists them and unbinds one; the JSON API
 * does the same, and creates a binding from the ticket the WeChat grant handed out, with
 * the access token of the normal login the mini-program just made in its web-view.
 */
export function wechatApi(deps: AccountCentreDependencies, json: Middleware): Router {
  const router = new Router({ prefix: '/api/v1/account/wechat' });
  router.use(noStore);
  router.use(bearerGuard(deps));

  router.get('/', async (ctx) => {
    ctx.body = { bindings: await deps.wechatBindings.list(principalOf(ctx).accountId) };
  });

  router.post('/', json, async (ctx) => {
    const who = principalOf(ctx);
    const input = parseInput(wechatSchemas.bind, ctx.request.body);
    if (!who.clientId) throw new AppError('unauthenticated');
    ctx.status = 201;
    ctx.body = await deps.wechatBindings.bind(who.accountId, who.clientId, input.binding_ticket, requestMeta(ctx));
  });

  router.delete('/:id', async (ctx) => {
    await deps.wechatBindings.unbind(principalOf(ctx).accountId, ctx.params.id ?? '', requestMeta(ctx));
    ctx.status = 204;
  });

  return router;
}

export function wechatPages(deps: AccountCentreDependencies, form: Middleware): Router {
  const router = new Router({ prefix: '/account/wechat' });
  const kit = pageKit({ provider: () => deps.providers.current, accounts: deps.accounts, pages: deps.pages, csrf: deps.csrf });

  const show: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    const notice = ctx.query.done === 'wechat_unbound' ? 'account.done_wechat_unbound' : undefined;
    kit.render(ctx, who, 'account-wechat', { bindings: await deps.wechatBindings.list(who.accountId), notice, ...extra }, status);
  };

  router.use(noStore);

  router.get('/', kit.view((ctx, who) => show(ctx, who)));

  router.post('/:id/unbind', form, kit.action(csrfOnly, show, async (ctx, who) => {
    await deps.wechatBindings.unbind(who.accountId, ctx.params.id ?? '', requestMeta(ctx));
    kit.redirect(ctx, '/account/wechat?done=wechat_unbound');
  }));

  return router;
}
