import { jsonBody } from '../body.js';
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { StaffActor } from '../../staff/roles.js';
import { noStore } from '../middleware/security-headers.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { consoleKit, type ConsoleDependencies } from './console-kit.js';
import { counterEnterpriseInput, enterpriseSchemas } from './enterprise-schemas.js';
import { adminSchemas } from './schemas.js';

const actorOf = (ctx: Context) => (ctx.state as { staff: StaffActor }).staff;

/**
 * Enterprise accounts in the console's JSON API: search by code, the enterprise,
 * deregistration and restore requests, counter registration. Same session, CSRF header,
 * roles and audit as the rest of /api/v1/admin (console-kit.ts apiGuard).
 */
export function enterpriseConsoleApi(deps: ConsoleDependencies, json: Middleware): Router {
  const router = new Router({ prefix: '/api/v1/admin' });
  const kit = consoleKit(deps);
  const meta = requestMeta;
  // The registration may carry the power of attorney's scan, which is hashed and dropped.
  const withScan = jsonBody('12mb');

  router.use(['/enterprises', '/counter/enterprises'], noStore, kit.apiGuard());

  router.get('/enterprises', async (ctx) => {
    const { q } = parseInput(adminSchemas.search, ctx.query);
    ctx.body = { results: await deps.staff.enterprises.search(actorOf(ctx), q, meta(ctx)) };
  });

  router.get('/enterprises/:id', async (ctx) => {
    ctx.body = await deps.staff.enterprises.detail(actorOf(ctx), ctx.params.id ?? '', meta(ctx));
  });

  router.post('/enterprises/:id/deregister', json, async (ctx) => {
    const input = parseInput(adminSchemas.reason, ctx.request.body);
    const done = await deps.staff.enterprises.deregister(actorOf(ctx), ctx.params.id ?? '', input.reason, meta(ctx));
    ctx.body = { status: 'deregistered', ...done };
  });

  router.post('/enterprises/:id/restore-requests', json, async (ctx) => {
    const input = parseInput(adminSchemas.reason, ctx.request.body);
    ctx.status = 201;
    ctx.body = await deps.staff.enterprises.requestRestore(actorOf(ctx), ctx.params.id ?? '', input.reason, meta(ctx));
  });

  router.post('/counter/enterprises', withScan, async (ctx) => {
    const input = counterEnterpriseInput(parseInput(enterpriseSchemas.counter, ctx.request.body));
    ctx.status = 201;
    ctx.body = await deps.staff.counterEnterprise.start(actorOf(ctx), input, meta(ctx));
  });

  router.post('/counter/enterprises/:flowId/confirm', json, async (ctx) => {
    const input = parseInput(adminSchemas.code, ctx.request.body);
    ctx.body = await deps.staff.counterEnterprise.confirm(actorOf(ctx), ctx.params.flowId ?? '', input.code, meta(ctx));
  });

  return router;
}
