import Koa from 'koa';
import compose from 'koa-compose';
import type Provider from 'oidc-provider';
import type { Dependencies } from './deps.js';
import { interactionRoutes } from './http/interaction/routes.js';
import { closeConnectionsWhenDraining } from './http/middleware/draining.js';
import { errorHandler } from './http/middleware/errors.js';
import { locale } from './http/middleware/locale.js';
import { readingMode } from './http/middleware/reading-mode.js';
import { requestContext } from './http/middleware/request-context.js';
import { securityHeaders } from './http/middleware/security-headers.js';
import { opsRoutes } from './http/ops/routes.js';
import { openApiRoute } from './http/api/openapi.js';
import { apiOperations } from './http/api/operations.js';
import { registrationApi } from './http/api/registration.js';
import { captchaApi } from './http/api/captchas.js';
import { registrationPages } from './http/self-service/registration-pages.js';
import { recoveryApi } from './http/api/recovery.js';
import { recoveryPages } from './http/self-service/recovery-pages.js';
import { accountCentre } from './http/account/routes.js';
import { staticRoutes } from './http/static.js';
import { identityChoiceRoutes } from './http/interaction/identity-choice.js';
import { delegationRoutes } from './http/delegation/routes.js';
import Router from '@koa/router';
import { qrLoginApi } from './http/api/qr-login.js';
import { enterpriseLoginOffered, enterpriseLoginRoutes } from './http/interaction/enterprise-login.js';
import { federationHooks, federationRoutes } from './http/interaction/federation.js';
import { adminConsole } from './http/admin/routes.js';
import { withRequestScope } from './request-scope.js';
import { directProviderPaths, onlyServedMethods, providerEndpoints } from './oidc/endpoint-methods.js';
import { staffSurface } from './http/middleware/staff-surface.js';

export interface AppState {
  /** True once shutdown has begun: readiness fails so load balancers stop sending traffic. */
  draining: boolean;
}

/** Builds the Koa app; it does not listen (tests use app.callback()). */
export async function buildApp(deps: Dependencies, state: AppState = { draining: false }): Promise<Koa> {
  // Behind proxies, only the entries they appended are believed: a client's own
  // X-Forwarded-For entries (to the left) must not choose the address limits and audit see.
  const app = new Koa({ proxy: deps.config.trustProxy, maxIpsCount: deps.config.trustProxyHops, keys: deps.config.secrets.cookieKeys });

  const ops = opsRoutes({
    probes: [
      { name: 'database', check: () => deps.database.ping() },
      { name: 'cache', check: () => deps.cache.ping() },
    ],
    metrics: deps.metrics,
    draining: () => state.draining,
  });
  const interactions = interactionRoutes({
    provider: () => deps.providers.current,
    pages: deps.pages,
    csrf: deps.csrf,
    authentication: deps.authentication,
    accounts: deps.accounts,
    passwords: deps.passwords,
    pending: deps.pendingLogins,
    smsCodes: deps.smsCodes,
    captchas: deps.captchas,
    qrLogins: deps.qrLogins,
    enterpriseLoginOffered: enterpriseLoginOffered(() => deps.providers.current, deps.config.enterpriseAccountLogin),
    federation: federationHooks(deps.federation),
    appOpenUrl: deps.config.site.appOpenUrl,
  });
  const enterpriseLogin = enterpriseLoginRoutes({
    provider: () => deps.providers.current, pages: deps.pages, csrf: deps.csrf, smsCodes: deps.smsCodes, captchas: deps.captchas,
    enterpriseLogin: deps.enterpriseLogin, pending: deps.pendingLogins, deploymentAllows: deps.config.enterpriseAccountLogin,
  });
  const federated = federationRoutes({
    provider: () => deps.providers.current, pages: deps.pages, csrf: deps.csrf, federation: deps.federation, pending: deps.pendingLogins, agreementVersion: deps.config.agreementVersion,
  });
  const assets = await staticRoutes();
  const registerPages = registrationPages({
    registration: deps.registration, pages: deps.pages, csrf: deps.csrf, smsCodes: deps.smsCodes, captchas: deps.captchas, agreementVersion: deps.config.agreementVersion,
  });
  const registerApi = registrationApi(deps.registration);
  const recoverPages = recoveryPages({ recovery: deps.recovery, pages: deps.pages, csrf: deps.csrf, smsCodes: deps.smsCodes, captchas: deps.captchas });
  const recoverApi = recoveryApi(deps.recovery);
  const agreement = new Router().get('/agreement', (ctx) => {
    deps.pages.render(ctx, 'agreement', ctx.state.locale, { version: deps.config.agreementVersion });
  });

  // The provider is mounted at the root, after our own routes; a key rotation swaps it.
  const composed = new WeakMap<Provider, Koa.Middleware>();
  const oidc: Koa.Middleware = (ctx, next) => {
    const provider = deps.providers.current;
    let middleware = composed.get(provider);
    if (!middleware) {
      middleware = compose(provider.middleware) as Koa.Middleware;
      composed.set(provider, middleware);
    }
    return middleware(ctx, next);
  };

  app.use(closeConnectionsWhenDraining(() => state.draining));
  app.use((_ctx, next) => withRequestScope(next));
  app.use(requestContext(deps.logger, deps.metrics));
  app.use(securityHeaders({ https: deps.config.issuer.startsWith('https://') }));
  app.use(locale);
  app.use(readingMode);
  app.use(errorHandler(deps.pages, { retryAfterSeconds: deps.config.storeRetryAfterSeconds }));
  app.use(staffSurface({ adminPort: deps.config.adminPort, allowedNetworks: deps.config.adminAllowedNetworks }));
  const endpoints = providerEndpoints(deps.config.issuer.startsWith('https://'));
  app.use(onlyServedMethods(endpoints));
  // A path one of our routers serves, asked with a method none of them serves: 405 with
  // Allow (every router records what it matched; this looks once they all have passed).
  app.use(new Router().allowedMethods());
  // Token, userinfo and key requests are the provider's alone and the busiest: they go
  // straight to it instead of through every route table below.
  const direct = directProviderPaths(endpoints);
  app.use((ctx, next) => (direct.has(ctx.path) ? oidc(ctx, next) : next()));
  app.use(ops.routes());
  app.use(assets.routes());
  app.use(federated.routes());
  app.use(identityChoiceRoutes({ provider: () => deps.providers.current, pages: deps.pages, csrf: deps.csrf, acting: deps.acting, audit: deps.audit, enterprises: deps.enterprises }).routes());
  app.use(interactions.routes());
  app.use(enterpriseLogin.routes());
  app.use(registerPages.routes());
  app.use(registerApi.routes());
  app.use(recoverPages.routes());
  app.use(recoverApi.routes());
  app.use(captchaApi(deps.captchas, deps.cache).routes());
  app.use(agreement.routes());
  app.use(openApiRoute(deps.config.issuer, apiOperations).routes());
  app.use(accountCentre(deps));
  app.use(qrLoginApi({ provider: () => deps.providers.current, accounts: deps.accounts, acting: deps.acting, qrLogins: deps.qrLogins }).routes());
  app.use(delegationRoutes(deps));
  app.use(adminConsole(deps));
  app.use(oidc);

  // Errors are answered by errorHandler; this only keeps Koa from printing them again.
  app.silent = true;
  return app;
}
