import type { ApiOperation } from '../api/openapi.js';
import { enterpriseSchemas } from './enterprise-schemas.js';
import { adminSchemas } from './schemas.js';

const admin = '/api/v1/admin';
const staffOnly = { tag: 'admin', staffSession: true } as const;

/** Enterprise accounts in the console's JSON API (routes in enterprise-api.ts). */
export const enterpriseConsoleOperations: ApiOperation[] = [
  { method: 'get', path: `${admin}/enterprises`, ...staffOnly, summary: 'Find an enterprise account by unified social credit code (?q=, exact; the check character is verified first). Agents and supervisors', returns: '{ results }' },
  { method: 'get', path: `${admin}/enterprises/:id`, ...staffOnly, summary: 'An enterprise this session found: name, type, status, register status, representative (masked), grants by level and status, counter registrations, recent events, requests', returns: 'the enterprise' },
  { method: 'post', path: `${admin}/enterprises/:id/deregister`, ...staffOnly, summary: 'Deregister with a reason: every delegation grant revoked, every login acting for the enterprise ended. Agents', body: adminSchemas.reason, returns: '{ status, revoked_grants, ended_logins }' },
  { method: 'post', path: `${admin}/enterprises/:id/restore-requests`, ...staffOnly, summary: 'Ask a supervisor to restore a deregistered enterprise (revoked grants stay revoked). Agents', body: adminSchemas.reason, returns: 'the request', status: 201 },
  { method: 'post', path: `${admin}/counter/enterprises`, ...staffOnly, summary: 'Counter enterprise registration: the representative in person (completes at once) or a delegate with a power of attorney (number, and the scan as base64 or its SHA-256; an SMS code goes to the representative\'s register phone). Agents', body: enterpriseSchemas.counter, returns: 'the registration (state complete, or code_sent with flow_id)', status: 201 },
  { method: 'post', path: `${admin}/counter/enterprises/:flowId/confirm`, ...staffOnly, summary: 'The code the representative received: completes a registration by power of attorney', body: adminSchemas.code, returns: 'the registration (state complete)' },
];
