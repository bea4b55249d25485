import type { Middleware } from 'koa';

/**
 * Headers for every response. Pages load only our own stylesheet and images; no script
 * runs inline, no one may frame us, nothing leaks in a Referer.
 */
export function securityHeaders(options: { https: boolean }): Middleware {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  // Set before the handler runs: oidc-provider adds the hash of its own auto-submit
  // script (form_post, logout without a session) to this policy.
  return async (ctx, next) => {
    ctx.set('Content-Security-Policy', csp);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
    if (options.https) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}

/** Pages with personal data or one-time tokens must never be stored by a browser or proxy. */
export const noStore: Middleware = async (ctx, next) => {
  await next();
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
};
