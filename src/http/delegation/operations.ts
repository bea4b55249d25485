import type { ErrorCode } from '../../errors.js';
import type { ApiOperation } from '../api/openapi.js';
import { delegationResponses as d, delegationSchemas } from './schemas.js';

const base = '/api/v1/delegations';

/** Whatever issues a grant checks the grantor's authority, then the grant against it. */
const ISSUE: ErrorCode[] = [
  'delegation_enterprise_unavailable', 'delegation_no_authority', 'delegation_grant_inactive', 'delegation_level_exceeded', 'delegation_self',
  'delegation_duplicate', 'delegation_scope_exceeded', 'delegation_period_exceeded', 'delegation_conflict',
];
const REQUEST: ErrorCode[] = ['delegation_not_found', 'delegation_request_decided'];

/** The delegation operations of the OpenAPI document. */
export const delegationOperations: ApiOperation[] = [
  { method: 'get', path: base, tag: 'delegation', bearer: true, summary: 'Enterprises I act for (role), grants I hold and grants I made', returns: 'the enterprises and grants', response: d.overview },
  { method: 'post', path: base, tag: 'delegation', bearer: true, summary: 'Grant authority: level = mine + 1 ≤ 3, scope and period within mine; grantee by ID number and name, or by phone', body: delegationSchemas.grant, returns: 'the grant', status: 201, response: d.grant, errors: ['invalid_phone', 'invalid_id_number', 'delegation_grantee_not_found', 'attempts_exceeded', ...ISSUE] },
  { method: 'get', path: `${base}/requests`, tag: 'delegation', bearer: true, summary: 'My requests, and the pending requests I may decide', returns: 'the requests', response: d.requests },
  { method: 'post', path: `${base}/requests`, tag: 'delegation', bearer: true, summary: 'Ask an enterprise (by USCC) for a scope and a period', body: delegationSchemas.request, returns: 'the request', status: 201, response: d.request, errors: ['delegation_enterprise_unavailable', 'delegation_duplicate', 'delegation_scope_exceeded', 'delegation_period_exceeded', 'delegation_conflict'] },
  { method: 'post', path: `${base}/requests/:requestId/approve`, tag: 'delegation', bearer: true, summary: 'Approve a request, possibly narrowing it; needs authority that allows re-delegation', body: delegationSchemas.approve, returns: 'the grant', status: 201, response: d.grant, errors: [...REQUEST, ...ISSUE] },
  { method: 'post', path: `${base}/requests/:requestId/reject`, tag: 'delegation', bearer: true, summary: 'Reject a request; needs authority that allows re-delegation', returns: 'done', status: 204, errors: [...REQUEST, 'delegation_enterprise_unavailable', 'delegation_no_authority', 'delegation_grant_inactive', 'delegation_conflict'] },
  { method: 'get', path: `${base}/enterprises/:enterpriseId`, tag: 'delegation', bearer: true, summary: 'The grants of an enterprise: all for the representative, their own subtree for a delegate', returns: 'the enterprise and its grants', response: d.tree, errors: ['delegation_not_found', 'delegation_no_authority'] },
  { method: 'get', path: `${base}/:grantId`, tag: 'delegation', bearer: true, summary: 'A grant and its history', returns: 'the grant and its history', response: d.history, errors: ['delegation_not_found'] },
  { method: 'patch', path: `${base}/:grantId`, tag: 'delegation', bearer: true, summary: 'Narrow or extend a grant within its parent\'s bounds; `version` refuses a change racing another', body: delegationSchemas.change, returns: 'the grant', response: d.grant, errors: ['delegation_not_found', 'delegation_no_authority', 'delegation_conflict', 'delegation_grant_inactive', 'delegation_scope_exceeded', 'delegation_period_exceeded'] },
  { method: 'post', path: `${base}/:grantId/cancel`, tag: 'delegation', bearer: true, summary: 'Cancel a grant and every grant below it; tokens issued under them stop working at once', body: delegationSchemas.cancel, returns: 'what was revoked', response: d.cancelled, errors: ['delegation_not_found', 'delegation_no_authority', 'delegation_conflict', 'delegation_grant_inactive'] },
];
