import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../../log.js';
import type { Metrics } from '../metrics.js';

const INCOMING_ID = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * Names the route a request hit for metrics without using raw paths, which would let
 * anyone grow the label set (and carry uids, codes or other data in labels).
 */
export function routeLabel(path: string, matched: string | undefined): string {
  if (matched) return matched;
  if (path.startsWith('/interaction/')) return '/interaction/:uid';
  if (path.startsWith('/static/')) return '/static';
  const known = ['/auth', '/token', '/me', '/jwks', '/session/end', '/token/introspection', '/token/revocation',
    '/request', '/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/healthz', '/readyz', '/metrics'];
  return known.find((route) => path === route || path.startsWith(`${route}/`)) ?? 'other';
}

/**
 * Request id, a child logger, one access-log line per request, metrics. The line names the
 * route, never the path or query: paths carry flow ids, interaction uids and handles, which
 * are keys to someone's step in progress, and queries carry codes.
 */
export function requestContext(logger: Logger, metrics: Metrics): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('x-request-id');
    const requestId = INCOMING_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    // Made when first used: a child logger runs its bindings through the redaction rules,
    // which costs more than most requests that never log anything.
    let log: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', {
      configurable: true,
      enumerable: true,
      get: () => (log ??= logger.child({ request_id: requestId })),
    });
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeLabel(ctx.path, ctx._matchedRoute ? String(ctx._matchedRoute) : undefined);
      metrics.requests.inc({ route, method: ctx.method, status: `${Math.floor(ctx.status / 100)}xx` });
      metrics.latency.observe({ route, method: ctx.method }, seconds);
      if (logger.isLevelEnabled('info')) ctx.state.log.info({ method: ctx.method, route, status: ctx.status, ms: Math.round(seconds * 1000) }, 'request');
    }
  };
}
