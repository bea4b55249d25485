import type { ApiOperation } from '../api/openapi.js';
import { delegationSchemas } from './schemas.js';

const base = '/api/v1/delegations';

/** The delegation operations of the OpenAPI document. */
export const delegationOperations: ApiOperation[] = [
  { method: 'get', path: base, tag: 'delegation', bearer: true, summary: 'Enterprises I act for (role), grants I hold and grants I made', returns: '{ enterprises, held, granted }' },
  { method: 'post', path: base, tag: 'delegation', bearer: true, summary: 'Grant authority: level = mine + 1 ≤ 3, scope and period within mine; grantee by ID number and name, or by phone', body: delegationSchemas.grant, returns: 'the grant', status: 201 },
  { method: 'get', path: `${base}/requests`, tag: 'delegation', bearer: true, summary: 'My requests, and the pending requests I may decide', returns: '{ mine, to_decide }' },
  { method: 'post', path: `${base}/requests`, tag: 'delegation', bearer: true, summary: 'Ask an enterprise (by USCC) for a scope and a period', body: delegationSchemas.request, returns: 'the request', status: 201 },
  { method: 'post', path: `${base}/requests/:requestId/approve`, tag: 'delegation', bearer: true, summary: 'Approve a request, possibly narrowing it; needs authority that allows re-delegation', body: delegationSchemas.approve, returns: 'the grant', status: 201 },
  { method: 'post', path: `${base}/requests/:requestId/reject`, tag: 'delegation', bearer: true, summary: 'Reject a request; needs authority that allows re-delegation', returns: 'done', status: 204 },
  { method: 'get', path: `${base}/enterprises/:enterpriseId`, tag: 'delegation', bearer: true, summary: 'The grants of an enterprise: all for the representative, their own subtree for a delegate', returns: '{ enterprise, grants }' },
  { method: 'get', path: `${base}/:grantId`, tag: 'delegation', bearer: true, summary: 'A grant and its history', returns: '{ grant, history }' },
  { method: 'patch', path: `${base}/:grantId`, tag: 'delegation', bearer: true, summary: 'Narrow or extend a grant within its parent\'s bounds; `version` refuses a change racing another', body: delegationSchemas.change, returns: 'the grant' },
  { method: 'post', path: `${base}/:grantId/cancel`, tag: 'delegation', bearer: true, summary: 'Cancel a grant and every grant below it; tokens issued under them stop working at once', body: delegationSchemas.cancel, returns: '{ revoked }' },
];
