import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { AppError } from '../../errors.js';
import { noStore } from '../middleware/security-headers.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { consoleKit, type ConsoleDependencies, type ShowPage } from './console-kit.js';
import { counterEnterpriseInput, enterpriseSchemas } from './enterprise-schemas.js';
import { adminSchemas, confirmedForm } from './schemas.js';

const notice = (ctx: Context) => (typeof ctx.query.done === 'string' && /^[a-z_]{1,32}$/.test(ctx.query.done) ? `admin.done_${ctx.query.done}` : undefined);

/**
 * The console's enterprise pages under /admin: search by code, the enterprise page with
 * deregistration and the restore request, and counter registration. Every page no-store,
 * every form with the session's CSRF token, every act through a staff service.
 */
export function enterpriseConsolePages(deps: ConsoleDependencies, form: Middleware): Router {
  const router = new Router({ prefix: '/admin' });
  const kit = consoleKit(deps);
  const meta = requestMeta;
  const enterpriseId = (ctx: Context) => {
    const id = ctx.params.id ?? '';
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new AppError('not_found');
    return id;
  };

  const showSearch: ShowPage = async (ctx, who, extra = {}, status = 200) => kit.render(ctx, who, 'enterprises', { q: '', results: undefined, ...extra }, status);

  const showEnterprise: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    const enterprise = await deps.staff.enterprises.detail(who, enterpriseId(ctx), meta(ctx));
    kit.render(ctx, who, 'enterprise', { enterprise, notice: notice(ctx), ...extra }, status);
  };

  const showCounter: ShowPage = async (ctx, who, extra = {}, status = 200) => kit.render(ctx, who, 'counter-enterprise', { input: ctx.request.body ?? {}, ...extra }, status);

  const showCode: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    kit.render(ctx, who, 'counter-enterprise-code', { flow: await deps.staff.counterEnterprise.get(who, ctx.params.flowId ?? ''), ...extra }, status);
  };

  router.use(['/enterprises', '/counter/enterprise'], noStore);

  router.get('/enterprises', kit.view(async (ctx, who) => {
    if (typeof ctx.query.q !== 'string' || ctx.query.q === '') return showSearch(ctx, who);
    try {
      const { q } = parseInput(adminSchemas.search, ctx.query);
      await showSearch(ctx, who, { q, results: await deps.staff.enterprises.search(who, q, meta(ctx)) });
    } catch (error) {
      if (!(error instanceof AppError) || !['invalid_input', 'invalid_uscc'].includes(error.code)) throw error;
      await showSearch(ctx, who, { q: String(ctx.query.q).slice(0, 32), error: kit.describe(ctx, error) }, error.status);
    }
  }));

  router.get('/enterprises/:id', kit.view((ctx, who) => showEnterprise(ctx, who)));

  router.post('/enterprises/:id/deregister', form, kit.action(confirmedForm(adminSchemas.reason), showEnterprise, async (ctx, who, input) => {
    await deps.staff.enterprises.deregister(who, enterpriseId(ctx), input.reason, meta(ctx));
    kit.redirect(ctx, `/admin/enterprises/${enterpriseId(ctx)}?done=enterprise_deregistered`);
  }));

  router.post('/enterprises/:id/restore', form, kit.action(adminSchemas.reason, showEnterprise, async (ctx, who, input) => {
    await deps.staff.enterprises.requestRestore(who, enterpriseId(ctx), input.reason, meta(ctx));
    kit.redirect(ctx, `/admin/enterprises/${enterpriseId(ctx)}?done=restore_requested`);
  }));

  router.get('/counter/enterprise', kit.view((ctx, who) => showCounter(ctx, who)));

  router.post('/counter/enterprise', form, kit.action(enterpriseSchemas.counter, showCounter, async (ctx, who, input) => {
    const started = await deps.staff.counterEnterprise.start(who, counterEnterpriseInput(input), meta(ctx));
    if (started.flow_id) kit.redirect(ctx, `/admin/counter/enterprise/${started.flow_id}`);
    else kit.redirect(ctx, `/admin/enterprises/${started.enterprise_id}?done=enterprise_registered`);
  }));

  router.get('/counter/enterprise/:flowId', kit.view((ctx, who) => showCode(ctx, who)));

  router.post('/counter/enterprise/:flowId', form, kit.action(adminSchemas.code, showCode, async (ctx, who, input) => {
    const done = await deps.staff.counterEnterprise.confirm(who, ctx.params.flowId ?? '', input.code, meta(ctx));
    kit.redirect(ctx, `/admin/enterprises/${done.enterprise_id}?done=enterprise_registered`);
  }));

  return router;
}
