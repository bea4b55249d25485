import type { ErrorCode } from '../../errors.js';
import type { ApiOperation } from '../api/openapi.js';
import { FLOW_ERRORS, SMS_CODE_ERRORS } from '../api/openapi.js';
import { adminResponses as r, adminSchemas } from './schemas.js';
import { enterpriseConsoleOperations } from './enterprise-operations.js';
import { clientResponses, clientSchemas } from './client-schemas.js';
import { accessPolicySchema } from '../../oidc/access-policy.js';

const admin = '/api/v1/admin';
const staffOnly = { tag: 'admin', staffSession: true } as const;

/** An act on an account needs it found by this session's search first. */
const FOUND: ErrorCode[] = ['outside_search'];
/** The agent's in-person check: an active account, and the name and ID number typed from the card are its own. */
const IN_PERSON: ErrorCode[] = [...FOUND, 'account_not_active', 'identity_mismatch'];
/** Codes sent with staff present skip the captcha; the per-phone limits and the gateway still apply. */
const COUNTER_SEND: ErrorCode[] = ['sms_rate_limited', 'sms_unavailable'];
const COUNTER_CONFIRM: ErrorCode[] = [...FLOW_ERRORS, ...SMS_CODE_ERRORS];
/** What an approval's effect may find changed since the request: checked again when it is carried out. */
const DECISION: ErrorCode[] = ['not_found', 'self_approval', 'approval_closed', 'account_not_banned', 'enterprise_not_deregistered'];
const CLIENT: ErrorCode[] = ['not_found', 'client_file_managed'];

/** The console's JSON API, for the OpenAPI document (the routes are in api.ts and login.ts). */
export const adminOperations: ApiOperation[] = [
  { method: 'post', path: `${admin}/login`, tag: 'admin', summary: 'Staff sign-in, first step: username and password (sets a five-minute pending cookie)', body: adminSchemas.login, returns: 'the next step', response: r.passwordStep, errors: ['login_failed', 'account_locked'] },
  { method: 'post', path: `${admin}/login/totp`, tag: 'admin', summary: 'Staff sign-in, second step: the authenticator code, always required (sets the console session cookie)', body: adminSchemas.totp, returns: 'the next step and the session\'s absolute lifetime', response: r.totpStep, errors: ['login_state_invalid', 'totp_invalid', 'account_locked'] },
  { method: 'get', path: `${admin}/session`, ...staffOnly, summary: 'Who is signed in, with the CSRF token to send in X-CSRF-Token on writes', returns: 'the staff member and the CSRF token', response: r.session },
  { method: 'post', path: `${admin}/logout`, ...staffOnly, summary: 'End the console session', returns: 'done', status: 204 },
  { method: 'get', path: `${admin}/citizens`, ...staffOnly, summary: 'Find an account by ID number or phone (?q=, exact match); masked. Agents and supervisors', returns: 'the accounts found', response: r.citizens, errors: ['invalid_input'] },
  { method: 'get', path: `${admin}/citizens/:id`, ...staffOnly, summary: 'An account this session found: status, level, masked phone, factors, sessions, recent events, requests', returns: 'the account', response: r.citizen, errors: FOUND },
  { method: 'post', path: `${admin}/citizens/:id/password-reset`, ...staffOnly, summary: 'Counter password reset: name and ID number must match; returns a random password once; revokes every session and token; change forced; SMS notice. Agents', body: adminSchemas.identity, returns: 'the new password and what was revoked', response: r.passwordReset, errors: IN_PERSON },
  { method: 'post', path: `${admin}/citizens/:id/ban`, ...staffOnly, summary: 'Ban with a reason from the list (text required for "other"): sessions ended, grants and refresh tokens revoked, SMS notice. Agents', body: adminSchemas.ban, returns: 'the new status and what was revoked', response: r.banned, errors: [...FOUND, 'ban_reason_required', 'account_not_active'] },
  { method: 'post', path: `${admin}/citizens/:id/unban-requests`, ...staffOnly, summary: 'Ask a supervisor to lift a ban (the account must be banned). Agents', body: adminSchemas.reason, returns: 'the request', status: 201, response: r.approval, errors: [...FOUND, 'account_not_banned', 'approval_pending'] },
  { method: 'post', path: `${admin}/citizens/:id/phone-changes`, ...staffOnly, summary: 'Counter phone change (old phone lost): name and ID number must match; an SMS code goes to the new phone. Agents', body: adminSchemas.phoneChange, returns: 'the pending change (masked)', status: 201, response: r.phoneChange, errors: [...IN_PERSON, 'invalid_phone', 'phone_unchanged', 'phone_in_use', ...COUNTER_SEND] },
  { method: 'post', path: `${admin}/citizens/:id/phone-changes/:flowId/confirm`, ...staffOnly, summary: 'The new phone\'s code: binds it; the old and new numbers are told', body: adminSchemas.code, returns: 'the change (state complete)', response: r.phoneChange, errors: [...COUNTER_CONFIRM, 'account_not_active', 'phone_in_use'] },
  { method: 'post', path: `${admin}/counter/registrations`, ...staffOnly, summary: 'Counter registration: name and ID number (card reader), the applicant\'s phone; registry check, SMS code sent. Agents', body: adminSchemas.counterStart, returns: 'the pending registration (masked)', status: 201, response: r.counterStarted, errors: ['invalid_id_number', 'invalid_phone', 'identity_mismatch', 'person_not_eligible', 'registry_unavailable', 'already_registered', 'phone_in_use', ...COUNTER_SEND] },
  { method: 'post', path: `${admin}/counter/registrations/:flowId/confirm`, ...staffOnly, summary: 'The applicant\'s SMS code: creates the level-3 account and returns its initial password once', body: adminSchemas.code, returns: 'the hand-over data', response: r.counterDone, errors: [...COUNTER_CONFIRM, 'already_registered', 'phone_in_use'] },
  { method: 'get', path: `${admin}/approvals`, ...staffOnly, summary: 'Requests needing a second person (?status=pending|approved|rejected|expired)', returns: 'the requests', response: r.approvals },
  { method: 'post', path: `${admin}/approvals/:approvalId/approve`, ...staffOnly, summary: 'Approve a request (supervisors; admins for admin grants; never the requester)', body: adminSchemas.decision, returns: 'the request (approved)', response: r.approval, errors: DECISION },
  { method: 'post', path: `${admin}/approvals/:approvalId/reject`, ...staffOnly, summary: 'Reject a request (kept, with the decision)', body: adminSchemas.decision, returns: 'the request (rejected)', response: r.approval, errors: DECISION },
  { method: 'get', path: `${admin}/staff`, ...staffOnly, summary: 'Staff accounts and their roles. Admins', returns: 'the staff accounts', response: r.staff },
  { method: 'post', path: `${admin}/staff`, ...staffOnly, summary: 'Create a staff account (not admin); returns its password and otpauth URI once. Admins', body: adminSchemas.createStaff, returns: 'the credentials', status: 201, response: r.staffCreated, errors: ['admin_needs_approval', 'username_taken'] },
  { method: 'post', path: `${admin}/staff/:staffId/admin-requests`, ...staffOnly, summary: 'Ask a second admin to grant the admin role. Admins', body: adminSchemas.reason, returns: 'the request', status: 201, response: r.approval, errors: ['not_found', 'approval_pending'] },
  { method: 'get', path: `${admin}/audit`, ...staffOnly, summary: 'The audit log, newest first, 100 a page (?from, to, actor_kind, actor_id, action — exact or a prefix ending in ".", target_id, result, before). Auditors', returns: 'the records, and where the next page starts', response: r.audit, errors: ['invalid_input'] },
  { method: 'get', path: `${admin}/audit/export`, ...staffOnly, summary: 'The same filters as CSV (UTF-8 with BOM, up to 50,000 records). Auditors', returns: 'the records as CSV', media: 'text/csv', errors: ['invalid_input'] },
  ...enterpriseConsoleOperations,
  { method: 'get', path: `${admin}/clients`, ...staffOnly, summary: 'Registered clients: id, name, kind (web, native, mini-program, service), source (file or console), access policy summary. Admins', returns: 'the clients', response: clientResponses.clients },
  { method: 'post', path: `${admin}/clients`, ...staffOnly, summary: 'Register a client of a kind (web: confidential; native and mini-program: public with PKCE; service: client_credentials); metadata checked by oidc-provider before it is stored; a confidential client\'s secret is returned once, kept only as an HMAC-SHA-256 digest. Admins', body: clientSchemas.register, returns: 'the client, and a confidential client\'s secret', status: 201, response: clientResponses.registered, errors: ['client_exists', 'client_metadata_invalid'] },
  { method: 'get', path: `${admin}/clients/:clientId`, ...staffOnly, summary: 'One client: metadata and access policy (never the secret). Admins', returns: 'the client', response: clientResponses.client, errors: ['not_found'] },
  { method: 'post', path: `${admin}/clients/:clientId/metadata`, ...staffOnly, summary: 'Change a console client\'s name, redirect, post-logout and back-channel logout URIs (file clients: refused, edit CLIENTS_FILE); applies to the next request. Admins', body: clientSchemas.update, returns: 'the client', response: clientResponses.client, errors: [...CLIENT, 'client_metadata_invalid'] },
  { method: 'post', path: `${admin}/clients/:clientId/secret`, ...staffOnly, summary: 'Rotate a confidential console client\'s secret: the new one is returned once, the old one fails at once. Admins', returns: 'the new secret', response: clientResponses.secret, errors: [...CLIENT, 'client_no_secret'] },
  { method: 'post', path: `${admin}/clients/:clientId/policy`, ...staffOnly, summary: 'Replace a client\'s access policy (file clients too; it is then kept across CLIENTS_FILE imports); applies to the next authorization. Admins', body: accessPolicySchema, returns: 'the client', response: clientResponses.client, errors: ['not_found'] },
];
