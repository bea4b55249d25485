import type { Context } from 'koa';
import { z } from 'zod';
import type { RequestMeta } from '../audit/audit-log.js';
import { AppError, isErrorCode } from '../errors.js';

export function requestMeta(ctx: Context): RequestMeta {
  return { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.state.requestId as string | undefined };
}

/** Refusals of a request's form by parseInput, as opposed to the same codes thrown by the domain. */
const inputRejections = new WeakSet<AppError>();

/** Whether an error is parseInput's refusal of a request's form (the console audits those in one place). */
export function isInputRejection(error: unknown): error is AppError {
  return error instanceof AppError && inputRejections.has(error);
}

/** Validates a body, query or params object at the edge; the handler gets typed input. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  // A refinement may name the error it stands for (e.g. confirmation_required).
  const error = first?.code === 'custom' && isErrorCode(first.message)
    ? new AppError(first.message, { field: first.path.join('.') })
    : new AppError('invalid_input', { field: first?.path.join('.') || 'body' });
  inputRejections.add(error);
  throw error;
}
