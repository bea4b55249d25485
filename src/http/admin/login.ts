import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { AppError } from '../../errors.js';
import { STAFF_ABSOLUTE_SECONDS } from '../../staff/staff-sessions.js';
import { noStore } from '../middleware/security-headers.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { consoleKit, setStaffCookie, STAFF_COOKIE, STAFF_PENDING_COOKIE, type ConsoleDependencies } from './console-kit.js';
import { adminSchemas } from './schemas.js';

const PENDING_MS = 5 * 60 * 1000;

/**
 * Console sign-in, for pages (/admin/login) and API callers (/api/v1/admin/login): the
 * password, then always the authenticator code, each step its own request. Between them
 * only a five-minute pending cookie exists, which opens nothing: without the second step
 * there is no console session.
 */
export function consoleLogin(deps: ConsoleDependencies, form: Middleware, json: Middleware): Router {
  const router = new Router();
  const kit = consoleKit(deps);

  async function passwordStep(ctx: Context, body: unknown) {
    const input = parseInput(adminSchemas.login, body);
    // The console session already in this browser, if any: a creator's own is no place for a member's first sign-in.
    const { pending } = await deps.staff.login.password(input, requestMeta(ctx), ctx.cookies.get(STAFF_COOKIE, { signed: true }));
    setStaffCookie(ctx, STAFF_PENDING_COOKIE, pending, PENDING_MS);
  }

  /** Returns where the member goes next: replacing handed-over or expired credentials comes before anything else. */
  async function totpStep(ctx: Context, body: unknown): Promise<'session' | 'credentials'> {
    const input = parseInput(adminSchemas.totp, body);
    const pending = ctx.cookies.get(STAFF_PENDING_COOKIE, { signed: true });
    const done = await deps.staff.login.totp(pending, input.code, requestMeta(ctx));
    setStaffCookie(ctx, STAFF_PENDING_COOKIE, null);
    setStaffCookie(ctx, STAFF_COOKIE, done.sessionId);
    return done.credentialsDue ? 'credentials' : 'session';
  }

  async function logout(ctx: Context) {
    const who = await kit.principal(ctx);
    if (who) {
      await kit.checkCsrf(ctx, who, (ctx.request.body as { csrf?: unknown } | undefined)?.csrf ?? ctx.get('x-csrf-token'));
      await deps.staff.login.logout(ctx.cookies.get(STAFF_COOKIE, { signed: true })!, who.id, requestMeta(ctx));
    }
    setStaffCookie(ctx, STAFF_COOKIE, null);
  }

  const showLogin = (ctx: Context, step: 'password' | 'totp', extra: Record<string, unknown> = {}, status = 200) => kit.render(ctx, undefined, step === 'password' ? 'login' : 'login-totp', extra, status);

  /** Errors of a login step are shown on its page; the lock and bad state as well. `run` returns where to go next. */
  function pageStep(step: 'password' | 'totp', run: (ctx: Context) => Promise<string>): Middleware {
    return async (ctx) => {
      let next: string;
      try {
        next = await run(ctx);
      } catch (error) {
        if (!(error instanceof AppError) || error.code === 'internal') throw error;
        showLogin(ctx, error.code === 'login_state_invalid' ? 'password' : step, { error: kit.describe(ctx, error) }, error.status);
        return;
      }
      kit.redirect(ctx, next);
    };
  }

  router.use(['/admin/login', '/admin/logout', '/api/v1/admin/login', '/api/v1/admin/logout', '/api/v1/admin/session'], noStore);

  router.get('/admin/login', (ctx) => showLogin(ctx, 'password'));
  router.post('/admin/login', form, pageStep('password', async (ctx) => {
    await passwordStep(ctx, ctx.request.body);
    return '/admin/login/totp';
  }));
  router.get('/admin/login/totp', (ctx) => showLogin(ctx, 'totp'));
  router.post('/admin/login/totp', form, pageStep('totp', async (ctx) => (await totpStep(ctx, ctx.request.body) === 'credentials' ? '/admin/credentials' : '/admin')));
  router.post('/admin/logout', form, async (ctx) => {
    await logout(ctx);
    kit.redirect(ctx, '/admin/login');
  });

  router.post('/api/v1/admin/login', json, async (ctx) => {
    await passwordStep(ctx, ctx.request.body);
    ctx.body = { next: 'totp' };
  });
  router.post('/api/v1/admin/login/totp', json, async (ctx) => {
    // The new session is read on the next request; answer with what it needs: `credentials`
    // when the member must first replace what was handed over (or has expired).
    ctx.body = { next: await totpStep(ctx, ctx.request.body), session_max_seconds: STAFF_ABSOLUTE_SECONDS };
  });
  router.get('/api/v1/admin/session', async (ctx) => {
    const who = await kit.principal(ctx);
    if (!who) throw new AppError('unauthenticated');
    ctx.body = { staff: { id: who.id, username: who.username, roles: who.roles }, credentials_change_required: Boolean(who.due), csrf_token: kit.csrfToken(who) };
  });
  router.post('/api/v1/admin/logout', json, async (ctx) => {
    if (!await kit.principal(ctx)) throw new AppError('unauthenticated');
    await logout(ctx);
    ctx.status = 204;
  });
  return router;
}
