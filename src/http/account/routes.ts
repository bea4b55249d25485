import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type { Provider } from 'oidc-provider';
import type { AuditLog } from '../../audit/audit-log.js';
import type { SecurityEvents } from '../../audit/audit-queries.js';
import type { PhoneRebinding } from '../../flows/phone-rebinding.js';
import type { AccountOverview } from '../../identity/account-overview.js';
import type { Accounts } from '../../identity/accounts.js';
import type { AddressChange } from '../../identity/address-change.js';
import type { Deregistration } from '../../identity/deregistration.js';
import type { OwnerCodes } from '../../identity/owner-codes.js';
import type { PasswordChange } from '../../identity/password-change.js';
import type { TotpEnrolment } from '../../identity/totp-enrolment.js';
import type { AccountSessions } from '../../oidc/account-sessions.js';
import type { SessionRevocation } from '../../oidc/session-revocation.js';
import type { Captchas } from '../../verification/captcha.js';
import type { SmsCodes } from '../../verification/sms-codes.js';
import type { CsrfTokens } from '../csrf.js';
import type { PageRenderer } from '../render.js';
import { accountApi } from './api.js';
import { accountLoginRoutes } from './login.js';
import { accountPages } from './pages.js';
import { rebindApi } from './rebind-api.js';
import { rebindPages } from './rebind-pages.js';
import { totpPages } from './totp-pages.js';

/** What the account centre needs from the composition root (deps.ts provides all of it). */
export interface AccountCentreDependencies {
  config: { issuer: string };
  providers: { readonly current: Provider };
  accounts: Accounts;
  pages: PageRenderer;
  csrf: CsrfTokens;
  smsCodes: SmsCodes;
  captchas: Captchas;
  audit: AuditLog;
  accountSessions: AccountSessions;
  sessionRevocation: SessionRevocation;
  securityEvents: SecurityEvents;
  ownerCodes: OwnerCodes;
  accountOverview: AccountOverview;
  addressChange: AddressChange;
  passwordChange: PasswordChange;
  totpEnrolment: TotpEnrolment;
  phoneRebinding: PhoneRebinding;
  deregistration: Deregistration;
}

/**
 * The citizen account centre (个人中心): pages under /account for the browser, signed in
 * by the provider's SSO session, and the same operations as JSON under /api/v1/account
 * for the app and the mini-program, signed in by a bearer access token.
 */
export function accountCentre(deps: AccountCentreDependencies): Middleware {
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });
  const json = bodyParser({ enableTypes: ['json'], jsonLimit: '16kb' });
  const routers = [
    accountLoginRoutes({ issuer: deps.config.issuer }),
    accountPages(deps, form),
    totpPages(deps, form),
    rebindPages(deps, form),
    accountApi(deps, json),
    rebindApi(deps, json),
  ];
  return compose(routers.map((router) => router.routes())) as Middleware;
}
