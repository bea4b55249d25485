import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { StaffActor } from '../../staff/roles.js';
import { parseInput, requestMeta } from '../request-meta.js';
import type { ConsoleDependencies } from './console-kit.js';
import { adminSchemas, roleParam } from './schemas.js';

const actorOf = (ctx: Context): StaffActor => (ctx.state as { staff: StaffActor }).staff;
const staffId = (ctx: Context): string => ctx.params.staffId ?? '';

/**
 * A member's lifecycle under /api/v1/admin/staff/{staffId}, on the console API's router
 * (its session and CSRF check apply); admins only, each act with a reason, checked and
 * audited by StaffLifecycle (staff-lifecycle.ts says which need a second admin).
 */
export function staffLifecycleApi(router: Router, deps: ConsoleDependencies, json: Middleware): void {
  const lifecycle = deps.staff.lifecycle;

  router.post('/staff/:staffId/disable', json, async (ctx) => {
    const input = parseInput(adminSchemas.reason, ctx.request.body);
    ctx.body = await lifecycle.disable(actorOf(ctx), staffId(ctx), input.reason, requestMeta(ctx));
  });

  router.post('/staff/:staffId/enable-requests', json, async (ctx) => {
    const input = parseInput(adminSchemas.reason, ctx.request.body);
    ctx.status = 201;
    ctx.body = await lifecycle.requestEnable(actorOf(ctx), staffId(ctx), input.reason, requestMeta(ctx));
  });

  router.post('/staff/:staffId/roles', json, async (ctx) => {
    const input = parseInput(adminSchemas.role, ctx.request.body);
    ctx.body = await lifecycle.grantRole(actorOf(ctx), staffId(ctx), input.role, input.reason, requestMeta(ctx));
  });

  router.post('/staff/:staffId/roles/:role/withdraw', json, async (ctx) => {
    const { role } = parseInput(roleParam, ctx.params);
    const input = parseInput(adminSchemas.reason, ctx.request.body);
    ctx.body = await lifecycle.withdrawRole(actorOf(ctx), staffId(ctx), role, input.reason, requestMeta(ctx));
  });

  router.post('/staff/:staffId/authenticator-reset', json, async (ctx) => {
    const input = parseInput(adminSchemas.reason, ctx.request.body);
    ctx.body = await lifecycle.resetAuthenticator(actorOf(ctx), staffId(ctx), input.reason, requestMeta(ctx));
  });

  router.post('/staff/:staffId/unlock', json, async (ctx) => {
    const input = parseInput(adminSchemas.reason, ctx.request.body);
    ctx.body = await lifecycle.unlock(actorOf(ctx), staffId(ctx), input.reason, requestMeta(ctx));
  });
}
