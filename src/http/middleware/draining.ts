import type { Middleware } from 'koa';

/**
 * Once shutdown has begun, every answer closes its connection: a keep-alive client would
 * otherwise go on sending requests on it until it is cut under them, and the process
 * could not exit before the shutdown timeout while clients kept it busy.
 */
export function closeConnectionsWhenDraining(draining: () => boolean): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      if (draining()) ctx.set('Connection', 'close');
    }
  };
}
