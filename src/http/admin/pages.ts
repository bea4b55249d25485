import Router from '@koa/router';
import QRCode from 'qrcode';
import type { SiteIdentity } from '../../config/load.js';
import type { Context, Middleware } from 'koa';
import { AppError } from '../../errors.js';
import type { StaffActor } from '../../staff/roles.js';
import { BAN_REASONS } from '../../staff/ban-reasons.js';
import { noStore } from '../middleware/security-headers.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { consoleKit, type ConsoleDependencies, type ShowPage } from './console-kit.js';
import { adminSchemas, auditFilterOf, confirmedForm } from './schemas.js';
import { clientPages } from './client-pages.js';
import { staffPages } from './staff-pages.js';

const notice = (ctx: Context) => (typeof ctx.query.done === 'string' && /^[a-z_]{1,32}$/.test(ctx.query.done) ? `admin.done_${ctx.query.done}` : undefined);

/**
 * The helpdesk console's pages under /admin: every page no-store, every form with the
 * console session's CSRF token, every act through a staff service that checks the role
 * and audits. Posts redirect back, except those whose answer is shown once (a password).
 */
export function consolePages(deps: ConsoleDependencies & { agreementVersion: string; issuer: string; site: SiteIdentity; serviceHall: string }, form: Middleware): Router {
  const router = new Router({ prefix: '/admin' });
  const kit = consoleKit(deps);
  const meta = requestMeta;
  const accountId = (ctx: Context) => {
    const id = ctx.params.id ?? '';
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new AppError('not_found');
    return id;
  };

  const showHome: ShowPage = async (ctx, who, extra = {}, status = 200) => kit.render(ctx, who, 'home', { notice: notice(ctx), ...extra }, status);

  const showSearch: ShowPage = async (ctx, who, extra = {}, status = 200) => kit.render(ctx, who, 'citizens', { q: '', results: undefined, ...extra }, status);

  const showCitizen: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    const citizen = await deps.staff.citizens.detail(who, accountId(ctx), meta(ctx));
    kit.render(ctx, who, 'citizen', { citizen, reasons: Object.keys(BAN_REASONS), notice: notice(ctx), ...extra }, status);
  };

  const showCounter: ShowPage = async (ctx, who, extra = {}, status = 200) => kit.render(ctx, who, 'counter', extra, status);

  const showCounterCode: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    const flow = await deps.staff.counter.get(who, ctx.params.flowId ?? '');
    kit.render(ctx, who, 'counter-code', { flow, ...extra }, status);
  };

  const showApprovals: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    const approvals = await deps.staff.approvals.cases(who, meta(ctx));
    const decided = (await deps.staff.approvals.list(who, {}, meta(ctx))).filter((a) => a.status !== 'pending').slice(0, 50);
    kit.render(ctx, who, 'approvals', { approvals, decided, notice: notice(ctx), ...extra }, status);
  };

  /**
   * The one page that shows a password, to be printed and handed over; never stored, never
   * shown again. It is a sheet a person takes home: who issued it (the agent by name, with
   * their staff username), when and where (SERVICE_HALL), where to
   * sign in (address and QR code), the agreement by its full address (and QR code), and
   * lines for the person's and the agent's signatures.
   */
  const qr = (url: string) => QRCode.toDataURL(url, { errorCorrectionLevel: 'M', margin: 1, width: 160 });
  const handover = async (ctx: Context, who: StaffActor, data: Record<string, unknown>) => {
    const loginUrl = deps.site.homeUrl.startsWith('https://') ? deps.site.homeUrl : `${deps.issuer}/account`;
    const agreementUrl = `${deps.issuer}/agreement`;
    kit.render(ctx, who, 'handover', {
      agreementVersion: deps.agreementVersion, issuedAt: new Date(), operator: deps.site.operator, helpline: deps.site.helpline, serviceHall: deps.serviceHall,
      loginUrl, loginQr: await qr(loginUrl), agreementUrl, agreementQr: await qr(agreementUrl), ...data,
    });
  };

  router.use(noStore);

  router.get('/', kit.view((ctx, who) => showHome(ctx, who)));

  router.get('/citizens', kit.view(async (ctx, who) => {
    if (typeof ctx.query.q !== 'string' || ctx.query.q === '') return showSearch(ctx, who);
    try {
      const { q } = parseInput(adminSchemas.search, ctx.query);
      await showSearch(ctx, who, { q, results: await deps.staff.citizens.search(who, q, meta(ctx)) });
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'invalid_input') throw error;
      // Shown on the search page, so view() does not see it: a refused query is audited here.
      await kit.auditRejectedInput(ctx, who, error);
      await showSearch(ctx, who, { error: kit.describe(ctx, error) }, error.status);
    }
  }));

  router.get('/citizens/:id', kit.view((ctx, who) => showCitizen(ctx, who)));

  router.post('/citizens/:id/reset', form, kit.action(confirmedForm(adminSchemas.identity), showCitizen, async (ctx, who, input) => {
    const done = await deps.staff.citizens.resetPassword(who, accountId(ctx), { name: input.name, idNumber: input.id_number }, meta(ctx));
    await handover(ctx, who, { kind: 'reset', password: done.password, revoked: done });
  }));

  router.post('/citizens/:id/ban', form, kit.action(confirmedForm(adminSchemas.ban), showCitizen, async (ctx, who, input) => {
    await deps.staff.citizens.ban(who, accountId(ctx), { reason: input.reason, note: input.note }, meta(ctx));
    kit.redirect(ctx, `/admin/citizens/${accountId(ctx)}?done=banned`);
  }));

  router.post('/citizens/:id/unban', form, kit.action(adminSchemas.reason, showCitizen, async (ctx, who, input) => {
    await deps.staff.citizens.requestUnban(who, accountId(ctx), input.reason, meta(ctx));
    kit.redirect(ctx, `/admin/citizens/${accountId(ctx)}?done=unban_requested`);
  }));

  router.post('/citizens/:id/phone', form, kit.action(adminSchemas.phoneChange, showCitizen, async (ctx, who, input) => {
    const flow = await deps.staff.phoneChange.start(who, accountId(ctx), { name: input.name, idNumber: input.id_number, phone: input.phone }, meta(ctx));
    kit.redirect(ctx, `/admin/citizens/${accountId(ctx)}/phone/${flow.flow_id}`);
  }));

  const showPhoneCode: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    kit.render(ctx, who, 'phone-code', { flow: await deps.staff.phoneChange.get(who, ctx.params.flowId ?? ''), ...extra }, status);
  };

  router.get('/citizens/:id/phone/:flowId', kit.view((ctx, who) => showPhoneCode(ctx, who)));

  router.post('/citizens/:id/phone/:flowId', form, kit.action(adminSchemas.code, showPhoneCode, async (ctx, who, input) => {
    const done = await deps.staff.phoneChange.confirm(who, ctx.params.flowId ?? '', input.code, meta(ctx));
    kit.redirect(ctx, `/admin/citizens/${done.account_id}?done=phone_changed`);
  }));

  router.get('/counter/register', kit.view((ctx, who) => showCounter(ctx, who)));

  router.post('/counter/register', form, kit.action(adminSchemas.counterStart, showCounter, async (ctx, who, input) => {
    const flow = await deps.staff.counter.start(who, { name: input.name, idNumber: input.id_number, phone: input.phone }, meta(ctx));
    kit.redirect(ctx, `/admin/counter/register/${flow.flow_id}`);
  }));

  router.get('/counter/register/:flowId', kit.view((ctx, who) => showCounterCode(ctx, who)));

  router.post('/counter/register/:flowId', form, kit.action(adminSchemas.code, showCounterCode, async (ctx, who, input) => {
    const done = await deps.staff.counter.confirm(who, ctx.params.flowId ?? '', input.code, meta(ctx));
    await handover(ctx, who, { kind: 'register', password: done.password, person: done });
  }));

  router.get('/approvals', kit.view((ctx, who) => showApprovals(ctx, who)));

  for (const decision of ['approve', 'reject'] as const) {
    router.post(`/approvals/:approvalId/${decision}`, form, kit.action(adminSchemas.decision, showApprovals, async (ctx, who, input) => {
      await deps.staff.approvals.decide(ctx.params.approvalId ?? '', decision, input.note, who, meta(ctx));
      kit.redirect(ctx, `/admin/approvals?done=${decision === 'approve' ? 'approved' : 'rejected'}`);
    }));
  }

  staffPages(router, kit, deps, form);

  router.get('/audit', kit.view(async (ctx, who) => {
    const input = parseInput(adminSchemas.auditFilter, ctx.query);
    const page = await deps.staff.auditViewer.search(who, auditFilterOf(input), meta(ctx));
    const query = new URLSearchParams(Object.entries(input).filter(([k, v]) => k !== 'before' && v !== undefined && v !== '').map(([k, v]): [string, string] => [k, String(v)]));
    kit.render(ctx, who, 'audit', { filter: input, records: page.records, next: page.next, query: query.toString() });
  }));

  router.get('/audit/export', kit.view(async (ctx, who) => {
    const filter = auditFilterOf(parseInput(adminSchemas.auditFilter, ctx.query));
    ctx.body = await deps.staff.auditViewer.exportCsv(who, filter, meta(ctx));
    ctx.type = 'text/csv; charset=utf-8';
    ctx.attachment('audit-log.csv');
  }));

  clientPages(router, kit, deps, form);

  return router;
}
