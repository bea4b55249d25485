import { formBody, jsonBody } from '../body.js';
import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type { Dependencies } from '../../deps.js';
import { accountApi } from './api.js';
import { accountLoginRoutes } from './login.js';
import { accountPages } from './pages.js';
import { rebindApi } from './rebind-api.js';
import { rebindPages } from './rebind-pages.js';
import { totpPages } from './totp-pages.js';
import { enterprisesApi } from '../api/enterprises.js';
import { enterprisePages } from './enterprise-pages.js';
import { wechatApi, wechatPages } from './wechat.js';

/** What the account centre needs from the composition root. */
export type AccountCentreDependencies = Pick<Dependencies,
  | 'config' | 'providers' | 'accounts' | 'pages' | 'csrf' | 'smsCodes' | 'captchas' | 'audit'
  | 'accountSessions' | 'securityEvents' | 'ownerCodes' | 'accountOverview'
  | 'addressChange' | 'passwordChange' | 'totpEnrolment' | 'phoneRebinding' | 'deregistration'
  | 'enterprises' | 'enterpriseRegistration' | 'enterpriseLogin'
  | 'wechatBindings' | 'acting'>;

/**
 * The citizen account centre (个人中心): pages under /account for the browser, signed in
 * by the provider's SSO session, and the same operations as JSON under /api/v1/account
 * for the app and the mini-program, signed in by a bearer access token.
 */
export function accountCentre(deps: AccountCentreDependencies): Middleware {
  const form = formBody();
  const json = jsonBody();
  const routers = [
    accountLoginRoutes({ issuer: deps.config.issuer }),
    accountPages(deps, form),
    totpPages(deps, form),
    rebindPages(deps, form),
    accountApi(deps, json),
    rebindApi(deps, json),
    enterprisePages(deps, form),
    enterprisesApi(deps, json),
    wechatPages(deps, form),
    wechatApi(deps, json),
  ];
  return compose(routers.map((router) => router.routes())) as Middleware;
}
