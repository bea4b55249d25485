import { formBody } from '../body.js';
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import type { FlowRef, FlowStarter } from '../../flows/flow-store.js';
import { browserBinding, type CsrfTokens } from '../csrf.js';
import { refusal, typedBack, type ErrorPlaces } from '../form-action.js';
import { parseInput } from '../request-meta.js';
import { safeReturnTo } from '../return-to.js';

/** Errors that end the page rather than being shown on it. */
const FATAL = ['csrf', 'flow_expired', 'internal'];

/** Shows a flow's page with extra model (an error, what was typed, a note) and a status. */
type Render = (ctx: Context, extra: Record<string, unknown>, status: number) => Promise<void>;

export const withCsrf = <T extends z.ZodRawShape>(shape: T) => z.object({ csrf: z.string(), ...shape });

/**
 * What every self-service flow in the browser (registration, recovery) shares: one page
 * per flow showing its current step, forms with a CSRF token bound to the flow and the
 * browser, steps that post and redirect back (a reload never resubmits), step errors shown
 * on the page, and a `return_to` that may only lead back to a login interaction.
 */
export class FlowPages {
  readonly form: Middleware = formBody();

  constructor(private readonly base: string, private readonly kind: string, private readonly csrf: CsrfTokens) {}

  /** The flow this page names, with the binding cookie of the browser asking. */
  flowRef(ctx: Context): FlowRef {
    return { id: ctx.params.flowId ?? '', channel: 'browser', holder: browserBinding(ctx) };
  }

  private scope(ctx: Context) {
    return `${this.kind}:${ctx.params.flowId}:${browserBinding(ctx)}`;
  }

  /** The model every flow page gets: its CSRF token, its return_to, and URLs for its steps. */
  common(ctx: Context, flowId: string) {
    const returnTo = safeReturnTo(ctx.query.return_to);
    const suffix = returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : '';
    return {
      csrf: this.csrf.issue(this.scope(ctx)),
      returnTo,
      action: (step: string) => `${this.base}/${flowId}/${step}${suffix}`,
    };
  }

  /**
   * GET {base}: starts a flow bound to this browser and redirects to its page, keeping
   * return_to. The flow id in the URL is then useless in any other browser.
   */
  start(router: Router, begin: (starter: FlowStarter) => Promise<{ flow_id: string }>): void {
    router.get('/', async (ctx) => {
      const view = await begin({ channel: 'browser', bind: { holder: browserBinding(ctx) } });
      const returnTo = safeReturnTo(ctx.query.return_to);
      ctx.status = 303;
      ctx.redirect(`${this.base}/${view.flow_id}${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`);
    });
  }

  /** A step handler: validate, check CSRF, run; redirect back on success, re-render with the error (beside its field) otherwise. */
  step<T extends { csrf: string }>(
    schema: z.ZodType<T>,
    render: Render,
    run: (ctx: Context, input: T) => Promise<Record<string, string> | void>,
    places: ErrorPlaces = {},
  ): Middleware {
    return this.handle(schema, render, places, async (ctx, input) => {
      const note = await run(ctx, input);
      const returnTo = safeReturnTo(ctx.query.return_to);
      const query = new URLSearchParams({ ...(returnTo ? { return_to: returnTo } : {}), ...(note ?? {}) });
      ctx.status = 303;
      ctx.redirect(`${this.base}/${ctx.params.flowId}${query.size > 0 ? `?${query}` : ''}`);
    });
  }

  /**
   * A step that sends a code, posted by the 获取验证码 button of the form that also takes the
   * code: on success the page is shown again with what was typed on that form (a redirect
   * would lose it) and the countdown to the next send; errors as in `step`.
   */
  sendStep<T extends { csrf: string }>(schema: z.ZodType<T>, render: Render, run: (ctx: Context, input: T) => Promise<void>, places: ErrorPlaces = {}): Middleware {
    return this.handle(schema, render, places, async (ctx, input) => {
      await run(ctx, input);
      await render(ctx, { codeSent: true, typed: typedBack(ctx.request.body) }, 200);
    });
  }

  private handle<T extends { csrf: string }>(schema: z.ZodType<T>, render: Render, places: ErrorPlaces, succeed: (ctx: Context, input: T) => Promise<void>): Middleware {
    return async (ctx) => {
      // The CSRF token before anything about the body, so that a forged post gets 403 whatever it holds.
      this.csrf.verify(this.scope(ctx), (ctx.request.body as { csrf?: unknown } | undefined)?.csrf);
      try {
        await succeed(ctx, parseInput(schema, ctx.request.body));
      } catch (error) {
        if (!(error instanceof AppError) || FATAL.includes(error.code)) throw error;
        await render(ctx, refusal(ctx, error, places), error.status);
      }
    };
  }
}
