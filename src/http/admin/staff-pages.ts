import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { STAFF_ROLES } from '../../staff/roles.js';
import { requestMeta } from '../request-meta.js';
import type { ConsoleDependencies, ConsoleKit, ShowPage } from './console-kit.js';
import { adminSchemas, confirmedForm } from './schemas.js';
import { otpauthQr } from './console-kit.js';

const notice = (ctx: Context) => (typeof ctx.query.done === 'string' && /^[a-z_]{1,32}$/.test(ctx.query.done) ? `admin.done_${ctx.query.done}` : undefined);

/**
 * Staff pages under /admin/staff, on the console pages' router (admins): the list with
 * status, roles, credentials and last sign-in, the creation form, and each member's
 * lifecycle acts, each with a reason. A new member's credentials and a reset
 * authenticator's secret are shown once, on a page of their own, to be handed over.
 */
export function staffPages(router: Router, kit: ConsoleKit, deps: ConsoleDependencies, form: Middleware): void {
  const lifecycle = deps.staff.lifecycle;
  const staffId = (ctx: Context) => ctx.params.staffId ?? '';
  const meta = requestMeta;

  // A refused act on a member comes back in that member's row (opened, with what was typed
  // and the error beside its field); a refused creation, in the creation form.
  const showStaff: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    kit.render(ctx, who, 'staff', { staff: await deps.staff.accounts.list(who, meta(ctx)), roles: STAFF_ROLES, notice: notice(ctx), refusedFor: ctx.params.staffId, ...extra }, status);
  };

  router.get('/staff', kit.view((ctx, who) => showStaff(ctx, who)));

  router.post('/staff', form, kit.action(adminSchemas.createStaff, showStaff, async (ctx, who, input) => {
    const created = await deps.staff.accounts.create({ username: input.username, displayName: input.display_name, roles: input.roles }, { kind: 'staff', actor: who }, meta(ctx));
    kit.render(ctx, who, 'staff-created', { created, qr: await otpauthQr(created.otpauthUri) });
  }));

  router.post('/staff/:staffId/admin', form, kit.action(adminSchemas.reason, showStaff, async (ctx, who, input) => {
    await deps.staff.accounts.requestAdmin(who, staffId(ctx), input.reason, deps.staff.approvals, meta(ctx));
    kit.redirect(ctx, '/admin/staff?done=admin_requested');
  }));

  // Disabling, withdrawing a role and resetting the authenticator end the member's sessions
  // at once, and none is undone by the one who did it (enabling and the admin role need a
  // second admin; a new authenticator, the member): the page asks for its box.
  router.post('/staff/:staffId/disable', form, kit.action(confirmedForm(adminSchemas.reason), showStaff, async (ctx, who, input) => {
    await lifecycle.disable(who, staffId(ctx), input.reason, meta(ctx));
    kit.redirect(ctx, '/admin/staff?done=staff_disabled');
  }));

  router.post('/staff/:staffId/enable', form, kit.action(adminSchemas.reason, showStaff, async (ctx, who, input) => {
    await lifecycle.requestEnable(who, staffId(ctx), input.reason, meta(ctx));
    kit.redirect(ctx, '/admin/staff?done=enable_requested');
  }));

  router.post('/staff/:staffId/roles', form, kit.action(adminSchemas.role, showStaff, async (ctx, who, input) => {
    await lifecycle.grantRole(who, staffId(ctx), input.role, input.reason, meta(ctx));
    kit.redirect(ctx, '/admin/staff?done=role_granted');
  }));

  router.post('/staff/:staffId/withdraw', form, kit.action(confirmedForm(adminSchemas.role), showStaff, async (ctx, who, input) => {
    await lifecycle.withdrawRole(who, staffId(ctx), input.role, input.reason, meta(ctx));
    kit.redirect(ctx, '/admin/staff?done=role_withdrawn');
  }));

  router.post('/staff/:staffId/authenticator', form, kit.action(confirmedForm(adminSchemas.reason), showStaff, async (ctx, who, input) => {
    const issued = await lifecycle.resetAuthenticator(who, staffId(ctx), input.reason, meta(ctx));
    kit.render(ctx, who, 'staff-authenticator', { issued, qr: await otpauthQr(issued.otpauth_uri) });
  }));

  router.post('/staff/:staffId/unlock', form, kit.action(adminSchemas.reason, showStaff, async (ctx, who, input) => {
    await lifecycle.unlock(who, staffId(ctx), input.reason, meta(ctx));
    kit.redirect(ctx, '/admin/staff?done=staff_unlocked');
  }));
}
