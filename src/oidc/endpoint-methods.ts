import type { Middleware } from 'koa';
import { AppError } from '../errors.js';

/** One of the provider's endpoints (oidc-provider's default routes, which we keep). */
export interface ProviderEndpoint {
  /** The methods it serves; another is answered 405 with `Allow`. */
  methods: readonly string[];
  /**
   * No route of ours serves this path, and it is among the busiest (tokens, userinfo,
   * keys): requests go straight to the provider instead of through every route table.
   */
  direct: boolean;
}

/**
 * The provider's endpoints and the methods each serves. A request with another method is
 * answered 405 with `Allow` (RFC 9110 section 15.5.6) instead of falling through to the
 * "page not found" page: a relying party that posts where only GET is served learns
 * exactly that.
 *
 * The authorization and end-session endpoints take POST (OpenID Connect Core 3.1.2.1,
 * RP-Initiated Logout 1.0 section 2) only when the issuer is https: a cross-site form post
 * carries the session cookie only as `SameSite=None; Secure` (see configuration/cookies.ts).
 */
export function providerEndpoints(postAtBrowserEndpoints: boolean): ReadonlyMap<string, ProviderEndpoint> {
  const browser = postAtBrowserEndpoints ? ['GET', 'HEAD', 'POST'] : ['GET', 'HEAD'];
  const cors = (...methods: string[]) => [...methods, 'OPTIONS'];
  const routed = (methods: readonly string[]): ProviderEndpoint => ({ methods, direct: false });
  const direct = (methods: readonly string[]): ProviderEndpoint => ({ methods, direct: true });
  return new Map<string, ProviderEndpoint>([
    ['/auth', routed(browser)],
    ['/session/end', routed(browser)],
    ['/session/end/confirm', routed(['POST'])],
    ['/session/end/success', routed(['GET', 'HEAD'])],
    ['/token', direct(cors('POST'))],
    ['/token/introspection', direct(cors('POST'))],
    ['/token/revocation', direct(cors('POST'))],
    ['/request', routed(cors('POST'))],
    ['/me', direct(cors('GET', 'HEAD', 'POST'))],
    ['/jwks', direct(cors('GET', 'HEAD'))],
    ['/.well-known/openid-configuration', routed(cors('GET', 'HEAD'))],
    ['/.well-known/oauth-authorization-server', routed(cors('GET', 'HEAD'))],
  ]);
}

/** The paths whose requests go straight to the provider (see the routing test). */
export function directProviderPaths(endpoints: ReadonlyMap<string, ProviderEndpoint>): ReadonlySet<string> {
  return new Set([...endpoints].filter(([, endpoint]) => endpoint.direct).map(([path]) => path));
}

/** Where the provider resumes an authorization after its interaction (`/auth/:uid`): GET only. */
const RESUME = /^\/auth\/[^/]+$/;
const RESUME_METHODS = ['GET', 'HEAD'] as const;

/** Refuses a method an endpoint does not serve: 405 `method_not_allowed`, with `Allow`. */
export function onlyServedMethods(endpoints: ReadonlyMap<string, ProviderEndpoint>): Middleware {
  return async (ctx, next) => {
    const allowed: readonly string[] | undefined = endpoints.get(ctx.path)?.methods ?? (RESUME.test(ctx.path) ? RESUME_METHODS : undefined);
    if (allowed && !allowed.includes(ctx.method)) {
      ctx.set('Allow', allowed.join(', '));
      throw new AppError('method_not_allowed');
    }
    await next();
  };
}
