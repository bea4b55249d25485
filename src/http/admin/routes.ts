import { formBody, jsonBody } from '../body.js';
import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type { Dependencies } from '../../deps.js';
import { consoleApi } from './api.js';
import { consoleCredentials } from './credentials.js';
import { consoleLogin } from './login.js';
import { consolePages } from './pages.js';
import { enterpriseConsoleApi } from './enterprise-api.js';
import { enterpriseConsolePages } from './enterprise-pages.js';

/** The helpdesk and administration console: pages under /admin, JSON under /api/v1/admin. */
export function adminConsole(deps: Pick<Dependencies, 'staff' | 'audit' | 'csrf' | 'pages' | 'config'>): Middleware {
  const form = formBody();
  const json = jsonBody();
  const console = { staff: deps.staff, audit: deps.audit, csrf: deps.csrf, pages: deps.pages };
  const routers = [
    consoleLogin(console, form, json),
    ...consoleCredentials(console, form, json),
    consolePages({ ...console, agreementVersion: deps.config.agreementVersion, issuer: deps.config.issuer, site: deps.config.site, serviceHall: deps.config.serviceHall }, form),
    consoleApi(console, json),
    enterpriseConsolePages(console, form),
    enterpriseConsoleApi(console, json),
  ];
  return compose(routers.map((router) => router.routes())) as Middleware;
}
