import type { ErrorCode } from '../../errors.js';
import type { ApiOperation } from '../api/openapi.js';
import { FLOW_ERRORS, SMS_CODE_ERRORS } from '../api/openapi.js';
import { enterpriseConsoleResponses as r, enterpriseSchemas } from './enterprise-schemas.js';
import { adminSchemas, approvalView } from './schemas.js';

const admin = '/api/v1/admin';
const staffOnly = { tag: 'admin', staffSession: true } as const;

/** The register is asked at the start and again at the confirmation: it may have changed in between. */
const REGISTER: ErrorCode[] = [
  'invalid_uscc', 'enterprise_not_in_registry', 'enterprise_not_active', 'enterprise_name_mismatch', 'registry_unavailable',
  'enterprise_representative_mismatch', 'enterprise_representative_not_registered', 'enterprise_already_registered',
];

/** Enterprise accounts in the console's JSON API (routes in enterprise-api.ts). */
export const enterpriseConsoleOperations: ApiOperation[] = [
  { method: 'get', path: `${admin}/enterprises`, ...staffOnly, summary: 'Find an enterprise account by unified social credit code (?q=, exact; the check character is verified first). Agents and supervisors', returns: 'the enterprises found', response: r.search, errors: ['invalid_input', 'invalid_uscc'] },
  { method: 'get', path: `${admin}/enterprises/:id`, ...staffOnly, summary: 'An enterprise this session found: name, type, status, register status, representative (masked), grants by level and status, counter registrations, recent events, requests', returns: 'the enterprise', response: r.detail, errors: ['outside_search'] },
  { method: 'post', path: `${admin}/enterprises/:id/deregister`, ...staffOnly, summary: 'Deregister with a reason: every delegation grant revoked, every login acting for the enterprise ended. Agents', body: adminSchemas.reason, returns: 'the new status and what was ended', response: r.deregistered, errors: ['outside_search', 'account_not_active'] },
  { method: 'post', path: `${admin}/enterprises/:id/restore-requests`, ...staffOnly, summary: 'Ask a supervisor to restore a deregistered enterprise (revoked grants stay revoked). Agents', body: adminSchemas.reason, returns: 'the request', status: 201, response: approvalView, errors: ['outside_search', 'enterprise_not_deregistered', 'approval_pending'] },
  { method: 'post', path: `${admin}/counter/enterprises`, ...staffOnly, summary: 'Counter enterprise registration: the representative in person (completes at once) or a delegate with a power of attorney (number, and the scan as base64 or its SHA-256; an SMS code goes to the representative\'s register phone). Agents', body: enterpriseSchemas.counter, returns: 'the registration (state complete, or code_sent with flow_id)', status: 201, response: r.counter, errors: [...REGISTER, 'invalid_id_number', 'power_of_attorney_required', 'sms_rate_limited', 'sms_unavailable'] },
  { method: 'post', path: `${admin}/counter/enterprises/:flowId/confirm`, ...staffOnly, summary: 'The code the representative received: completes a registration by power of attorney', body: adminSchemas.code, returns: 'the registration (state complete)', response: r.counter, errors: [...FLOW_ERRORS, ...REGISTER, ...SMS_CODE_ERRORS] },
];
