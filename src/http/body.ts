import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';
import { AppError } from '../errors.js';

/**
 * What the body parser could not read is the caller's fault. Malformed JSON, a body over
 * the limit or an encoding we do not know come with their own 4xx (bad_request); a body
 * that does not decode as its Content-Encoding says (a plain body labelled gzip) comes as
 * a bare decompression error, which would otherwise be a 500.
 */
function unreadableBody(error: Error): never {
  if (typeof (error as { status?: unknown }).status === 'number') throw error;
  throw new AppError('body_encoding_invalid', {}, { cause: error });
}

/** JSON bodies of our own routes (oidc-provider reads its own). */
export function jsonBody(limit = '16kb'): Middleware {
  return bodyParser({ enableTypes: ['json'], jsonLimit: limit, onError: unreadableBody });
}

/** Form bodies of our own pages. */
export function formBody(limit = '16kb'): Middleware {
  return bodyParser({ enableTypes: ['form'], formLimit: limit, onError: unreadableBody });
}
