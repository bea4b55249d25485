import Router from '@koa/router';
import type { Middleware } from 'koa';
import { noStore } from '../middleware/security-headers.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { bearerGuard, principalOf } from '../account/api.js';
import type { DelegationDependencies } from './routes.js';
import { delegationSchemas, granteeRef } from './schemas.js';
import { presenter } from './present.js';

/** Delegation (授权) as JSON for the app and the mini-program: the same services and rules as the pages. */
export function delegationApi(deps: DelegationDependencies, json: Middleware): Router {
  const router = new Router({ prefix: '/api/v1/delegations' });
  const d = deps.delegations;

  router.use(noStore);
  router.use(bearerGuard(deps));

  router.get('/', async (ctx) => {
    const who = principalOf(ctx).accountId;
    const show = presenter(deps.accounts);
    const mine = await d.mine(who);
    ctx.body = {
      enterprises: (await d.enterprisesOf(who)).map((e) => ({ ...show.enterprise(e.enterprise), role: e.role })),
      held: await Promise.all(mine.held.map((g) => show.grant(g))),
      granted: await Promise.all(mine.granted.map((g) => show.grant(g))),
    };
  });

  router.post('/', json, async (ctx) => {
    const input = parseInput(delegationSchemas.grant, ctx.request.body);
    const grant = await d.grant(principalOf(ctx).accountId, {
      enterpriseId: input.enterprise_id, parentId: input.parent_id, grantee: granteeRef(input.grantee), scope: input.scope,
      validFrom: input.valid_from, validUntil: input.valid_until, mayRedelegate: input.may_redelegate,
    }, requestMeta(ctx));
    ctx.status = 201;
    ctx.body = await presenter(deps.accounts).grant(grant);
  });

  router.get('/requests', async (ctx) => {
    const show = presenter(deps.accounts);
    const requests = await d.requests(principalOf(ctx).accountId);
    ctx.body = { mine: await Promise.all(requests.mine.map(show.request)), to_decide: await Promise.all(requests.to_decide.map(show.request)) };
  });

  router.post('/requests', json, async (ctx) => {
    const input = parseInput(delegationSchemas.request, ctx.request.body);
    const request = await d.request(principalOf(ctx).accountId, {
      uscc: input.uscc, scope: input.scope, validFrom: input.valid_from, validUntil: input.valid_until, reason: input.reason,
    }, requestMeta(ctx));
    ctx.status = 201;
    ctx.body = await presenter(deps.accounts).request(request);
  });

  router.post('/requests/:requestId/approve', json, async (ctx) => {
    const input = parseInput(delegationSchemas.approve, ctx.request.body ?? {});
    const grant = await d.approve(principalOf(ctx).accountId, ctx.params.requestId ?? '', {
      parentId: input.parent_id, scope: input.scope, validFrom: input.valid_from, validUntil: input.valid_until, mayRedelegate: input.may_redelegate,
    }, requestMeta(ctx));
    ctx.status = 201;
    ctx.body = await presenter(deps.accounts).grant(grant);
  });

  router.post('/requests/:requestId/reject', async (ctx) => {
    await d.reject(principalOf(ctx).accountId, ctx.params.requestId ?? '', requestMeta(ctx));
    ctx.status = 204;
  });

  router.get('/enterprises/:enterpriseId', async (ctx) => {
    const show = presenter(deps.accounts);
    const tree = await d.tree(principalOf(ctx).accountId, ctx.params.enterpriseId ?? '');
    ctx.body = { enterprise: show.enterprise(tree.enterprise), grants: await Promise.all(tree.grants.map((g) => show.grant(g))) };
  });

  router.get('/:grantId', async (ctx) => {
    const history = await d.history(principalOf(ctx).accountId, ctx.params.grantId ?? '');
    ctx.body = {
      grant: await presenter(deps.accounts).grant(history.grant),
      history: history.events.map((e) => ({ at: new Date(e.at).toISOString(), action: e.action, details: e.details })),
    };
  });

  router.patch('/:grantId', json, async (ctx) => {
    const input = parseInput(delegationSchemas.change, ctx.request.body);
    const grant = await d.change(principalOf(ctx).accountId, ctx.params.grantId ?? '', {
      version: input.version, scope: input.scope, validFrom: input.valid_from, validUntil: input.valid_until, mayRedelegate: input.may_redelegate,
    }, requestMeta(ctx));
    ctx.body = await presenter(deps.accounts).grant(grant);
  });

  router.post('/:grantId/cancel', json, async (ctx) => {
    const input = parseInput(delegationSchemas.cancel, ctx.request.body ?? {});
    const revoked = await d.cancel(principalOf(ctx).accountId, ctx.params.grantId ?? '', { version: input.version }, requestMeta(ctx));
    ctx.body = { revoked };
  });

  return router;
}
