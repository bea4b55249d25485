import type { Middleware } from 'koa';
import { AppError } from '../errors.js';

/**
 * The methods each of the provider's endpoints serves (oidc-provider's default routes,
 * which we keep). A request with another method is answered 405 with `Allow` (RFC 9110
 * section 15.5.6) instead of falling through to the "page not found" page: a relying party
 * that posts where only GET is served learns exactly that.
 *
 * The authorization and end-session endpoints take POST (OpenID Connect Core 3.1.2.1,
 * RP-Initiated Logout 1.0 section 2) only when the issuer is https: a cross-site form post
 * carries the session cookie only as `SameSite=None; Secure` (see configuration/cookies.ts).
 */
export function endpointMethods(postAtBrowserEndpoints: boolean): ReadonlyMap<string, readonly string[]> {
  const browser = postAtBrowserEndpoints ? ['GET', 'HEAD', 'POST'] : ['GET', 'HEAD'];
  const cors = (...methods: string[]) => [...methods, 'OPTIONS'];
  return new Map<string, readonly string[]>([
    ['/auth', browser],
    ['/session/end', browser],
    ['/session/end/confirm', ['POST']],
    ['/session/end/success', ['GET', 'HEAD']],
    ['/token', cors('POST')],
    ['/token/introspection', cors('POST')],
    ['/token/revocation', cors('POST')],
    ['/request', cors('POST')],
    ['/me', cors('GET', 'HEAD', 'POST')],
    ['/jwks', cors('GET', 'HEAD')],
    ['/.well-known/openid-configuration', cors('GET', 'HEAD')],
    ['/.well-known/oauth-authorization-server', cors('GET', 'HEAD')],
  ]);
}

/** Refuses a method an endpoint does not serve: 405 `method_not_allowed`, with `Allow`. */
export function onlyServedMethods(methods: ReadonlyMap<string, readonly string[]>): Middleware {
  return async (ctx, next) => {
    const allowed = methods.get(ctx.path);
    if (allowed && !allowed.includes(ctx.method)) {
      ctx.set('Allow', allowed.join(', '));
      throw new AppError('method_not_allowed');
    }
    await next();
  };
}
