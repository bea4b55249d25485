import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { StaffActor } from '../../staff/roles.js';
import { noStore } from '../middleware/security-headers.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { consoleKit, type ConsoleDependencies } from './console-kit.js';
import { adminSchemas, auditFilterOf } from './schemas.js';
import { clientApi } from './client-api.js';
import { staffLifecycleApi } from './staff-api.js';

function actorOf(ctx: Context): StaffActor {
  return (ctx.state as { staff: StaffActor }).staff;
}

/**
 * The console as JSON under /api/v1/admin, for the hall's own tools. Callers authenticate
 * as the pages do: the staff session cookie from /api/v1/admin/login and /login/totp
 * (HttpOnly, SameSite=Strict), and on every write the session's CSRF token, from
 * GET /api/v1/admin/session, in the X-CSRF-Token header. No bearer tokens: staff
 * credentials never leave the session cookie, and the same roles, audit and idle and
 * absolute timeouts apply to both surfaces.
 */
export function consoleApi(deps: ConsoleDependencies, json: Middleware): Router {
  const router = new Router({ prefix: '/api/v1/admin' });
  const kit = consoleKit(deps);
  const meta = requestMeta;

  router.use(noStore);
  router.use(kit.apiGuard());

  router.get('/citizens', async (ctx) => {
    const { q } = parseInput(adminSchemas.search, ctx.query);
    ctx.body = { results: await deps.staff.citizens.search(actorOf(ctx), q, meta(ctx)) };
  });

  router.get('/citizens/:id', async (ctx) => {
    ctx.body = await deps.staff.citizens.detail(actorOf(ctx), ctx.params.id ?? '', meta(ctx));
  });

  router.post('/citizens/:id/password-reset', json, async (ctx) => {
    const input = parseInput(adminSchemas.identity, ctx.request.body);
    const done = await deps.staff.citizens.resetPassword(actorOf(ctx), ctx.params.id ?? '', { name: input.name, idNumber: input.id_number }, meta(ctx));
    ctx.body = { password: done.password, password_must_change: true, revoked_sessions: done.sessions, revoked_grants: done.grants, ...(done.pending ? { logins_pending: true } : {}) };
  });

  router.post('/citizens/:id/ban', json, async (ctx) => {
    const input = parseInput(adminSchemas.ban, ctx.request.body);
    const done = await deps.staff.citizens.ban(actorOf(ctx), ctx.params.id ?? '', input, meta(ctx));
    ctx.body = { status: 'banned', revoked_sessions: done.sessions, revoked_grants: done.grants, ...(done.pending ? { logins_pending: true } : {}) };
  });

  router.post('/citizens/:id/unban-requests', json, async (ctx) => {
    const input = parseInput(adminSchemas.reason, ctx.request.body);
    ctx.status = 201;
    ctx.body = await deps.staff.citizens.requestUnban(actorOf(ctx), ctx.params.id ?? '', input.reason, meta(ctx));
  });

  router.post('/citizens/:id/phone-changes', json, async (ctx) => {
    const input = parseInput(adminSchemas.phoneChange, ctx.request.body);
    ctx.status = 201;
    ctx.body = await deps.staff.phoneChange.start(actorOf(ctx), ctx.params.id ?? '', { name: input.name, idNumber: input.id_number, phone: input.phone }, meta(ctx));
  });

  router.post('/citizens/:id/phone-changes/:flowId/confirm', json, async (ctx) => {
    const input = parseInput(adminSchemas.code, ctx.request.body);
    ctx.body = await deps.staff.phoneChange.confirm(actorOf(ctx), ctx.params.flowId ?? '', input.code, meta(ctx));
  });

  router.post('/counter/registrations', json, async (ctx) => {
    const input = parseInput(adminSchemas.counterStart, ctx.request.body);
    ctx.status = 201;
    ctx.body = await deps.staff.counter.start(actorOf(ctx), { name: input.name, idNumber: input.id_number, phone: input.phone }, meta(ctx));
  });

  router.post('/counter/registrations/:flowId/confirm', json, async (ctx) => {
    const input = parseInput(adminSchemas.code, ctx.request.body);
    ctx.body = await deps.staff.counter.confirm(actorOf(ctx), ctx.params.flowId ?? '', input.code, meta(ctx));
  });

  router.get('/approvals', async (ctx) => {
    const status = typeof ctx.query.status === 'string' && ['pending', 'approved', 'rejected', 'expired'].includes(ctx.query.status) ? ctx.query.status as 'pending' : undefined;
    ctx.body = { approvals: await deps.staff.approvals.overview(actorOf(ctx), { status }, meta(ctx)) };
  });

  for (const decision of ['approve', 'reject'] as const) {
    router.post(`/approvals/:approvalId/${decision}`, json, async (ctx) => {
      const input = parseInput(adminSchemas.decision, ctx.request.body);
      ctx.body = await deps.staff.approvals.decide(ctx.params.approvalId ?? '', decision, input.note, actorOf(ctx), meta(ctx));
    });
  }

  router.get('/staff', async (ctx) => {
    ctx.body = { staff: await deps.staff.accounts.list(actorOf(ctx), meta(ctx)) };
  });

  router.post('/staff', json, async (ctx) => {
    const input = parseInput(adminSchemas.createStaff, ctx.request.body);
    const created = await deps.staff.accounts.create({ username: input.username, displayName: input.display_name, roles: input.roles }, { kind: 'staff', actor: actorOf(ctx) }, meta(ctx));
    ctx.status = 201;
    ctx.body = { id: created.id, username: created.username, roles: created.roles, password: created.password, otpauth_uri: created.otpauthUri, must_change: created.mustChange };
  });

  router.post('/staff/:staffId/admin-requests', json, async (ctx) => {
    const input = parseInput(adminSchemas.reason, ctx.request.body);
    ctx.status = 201;
    ctx.body = await deps.staff.accounts.requestAdmin(actorOf(ctx), ctx.params.staffId ?? '', input.reason, deps.staff.approvals, meta(ctx));
  });

  router.get('/audit', async (ctx) => {
    const filter = auditFilterOf(parseInput(adminSchemas.auditFilter, ctx.query));
    const page = await deps.staff.auditViewer.search(actorOf(ctx), filter, meta(ctx));
    ctx.body = { records: page.records.map((r) => ({ ...r, at: new Date(r.at).toISOString() })), ...(page.next ? { next_before: page.next } : {}) };
  });

  router.get('/audit/export', async (ctx) => {
    const filter = auditFilterOf(parseInput(adminSchemas.auditFilter, ctx.query));
    ctx.body = await deps.staff.auditViewer.exportCsv(actorOf(ctx), filter, meta(ctx));
    ctx.type = 'text/csv; charset=utf-8';
    ctx.attachment('audit-log.csv');
  });

  staffLifecycleApi(router, deps, json);
  clientApi(router, deps, json);

  return router;
}
