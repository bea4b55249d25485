import type { Context } from 'koa';
import { z } from 'zod';
import type { RequestMeta } from '../audit/audit-log.js';
import { AppError, isErrorCode } from '../errors.js';

export function requestMeta(ctx: Context): RequestMeta {
  return { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.state.requestId as string | undefined };
}

/** Validates a body, query or params object at the edge; the handler gets typed input. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    // A refinement may name the error it stands for (e.g. confirmation_required).
    if (first?.code === 'custom' && isErrorCode(first.message)) throw new AppError(first.message, { field: first.path.join('.') });
    const field = first?.path.join('.') || 'body';
    throw new AppError('invalid_input', { field });
  }
  return parsed.data;
}
