import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import type { ScopeEntry } from '../../store/schema.js';
import { pageKit, type ShowPage } from '../account/page-kit.js';
import { noStore } from '../middleware/security-headers.js';
import type { ErrorPlaces } from '../form-action.js';
import { requestMeta } from '../request-meta.js';
import { grantEndOf, grantEndView } from './page-dates.js';
import { presenter } from './present.js';
import type { DelegationDependencies } from './routes.js';
import { unlessStoreFault } from '../../store/faults.js';

const optional = (max: number) => z.string().trim().max(max).optional().transform((v) => v || undefined);
const items = z.union([z.string(), z.array(z.string())]).optional().transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));
/** The grant's end as typed: a date, and optionally the minute of that day it ends at. */
const end = {
  valid_until: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  valid_until_time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/).optional().or(z.literal('').transform(() => undefined)),
};
const endOf = (input: { valid_until: string; valid_until_time?: string | undefined }) => grantEndOf(input.valid_until, input.valid_until_time);

const grantForm = z.object({
  enterprise_id: z.string().min(1).max(64),
  parent_id: optional(64),
  grantee_id_number: optional(32),
  grantee_name: optional(50),
  grantee_phone: optional(20),
  item: items,
  ...end,
  may_redelegate: z.literal('yes').optional(),
});
const changeForm = z.object({ version: z.coerce.number().int().min(1), item: items, ...end, may_redelegate: z.literal('yes').optional() });
const versionForm = z.object({ version: z.coerce.number().int().min(1) });
const requestForm = z.object({ uscc: z.string().trim().length(18), item: items, ...end, reason: optional(200) });
const csrfOnly = z.object({});

/** The domain says `scope` for what the forms offer as `item` boxes. */
const renamed = { scope: 'item' };
const GRANT_PLACES: ErrorPlaces = {
  renamed,
  byCode: {
    invalid_phone: 'grantee', invalid_id_number: 'grantee', delegation_grantee_not_found: 'grantee', delegation_self: 'grantee', delegation_duplicate: 'grantee',
    delegation_enterprise_unavailable: 'enterprise_id', delegation_no_authority: 'enterprise_id', delegation_level_exceeded: 'parent_id', delegation_grant_inactive: 'parent_id',
  },
};
const REQUEST_PLACES: ErrorPlaces = { renamed, byCode: { invalid_uscc: 'uscc', delegation_enterprise_unavailable: 'uscc', delegation_duplicate: 'uscc' } };
const CHANGE_PLACES: ErrorPlaces = { renamed };

/** Checkbox values `client_id service_item` into a scope. */
function scopeOf(values: string[]): ScopeEntry[] {
  const scope = values.map((value) => value.split(' ')).map(([client, item]) => ({ client_id: client ?? '', service_items: [item ?? ''] }));
  if (scope.length === 0 || scope.some((entry) => !entry.client_id || !entry.service_items[0])) throw new AppError('invalid_input', { field: 'item' });
  return scope;
}

type Catalogue = Awaited<ReturnType<DelegationDependencies['delegations']['serviceCatalogue']>>;

/** A grant's scope by the names people know: each service with its items' names, codes only where a name is missing. */
function scopeParts(catalogue: Catalogue) {
  return (scope: ScopeEntry[]) => scope.map((entry) => {
    const service = catalogue.find((c) => c.client_id === entry.client_id);
    return {
      service: service?.client_name ?? entry.client_id,
      items: entry.service_items.map((code) => service?.items.find((item) => item.code === code)?.name ?? code),
    };
  });
}

/**
 * Delegation in the account centre (授权管理): the enterprises one acts for and their
 * grants, one's own grants, requests to decide, and the forms to grant, change, cancel
 * and request. Same services and rules as the JSON API.
 */
export function delegationPages(deps: DelegationDependencies, form: Middleware): Router {
  const router = new Router({ prefix: '/account/delegations' });
  const kit = pageKit({ provider: () => deps.providers.current, accounts: deps.accounts, pages: deps.pages, csrf: deps.csrf });
  const d = deps.delegations;
  const notice = (ctx: Context) => (typeof ctx.query.done === 'string' && /^[a-z_]{1,32}$/.test(ctx.query.done) ? `delegation.done_${ctx.query.done}` : undefined);

  /** What both pages need to show grants: the catalogue, items by name, ends as people read them. */
  const grantViews = async () => {
    const catalogue = await d.serviceCatalogue();
    return { catalogue, scopeParts: scopeParts(catalogue), grantEnd: grantEndView };
  };

  const showOverview: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    const show = presenter(deps.accounts);
    const enterprises = await d.enterprisesOf(who.accountId);
    const trees = await Promise.all(enterprises.map(async (e) => {
      const tree = await d.tree(who.accountId, e.enterprise.id).catch(unlessStoreFault(() => ({ grants: [] })));
      return { ...show.enterprise(e.enterprise), role: e.role, grants: await Promise.all(tree.grants.map((g) => show.grant(g))) };
    }));
    const mine = await d.mine(who.accountId);
    const requests = await d.requests(who.accountId);
    const held = await Promise.all(mine.held.map((g) => show.grant(g)));
    kit.render(ctx, who, 'account-delegations', {
      section: 'account-delegations',
      enterprises: trees,
      held,
      // Grants one may pass on: the parent a new grant can be made under.
      parents: held.filter((g) => g.status === 'active' && g.may_redelegate && g.level < 3)
        .map((g) => ({ ...g, enterprise_name: trees.find((e) => e.id === g.enterprise_id)?.name ?? '' })),
      granted: await Promise.all(mine.granted.map((g) => show.grant(g))),
      requestsMine: await Promise.all(requests.mine.map(show.request)),
      requestsToDecide: await Promise.all(requests.to_decide.map(show.request)),
      ...(await grantViews()),
      notice: notice(ctx),
      ...extra,
    }, status);
  };

  const showGrant: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    const history = await d.history(who.accountId, ctx.params.grantId ?? '');
    kit.render(ctx, who, 'account-delegation', {
      section: 'account-delegations',
      grant: await presenter(deps.accounts).grant(history.grant),
      events: history.events,
      ...(await grantViews()),
      notice: notice(ctx),
      ...extra,
    }, status);
  };

  /**
   * A page with several forms, shown again after one of them was refused: that form, and
   * only that one, gets back what was typed and the error beside its field.
   */
  const refusedOn = (show: ShowPage, form: string): ShowPage => (ctx, who, extra = {}, status) => show(ctx, who, {
    ...extra, refused: { [form]: { error: extra.error, typed: extra.typed ?? {} } },
  }, status);

  router.use(noStore);

  router.get('/', kit.view((ctx, who) => showOverview(ctx, who)));

  router.post('/', form, kit.action(grantForm, refusedOn(showOverview, 'grant'), async (ctx, who, input) => {
    const grantee = input.grantee_phone
      ? { phone: input.grantee_phone }
      : { idNumber: input.grantee_id_number ?? '', name: input.grantee_name ?? '' };
    if (!('phone' in grantee) && (!grantee.idNumber || !grantee.name)) throw new AppError('invalid_input', { field: 'grantee' });
    await d.grant(who.accountId, {
      enterpriseId: input.enterprise_id, parentId: input.parent_id, grantee, scope: scopeOf(input.item),
      validUntil: endOf(input), mayRedelegate: input.may_redelegate === 'yes',
    }, requestMeta(ctx));
    kit.redirect(ctx, '/account/delegations?done=granted');
  }, GRANT_PLACES));

  router.post('/requests', form, kit.action(requestForm, refusedOn(showOverview, 'request'), async (ctx, who, input) => {
    await d.request(who.accountId, { uscc: input.uscc, scope: scopeOf(input.item), validUntil: endOf(input), reason: input.reason }, requestMeta(ctx));
    kit.redirect(ctx, '/account/delegations?done=requested');
  }, REQUEST_PLACES));

  router.post('/requests/:requestId/approve', form, kit.action(csrfOnly, showOverview, async (ctx, who) => {
    await d.approve(who.accountId, ctx.params.requestId ?? '', {}, requestMeta(ctx));
    kit.redirect(ctx, '/account/delegations?done=approved');
  }));

  router.post('/requests/:requestId/reject', form, kit.action(csrfOnly, showOverview, async (ctx, who) => {
    await d.reject(who.accountId, ctx.params.requestId ?? '', requestMeta(ctx));
    kit.redirect(ctx, '/account/delegations?done=rejected');
  }));

  router.get('/:grantId', kit.view((ctx, who) => showGrant(ctx, who)));

  router.post('/:grantId/change', form, kit.action(changeForm, refusedOn(showGrant, 'change'), async (ctx, who, input) => {
    await d.change(who.accountId, ctx.params.grantId ?? '', {
      version: input.version, scope: scopeOf(input.item), validUntil: endOf(input), mayRedelegate: input.may_redelegate === 'yes',
    }, requestMeta(ctx));
    kit.redirect(ctx, `/account/delegations/${encodeURIComponent(ctx.params.grantId ?? '')}?done=changed`);
  }, CHANGE_PLACES));

  router.post('/:grantId/cancel', form, kit.action(versionForm, showGrant, async (ctx, who, input) => {
    await d.cancel(who.accountId, ctx.params.grantId ?? '', { version: input.version }, requestMeta(ctx));
    kit.redirect(ctx, '/account/delegations?done=cancelled');
  }));

  return router;
}
