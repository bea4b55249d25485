import type { ApiOperation } from '../api/openapi.js';
import { adminSchemas } from './schemas.js';
import { enterpriseConsoleOperations } from './enterprise-operations.js';
import { clientSchemas } from './client-schemas.js';
import { accessPolicySchema } from '../../oidc/access-policy.js';

const admin = '/api/v1/admin';
const staffOnly = { tag: 'admin', staffSession: true } as const;

/** The console's JSON API, for the OpenAPI document (the routes are in api.ts and login.ts). */
export const adminOperations: ApiOperation[] = [
  { method: 'post', path: `${admin}/login`, tag: 'admin', summary: 'Staff sign-in, first step: username and password (sets a five-minute pending cookie)', body: adminSchemas.login, returns: '{ next: "totp" }' },
  { method: 'post', path: `${admin}/login/totp`, tag: 'admin', summary: 'Staff sign-in, second step: the authenticator code, always required (sets the console session cookie)', body: adminSchemas.totp, returns: '{ next: "session" }' },
  { method: 'get', path: `${admin}/session`, ...staffOnly, summary: 'Who is signed in, with the CSRF token to send in X-CSRF-Token on writes', returns: '{ staff, csrf_token }' },
  { method: 'post', path: `${admin}/logout`, ...staffOnly, summary: 'End the console session', returns: 'done', status: 204 },
  { method: 'get', path: `${admin}/citizens`, ...staffOnly, summary: 'Find an account by ID number or phone (?q=, exact match); masked. Agents and supervisors', returns: '{ results }' },
  { method: 'get', path: `${admin}/citizens/:id`, ...staffOnly, summary: 'An account this session found: status, level, masked phone, factors, sessions, recent events, requests', returns: 'the account' },
  { method: 'post', path: `${admin}/citizens/:id/password-reset`, ...staffOnly, summary: 'Counter password reset: name and ID number must match; returns a random password once; revokes every session and token; change forced; SMS notice. Agents', body: adminSchemas.identity, returns: '{ password, revoked_sessions, revoked_grants }' },
  { method: 'post', path: `${admin}/citizens/:id/ban`, ...staffOnly, summary: 'Ban with a reason from the list (text required for "other"): sessions ended, grants and refresh tokens revoked, SMS notice. Agents', body: adminSchemas.ban, returns: '{ status, revoked_sessions, revoked_grants }' },
  { method: 'post', path: `${admin}/citizens/:id/unban-requests`, ...staffOnly, summary: 'Ask a supervisor to lift a ban (the account must be banned). Agents', body: adminSchemas.reason, returns: 'the request', status: 201 },
  { method: 'post', path: `${admin}/citizens/:id/phone-changes`, ...staffOnly, summary: 'Counter phone change (old phone lost): name and ID number must match; an SMS code goes to the new phone. Agents', body: adminSchemas.phoneChange, returns: 'the pending change (masked)', status: 201 },
  { method: 'post', path: `${admin}/citizens/:id/phone-changes/:flowId/confirm`, ...staffOnly, summary: 'The new phone\'s code: binds it; the old and new numbers are told', body: adminSchemas.code, returns: 'the change (state complete)' },
  { method: 'post', path: `${admin}/counter/registrations`, ...staffOnly, summary: 'Counter registration: name and ID number (card reader), the applicant\'s phone; registry check, SMS code sent. Agents', body: adminSchemas.counterStart, returns: 'the pending registration (masked)', status: 201 },
  { method: 'post', path: `${admin}/counter/registrations/:flowId/confirm`, ...staffOnly, summary: 'The applicant\'s SMS code: creates the level-3 account and returns its initial password once', body: adminSchemas.code, returns: 'the hand-over data' },
  { method: 'get', path: `${admin}/approvals`, ...staffOnly, summary: 'Requests needing a second person (?status=pending|approved|rejected|expired)', returns: '{ approvals }' },
  { method: 'post', path: `${admin}/approvals/:approvalId/approve`, ...staffOnly, summary: 'Approve a request (supervisors; admins for admin grants; never the requester)', body: adminSchemas.decision, returns: 'the request' },
  { method: 'post', path: `${admin}/approvals/:approvalId/reject`, ...staffOnly, summary: 'Reject a request (kept, with the decision)', body: adminSchemas.decision, returns: 'the request' },
  { method: 'get', path: `${admin}/staff`, ...staffOnly, summary: 'Staff accounts and their roles. Admins', returns: '{ staff }' },
  { method: 'post', path: `${admin}/staff`, ...staffOnly, summary: 'Create a staff account (not admin); returns its password and otpauth URI once. Admins', body: adminSchemas.createStaff, returns: 'the credentials', status: 201 },
  { method: 'post', path: `${admin}/staff/:staffId/admin-requests`, ...staffOnly, summary: 'Ask a second admin to grant the admin role. Admins', body: adminSchemas.reason, returns: 'the request', status: 201 },
  { method: 'get', path: `${admin}/audit`, ...staffOnly, summary: 'The audit log, newest first, 100 a page (?from, to, actor_kind, actor_id, action — exact or a prefix ending in ".", target_id, result, before). Auditors', returns: '{ records, next_before }' },
  { method: 'get', path: `${admin}/audit/export`, ...staffOnly, summary: 'The same filters as CSV (UTF-8 with BOM, up to 50,000 records). Auditors', returns: 'text/csv' },
  ...enterpriseConsoleOperations,
  { method: 'get', path: `${admin}/clients`, ...staffOnly, summary: 'Registered clients: id, name, kind (web, native, mini-program, service), source (file or console), access policy summary. Admins', returns: '{ clients }' },
  { method: 'post', path: `${admin}/clients`, ...staffOnly, summary: 'Register a client of a kind (web: confidential; native and mini-program: public with PKCE; service: client_credentials); metadata checked by oidc-provider before it is stored; a confidential client\'s secret is returned once, kept only as an HMAC-SHA-256 digest. Admins', body: clientSchemas.register, returns: '{ client, client_secret? }', status: 201 },
  { method: 'get', path: `${admin}/clients/:clientId`, ...staffOnly, summary: 'One client: metadata and access policy (never the secret). Admins', returns: 'the client' },
  { method: 'post', path: `${admin}/clients/:clientId/metadata`, ...staffOnly, summary: 'Change a console client\'s name, redirect, post-logout and back-channel logout URIs (file clients: refused, edit CLIENTS_FILE); applies to the next request. Admins', body: clientSchemas.update, returns: 'the client' },
  { method: 'post', path: `${admin}/clients/:clientId/secret`, ...staffOnly, summary: 'Rotate a confidential console client\'s secret: the new one is returned once, the old one fails at once. Admins', returns: '{ client_id, client_secret }' },
  { method: 'post', path: `${admin}/clients/:clientId/policy`, ...staffOnly, summary: 'Replace a client\'s access policy (file clients too; it is then kept across CLIENTS_FILE imports); applies to the next authorization. Admins', body: accessPolicySchema, returns: 'the client' },
];
