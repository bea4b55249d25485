import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { CredentialChange } from '../../staff/staff-credentials.js';
import type { StaffActor } from '../../staff/roles.js';
import { noStore } from '../middleware/security-headers.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { consoleKit, type ConsoleDependencies, type ShowPage } from './console-kit.js';
import { adminSchemas, credentialsForm } from './schemas.js';
import { otpauthQr } from './console-kit.js';

const changeOf = (input: { current_password: string; new_password?: string; code?: string }): CredentialChange => ({
  currentPassword: input.current_password, newPassword: input.new_password || undefined, code: input.code || undefined,
});

/**
 * One's own credentials, for every signed-in member and the one thing a member whose
 * credentials are due may do (console-kit.ts): the page /admin/credentials (first sign-in,
 * an expired password, a reset authenticator, or a change at will) and the same under
 * /api/v1/admin/credentials. A new authenticator secret is shown only here, to its holder.
 */
export function consoleCredentials(deps: ConsoleDependencies, form: Middleware, json: Middleware): Router[] {
  const kit = consoleKit(deps);
  const credentials = deps.staff.credentials;

  const pages = new Router({ prefix: '/admin/credentials' });
  pages.use(noStore);

  const show: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    const pending = await credentials.pendingAuthenticator(who) ?? await credentials.startAuthenticator(who);
    kit.render(ctx, who, 'credentials', { status: await credentials.status(who), pending, qr: await otpauthQr(pending.otpauth_uri), ...extra }, status);
  };

  pages.get('/', kit.view((ctx, who) => show(ctx, who)));

  pages.post('/', form, kit.action(credentialsForm, show, async (ctx, who, input) => {
    await credentials.change(who, changeOf(input), requestMeta(ctx));
    kit.redirect(ctx, '/admin?done=credentials_changed');
  }));

  const api = new Router({ prefix: '/api/v1/admin/credentials' });
  api.use(noStore);
  api.use(kit.apiGuard());
  const actorOf = (ctx: Context): StaffActor => (ctx.state as { staff: StaffActor }).staff;

  api.get('/', async (ctx) => {
    ctx.body = await credentials.status(actorOf(ctx));
  });

  api.post('/authenticator', json, async (ctx) => {
    ctx.status = 201;
    ctx.body = await credentials.startAuthenticator(actorOf(ctx));
  });

  api.post('/', json, async (ctx) => {
    const input = parseInput(adminSchemas.credentials, ctx.request.body);
    const done = await credentials.change(actorOf(ctx), changeOf(input), requestMeta(ctx));
    ctx.body = { ...await credentials.status(actorOf(ctx)), password_changed: done.password, authenticator_changed: done.authenticator };
  });

  return [pages, api];
}
