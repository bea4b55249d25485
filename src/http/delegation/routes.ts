import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type { Dependencies } from '../../deps.js';
import { delegationApi } from './api.js';
import { delegationPages } from './pages.js';

export type DelegationDependencies = Pick<Dependencies, 'providers' | 'accounts' | 'pages' | 'csrf' | 'delegations' | 'acting'>;

/** Delegation pages under /account/delegations and the JSON API under /api/v1/delegations. */
export function delegationRoutes(deps: DelegationDependencies): Middleware {
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });
  const json = bodyParser({ enableTypes: ['json'], jsonLimit: '16kb' });
  return compose([delegationPages(deps, form).routes(), delegationApi(deps, json).routes()]) as Middleware;
}
