import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { CLIENT_KINDS } from '../../staff/client-admin.js';
import type { StaffActor } from '../../staff/roles.js';
import { requestMeta } from '../request-meta.js';
import { draftOf, editOf } from './client-api.js';
import type { ConsoleDependencies, ConsoleKit, ShowPage } from './console-kit.js';
import { clientSchemas } from './client-schemas.js';
import { confirmedForm } from './schemas.js';
import { z } from 'zod';

const ENTITY_TYPES = ['natural', 'legal'];
const LOGIN_METHODS = ['pwd', 'sms', 'otp', 'mfa', 'qr', 'fed', 'wechat'];

const notice = (ctx: Context) => (typeof ctx.query.done === 'string' && /^[a-z_]{1,32}$/.test(ctx.query.done) ? `admin.done_${ctx.query.done}` : undefined);

/**
 * Client pages under /admin/clients, on the console pages' router: the list with the
 * registration form, and a client's page with its metadata, secret and access policy.
 * A new or rotated secret is shown once on its own page and never again.
 */
export function clientPages(router: Router, kit: ConsoleKit, deps: ConsoleDependencies, form: Middleware): void {
  const clients = deps.staff.clients;
  const clientId = (ctx: Context) => ctx.params.clientId ?? '';

  const showList: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    kit.render(ctx, who, 'clients', { clients: await clients.list(who, requestMeta(ctx)), kinds: CLIENT_KINDS, notice: notice(ctx), input: {}, ...extra }, status);
  };

  const showClient: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    const client = await clients.detail(who, clientId(ctx), requestMeta(ctx));
    kit.render(ctx, who, 'client', { client, entityTypes: ENTITY_TYPES, loginMethods: LOGIN_METHODS, notice: notice(ctx), ...extra }, status);
  };

  const showSecret = (ctx: Context, who: StaffActor, data: { client_id: string; secret: string; created: boolean }) => kit.render(ctx, who, 'client-secret', data);

  router.get('/clients', kit.view((ctx, who) => showList(ctx, who)));

  router.post('/clients', form, kit.action(clientSchemas.register, showList, async (ctx, who, input) => {
    const done = await clients.register(who, draftOf(input), requestMeta(ctx));
    if (done.secret) return showSecret(ctx, who, { client_id: done.client.client_id, secret: done.secret, created: true });
    kit.redirect(ctx, `/admin/clients/${encodeURIComponent(done.client.client_id)}?done=client_registered`);
  }));

  router.get('/clients/:clientId', kit.view((ctx, who) => showClient(ctx, who)));

  router.post('/clients/:clientId/metadata', form, kit.action(clientSchemas.update, showClient, async (ctx, who, input) => {
    await clients.update(who, clientId(ctx), editOf(input), requestMeta(ctx));
    kit.redirect(ctx, `/admin/clients/${encodeURIComponent(clientId(ctx))}?done=client_updated`);
  }));

  router.post('/clients/:clientId/secret', form, kit.action(confirmedForm(z.object({})), showClient, async (ctx, who) => {
    const done = await clients.rotateSecret(who, clientId(ctx), requestMeta(ctx));
    showSecret(ctx, who, { client_id: done.client_id, secret: done.secret, created: false });
  }));

  router.post('/clients/:clientId/policy', form, kit.action(clientSchemas.policyForm, showClient, async (ctx, who, input) => {
    await clients.updatePolicy(who, clientId(ctx), input, requestMeta(ctx));
    kit.redirect(ctx, `/admin/clients/${encodeURIComponent(clientId(ctx))}?done=client_policy_changed`);
  }));
}
