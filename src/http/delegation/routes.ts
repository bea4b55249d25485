import { formBody, jsonBody } from '../body.js';
import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type { Dependencies } from '../../deps.js';
import { delegationApi } from './api.js';
import { delegationPages } from './pages.js';

export type DelegationDependencies = Pick<Dependencies, 'providers' | 'accounts' | 'pages' | 'csrf' | 'delegations' | 'acting'>;

/** Delegation pages under /account/delegations and the JSON API under /api/v1/delegations. */
export function delegationRoutes(deps: DelegationDependencies): Middleware {
  const form = formBody();
  const json = jsonBody();
  return compose([delegationPages(deps, form).routes(), delegationApi(deps, json).routes()]) as Middleware;
}
