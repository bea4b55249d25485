import type { Context, Middleware } from 'koa';
import type { z } from 'zod';
import type { AuditLog } from '../../audit/audit-log.js';
import { AppError } from '../../errors.js';
import { isMessageKey, translate, type Locale } from '../../i18n/messages.js';
import type { StaffServices } from '../../staff/index.js';
import type { StaffActor } from '../../staff/roles.js';
import type { CsrfTokens } from '../csrf.js';
import type { PageRenderer } from '../render.js';
import { isInputRejection, requestMeta } from '../request-meta.js';
import { describeError, formAction } from '../form-action.js';
import { chinaTime } from '../account/page-kit.js';
import { routeLabel } from '../middleware/request-context.js';
import QRCode from 'qrcode';

/** The console session cookie: HttpOnly, signed, SameSite=Strict, gone with the browser. */
export const STAFF_COOKIE = 'civic_staff';
/** Between the password and the authenticator code (five minutes). */
export const STAFF_PENDING_COOKIE = 'civic_staff_pending';
/** API callers send the session's CSRF token in this header on every write. */
export const CSRF_HEADER = 'x-csrf-token';

export interface ConsoleDependencies {
  staff: StaffServices;
  audit: AuditLog;
  csrf: CsrfTokens;
  pages: PageRenderer;
}

export type ShowPage = (ctx: Context, who: StaffActor, extra?: Record<string, unknown>, status?: number) => Promise<void>;

/** Errors that are not about what was typed go to the error page, not back to the form. */
const NOT_ON_PAGE = new Set(['csrf', 'internal', 'unauthenticated', 'forbidden', 'outside_search', 'flow_expired', 'not_found', 'credentials_change_required']);

/** What a member whose credentials are due may still reach: replacing them, the session probe, signing out. */
const WHILE_DUE = /^\/(admin|api\/v1\/admin)\/(credentials|session|logout)(\/|$)/;

/**
 * The audit action of a console request refused for its form: named after the route's
 * operation, the same for the page and the API where their paths agree, e.g.
 * /api/v1/admin/staff/:staffId/disable → console.staff.disable.
 */
export function routeAction(route: string): string {
  const parts = route.replace(/^\/(api\/v1\/)?admin(?=\/|$)/, '').split('/').filter((part) => part !== '' && !part.startsWith(':'));
  return ['console', ...parts.map((part) => part.replaceAll('-', '_'))].join('.').slice(0, 64);
}

export function setStaffCookie(ctx: Context, name: string, value: string | null, maxAge?: number): void {
  ctx.cookies.set(name, value, { httpOnly: true, sameSite: 'strict', signed: true, secure: ctx.secure, path: '/', ...(maxAge ? { maxAge } : {}) });
}

/**
 * What every console page and API route shares: the staff member behind the session
 * cookie (status, roles and session epoch read afresh each request, so a change applies
 * at once), CSRF tokens bound to the console session, and refusals audited — a forged or
 * stale form included, a request refused for its form (routeAction), and any route but
 * replacing credentials while they are due.
 */
export function consoleKit(deps: ConsoleDependencies) {
  const scope = (who: StaffActor) => `staff:${who.sessionHandle}`;
  const routeOf = (ctx: Context) => routeLabel(ctx.path, ctx._matchedRoute ? String(ctx._matchedRoute) : undefined);

  async function principal(ctx: Context): Promise<StaffActor | undefined> {
    return deps.staff.login.principal(ctx.cookies.get(STAFF_COOKIE, { signed: true }));
  }

  /** Undefined when the member may go on; else the audited refusal for a member whose credentials are due. */
  async function refusedWhileDue(ctx: Context, who: StaffActor): Promise<AppError | undefined> {
    if (!who.due || WHILE_DUE.test(ctx.path)) return undefined;
    return deps.staff.credentials.refuseUntilReplaced(who, { method: ctx.method, route: routeOf(ctx) }, requestMeta(ctx));
  }

  /** The signed-in member, refused (and audited) while credentials are due, but where they are replaced. */
  async function ready(ctx: Context): Promise<StaffActor | undefined> {
    const who = await principal(ctx);
    const refused = who && await refusedWhileDue(ctx, who);
    if (refused) throw refused;
    return who;
  }

  /**
   * Audits a request refused for its form (parseInput's invalid_input or
   * confirmation_required, before any staff service saw it), so that every refusal is in
   * the log; the domain's refusals are audited where they are made.
   */
  async function auditRejectedInput(ctx: Context, who: StaffActor, error: unknown): Promise<void> {
    if (!isInputRejection(error)) return;
    const route = routeOf(ctx);
    const field = typeof error.details.field === 'string' ? { field: error.details.field.slice(0, 64) } : {};
    await deps.audit.append({
      actor: { kind: 'staff', id: who.id }, action: routeAction(route), result: 'denied',
      details: { reason: error.code, ...field, method: ctx.method, route }, meta: requestMeta(ctx),
    });
  }

  /** Runs a signed-in member's request; a refusal of its form is audited on the way out. */
  async function auditingInput(ctx: Context, who: StaffActor, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      await auditRejectedInput(ctx, who, error);
      throw error;
    }
  }

  function csrfToken(who: StaffActor): string {
    return deps.csrf.issue(scope(who));
  }

  /** Refuses (and audits) a write whose token is missing, forged or from another session. */
  async function checkCsrf(ctx: Context, who: StaffActor, presented: unknown): Promise<void> {
    try {
      deps.csrf.verify(scope(who), presented);
    } catch (error) {
      await deps.audit.append({ actor: { kind: 'staff', id: who.id }, action: 'staff.csrf', result: 'denied', details: { method: ctx.method, route: routeOf(ctx) }, meta: requestMeta(ctx) });
      throw error;
    }
  }

  function render(ctx: Context, who: StaffActor | undefined, page: string, data: Record<string, unknown> = {}, status = 200): void {
    const locale = ctx.state.locale as Locale;
    // A request refused for its form is recorded under its route (routeAction): the viewer names it as such, the code in the row's title.
    const tx = (key: string, fallback: string) => (isMessageKey(key) ? translate(locale, key) : key.startsWith('audit.console.') ? translate(locale, 'audit.console') : fallback);
    deps.pages.render(ctx, `admin/${page}`, locale, {
      who, csrf: who ? csrfToken(who) : undefined, time: chinaTime, tx, has: (role: string) => Boolean(who?.roles.includes(role as never)),
      stylesheet: 'console', ...data,
    }, status);
  }

  const describe = describeError;

  /**
   * A page for signed-in staff; anyone else goes to the console login, and a member whose
   * credentials are due to the page that replaces them (the refusal audited).
   */
  function view(handler: (ctx: Context, who: StaffActor) => Promise<void>): Middleware {
    return async (ctx) => {
      const who = await principal(ctx);
      if (!who) {
        ctx.redirect('/admin/login');
        return;
      }
      if (await refusedWhileDue(ctx, who)) {
        ctx.redirect('/admin/credentials');
        return;
      }
      await auditingInput(ctx, who, () => handler(ctx, who));
    };
  }

  /** A form post: see formAction (http/form-action.ts); a refused CSRF token is audited. */
  function action<T>(schema: z.ZodType<T>, show: ShowPage, run: (ctx: Context, who: StaffActor, input: T) => Promise<void>): Middleware {
    return formAction({ principal: ready, checkCsrf, notOnPage: NOT_ON_PAGE, refused: auditRejectedInput }, schema, show, run);
  }

  /**
   * For the JSON API's routers: the staff member behind the session cookie, or 401; on
   * every write the session's CSRF token in the X-CSRF-Token header. Sign-in and the
   * session probe are answered by login.ts.
   */
  function apiGuard(): Middleware {
    return async (ctx, next) => {
      if (/^\/api\/v1\/admin\/(login|logout|session)(\/|$)/.test(ctx.path)) return next();
      const who = await ready(ctx);
      if (!who) throw new AppError('unauthenticated');
      if (!['GET', 'HEAD', 'OPTIONS'].includes(ctx.method)) await checkCsrf(ctx, who, ctx.get(CSRF_HEADER));
      (ctx.state as { staff: StaffActor }).staff = who;
      await auditingInput(ctx, who, next);
    };
  }

  function redirect(ctx: Context, to: string): void {
    ctx.status = 303;
    ctx.redirect(to);
  }

  return { principal, csrfToken, checkCsrf, render, view, action, redirect, describe, apiGuard, auditRejectedInput };
}

export type ConsoleKit = ReturnType<typeof consoleKit>;

/** An authenticator's otpauth URI as a QR code to scan (a data: URL, which the CSP allows), beside the URI and secret for typing. */
export function otpauthQr(uri: string): Promise<string> {
  return QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 200 });
}
