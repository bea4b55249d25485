import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { ClientDraft } from '../../staff/client-admin.js';
import type { StaffActor } from '../../staff/roles.js';
import { parseInput, requestMeta } from '../request-meta.js';
import type { ConsoleDependencies } from './console-kit.js';
import { clientSchemas } from './client-schemas.js';
import type { z } from 'zod';

const actorOf = (ctx: Context): StaffActor => (ctx.state as { staff: StaffActor }).staff;
const clientId = (ctx: Context): string => ctx.params.clientId ?? '';

/** The registration input as the domain takes it (pages and API alike). */
export function draftOf(input: z.infer<typeof clientSchemas.register>): ClientDraft {
  return {
    clientId: input.client_id,
    clientName: input.client_name,
    kind: input.kind,
    redirectUris: input.redirect_uris,
    postLogoutRedirectUris: input.post_logout_redirect_uris,
    backchannelLogoutUri: input.backchannel_logout_uri || undefined,
    grantTypes: input.grant_types,
    responseTypes: input.response_types,
    accessPolicy: input.access_policy,
  };
}

export function editOf(input: z.infer<typeof clientSchemas.update>) {
  return {
    clientName: input.client_name,
    redirectUris: input.redirect_uris,
    postLogoutRedirectUris: input.post_logout_redirect_uris,
    backchannelLogoutUri: input.backchannel_logout_uri,
  };
}

/**
 * Clients under /api/v1/admin/clients, on the console API's router (its session and CSRF
 * check apply); every operation is for admins, checked and audited by ClientAdministration.
 */
export function clientApi(router: Router, deps: ConsoleDependencies, json: Middleware): void {
  const clients = deps.staff.clients;

  router.get('/clients', async (ctx) => {
    ctx.body = { clients: await clients.list(actorOf(ctx), requestMeta(ctx)) };
  });

  router.post('/clients', json, async (ctx) => {
    const input = parseInput(clientSchemas.register, ctx.request.body);
    const done = await clients.register(actorOf(ctx), draftOf(input), requestMeta(ctx));
    ctx.status = 201;
    ctx.body = { client: done.client, ...(done.secret ? { client_secret: done.secret } : {}) };
  });

  router.get('/clients/:clientId', async (ctx) => {
    ctx.body = await clients.detail(actorOf(ctx), clientId(ctx), requestMeta(ctx));
  });

  router.post('/clients/:clientId/metadata', json, async (ctx) => {
    const input = parseInput(clientSchemas.update, ctx.request.body);
    ctx.body = await clients.update(actorOf(ctx), clientId(ctx), editOf(input), requestMeta(ctx));
  });

  router.post('/clients/:clientId/secret', json, async (ctx) => {
    const done = await clients.rotateSecret(actorOf(ctx), clientId(ctx), requestMeta(ctx));
    ctx.body = { client_id: done.client_id, client_secret: done.secret };
  });

  router.post('/clients/:clientId/policy', json, async (ctx) => {
    // Validated by ClientPolicies (the access policy's own schema), refusals audited.
    ctx.body = await clients.updatePolicy(actorOf(ctx), clientId(ctx), ctx.request.body, requestMeta(ctx));
  });
}
