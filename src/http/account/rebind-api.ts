import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { noStore } from '../middleware/security-headers.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { bearerGuard, principalOf } from './api.js';
import type { AccountCentreDependencies } from './routes.js';
import { accountSchemas, captchaOf } from './schemas.js';

/**
 * Changing the bound phone as JSON. The flow id names the flow; it continues only on the
 * API channel and only with the token's grant that started it: not with another login of
 * the same client, nor with another client's token of the same person.
 */
export function rebindApi(deps: AccountCentreDependencies, json: Middleware): Router {
  const router = new Router({ prefix: '/api/v1/account/phone-rebinding' });
  const ref = (ctx: Context) => ({ id: ctx.params.flowId ?? '', channel: 'api' as const });
  const who = (ctx: Context) => principalOf(ctx);
  const rebinding = deps.phoneRebinding;

  router.use(noStore);
  router.use(bearerGuard(deps));

  router.post('/', json, async (ctx) => {
    const input = parseInput(accountSchemas.rebindStart, ctx.request.body);
    ctx.status = 201;
    ctx.body = await rebinding.start(who(ctx), input.path, 'api');
  });

  router.get('/:flowId', async (ctx) => {
    ctx.body = await rebinding.get(ref(ctx), who(ctx));
  });

  router.post('/:flowId/old/code', json, async (ctx) => {
    const input = parseInput(accountSchemas.captchaOnly, ctx.request.body);
    ctx.body = await rebinding.sendOldCode(ref(ctx), who(ctx), { captcha: captchaOf(input) }, requestMeta(ctx));
  });

  router.post('/:flowId/old/verify', json, async (ctx) => {
    const input = parseInput(accountSchemas.code, ctx.request.body);
    ctx.body = await rebinding.verifyOldCode(ref(ctx), who(ctx), { code: input.code });
  });

  router.post('/:flowId/identity', json, async (ctx) => {
    const input = parseInput(accountSchemas.identity, ctx.request.body);
    ctx.body = await rebinding.submitIdentity(ref(ctx), who(ctx), { name: input.name, idNumber: input.id_number });
  });

  router.post('/:flowId/factors', json, async (ctx) => {
    const input = parseInput(accountSchemas.factor, ctx.request.body);
    ctx.body = await rebinding.verifyFactor(ref(ctx), who(ctx), { kind: input.kind, number: input.number, reservedPhone: input.reserved_phone || undefined });
  });

  router.post('/:flowId/new/code', json, async (ctx) => {
    const input = parseInput(accountSchemas.newPhone, ctx.request.body);
    ctx.body = await rebinding.sendNewCode(ref(ctx), who(ctx), { phone: input.phone, captcha: captchaOf(input) }, requestMeta(ctx));
  });

  router.post('/:flowId/new/verify', json, async (ctx) => {
    const input = parseInput(accountSchemas.code, ctx.request.body);
    ctx.body = await rebinding.verifyNewCode(ref(ctx), who(ctx), { code: input.code }, requestMeta(ctx));
  });

  return router;
}
