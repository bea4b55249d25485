import type { ErrorCode } from '../../errors.js';
import { accountResponses, rebindResponses } from '../account/responses.js';
import { accountSchemas } from '../account/schemas.js';
import { FLOW_ERRORS, SMS_CODE_ERRORS, SMS_SEND_ERRORS, type ApiOperation } from './openapi.js';
import { recoveryResponses, recoverySchemas } from './recovery.js';
import { qrLoginOperations } from './qr-login.js';
import { registrationOperations } from './registration.js';
import { enterpriseOperations } from './enterprises.js';
import { delegationOperations } from '../delegation/operations.js';
import { adminOperations } from '../admin/operations.js';
import { wechatResponses, wechatSchemas } from '../account/wechat.js';
import { captchaOperations } from './captchas.js';

const recovery = '/api/v1/recovery/:flowId';
const account = '/api/v1/account';
const rebind = `${account}/phone-rebinding/:flowId`;

const FLOW = FLOW_ERRORS;
/** A gateway outage is answered as a sent code here: only real matches reach the gateway (flows/recovery.ts). */
const RECOVERY_SEND: ErrorCode[] = ['sms_rate_limited', 'captcha_required', 'captcha_invalid'];
const recoveryOperations: ApiOperation[] = [
  { method: 'post', path: '/api/v1/recovery', tag: 'recovery', summary: 'Start a password recovery flow', returns: 'the flow, with its flow_token: send it as X-Flow-Token on every later call of the flow', status: 201, response: recoveryResponses.flow },
  { method: 'get', path: recovery, tag: 'recovery', summary: 'The flow as it stands', returns: 'the flow', response: recoveryResponses.flow, errors: ['flow_expired'] },
  { method: 'post', path: `${recovery}/identity`, tag: 'recovery', summary: 'ID number and name; if they match an account, a code goes to its bound phone (the answer is the same either way)', body: recoverySchemas.identity, returns: 'the flow (state code_sent)', response: recoveryResponses.flow, errors: [...FLOW, 'invalid_id_number', ...RECOVERY_SEND] },
  { method: 'post', path: `${recovery}/code/resend`, tag: 'recovery', summary: 'Send the code again', body: recoverySchemas.resend, returns: 'the code\'s lifetime', response: recoveryResponses.codeSent, errors: [...FLOW, ...RECOVERY_SEND] },
  { method: 'post', path: `${recovery}/code`, tag: 'recovery', summary: 'The SMS code', body: recoverySchemas.code, returns: 'the flow (state password)', response: recoveryResponses.flow, errors: [...FLOW, ...SMS_CODE_ERRORS] },
  { method: 'post', path: `${recovery}/password`, tag: 'recovery', summary: 'The new password; every session and refresh token of the account is revoked', body: recoverySchemas.password, returns: 'the flow (state complete)', response: recoveryResponses.flow, errors: [...FLOW, 'weak_password', 'account_banned', 'login_restart'] },
];

const TOTP_CHECK: ErrorCode[] = ['totp_invalid', 'attempts_exceeded'];
const OWNER_CODE: ErrorCode[] = [...SMS_CODE_ERRORS, 'phone_required'];
const a = accountResponses;
const accountOperations: ApiOperation[] = [
  { method: 'get', path: account, tag: 'account', bearer: true, summary: 'Profile (masked), second factor, verified factors', returns: 'the profile', response: a.overview },
  { method: 'get', path: `${account}/sessions`, tag: 'account', bearer: true, summary: 'Active sessions and the clients in them', returns: 'the sessions, newest first; current marks this token\'s', response: a.sessions },
  { method: 'delete', path: `${account}/sessions/:handle`, tag: 'account', bearer: true, summary: 'Sign out one session', returns: 'done', status: 204, errors: ['session_not_found'] },
  { method: 'delete', path: `${account}/sessions`, tag: 'account', bearer: true, summary: 'Sign out everywhere', returns: 'done', status: 204 },
  { method: 'get', path: `${account}/events`, tag: 'account', bearer: true, summary: 'Recent security events', returns: 'the events', response: a.events },
  { method: 'post', path: `${account}/password`, tag: 'account', bearer: true, summary: 'Change the password (revokes other sessions)', body: accountSchemas.password, returns: 'what was revoked', response: a.revoked, errors: ['password_incorrect', 'attempts_exceeded', 'weak_password', 'account_banned', 'login_restart'] },
  { method: 'post', path: `${account}/codes`, tag: 'account', bearer: true, summary: 'Send an SMS code to the bound phone for one operation', body: accountSchemas.sendCode, returns: 'the code\'s lifetime and where it went (masked)', response: a.codeSent, errors: ['phone_required', ...SMS_SEND_ERRORS] },
  { method: 'patch', path: `${account}/profile`, tag: 'account', bearer: true, summary: 'Change the address (needs a code)', body: accountSchemas.address, returns: 'the profile', response: a.overview, errors: OWNER_CODE },
  { method: 'post', path: `${account}/totp`, tag: 'account', bearer: true, summary: 'Start TOTP enrolment: secret and otpauth URI', returns: 'the enrolment', status: 201, response: a.totpStarted, errors: ['totp_already_enabled'] },
  { method: 'post', path: `${account}/totp/confirm`, tag: 'account', bearer: true, summary: 'Confirm with a current code; returns ten recovery codes once', body: accountSchemas.totpConfirm, returns: 'the recovery codes', response: a.totpConfirmed, errors: ['totp_already_enabled', 'totp_enrolment_expired', 'totp_invalid'] },
  { method: 'post', path: `${account}/totp/recovery-codes`, tag: 'account', bearer: true, summary: 'Replace the recovery codes with ten new ones, shown once; needs a current code', body: accountSchemas.totpConfirm, returns: 'the recovery codes', response: a.recoveryCodes, errors: ['totp_not_enabled', ...TOTP_CHECK] },
  { method: 'post', path: `${account}/totp/disable`, tag: 'account', bearer: true, summary: 'Turn TOTP off with a current code, or a recovery code and an SMS code', body: accountSchemas.totpDisable, returns: 'done', response: a.totpDisabled, errors: ['totp_not_enabled', ...TOTP_CHECK, ...OWNER_CODE, 'recovery_code_invalid'] },
  { method: 'get', path: `${account}/export`, tag: 'account', bearer: true, summary: 'Export my data (JSON attachment)', returns: 'the data', response: a.export },
  { method: 'post', path: `${account}/deregister`, tag: 'account', bearer: true, summary: 'Deregister (needs a code): tokens revoked, personal data erased, audit kept', body: accountSchemas.deregister, returns: 'done', status: 204, errors: OWNER_CODE },
  { method: 'post', path: `${account}/phone-rebinding`, tag: 'account', bearer: true, summary: 'Start re-binding the phone: with the old phone, or by proving identity again', body: accountSchemas.rebindStart, returns: 'the flow', status: 201, response: rebindResponses.flow, errors: ['phone_required'] },
  { method: 'get', path: rebind, tag: 'account', bearer: true, summary: 'The re-binding flow as it stands', returns: 'the flow', response: rebindResponses.flow, errors: ['flow_expired'] },
  { method: 'post', path: `${rebind}/old/code`, tag: 'account', bearer: true, summary: 'Send a code to the old phone', body: accountSchemas.captchaOnly, returns: 'the code\'s lifetime', response: rebindResponses.codeSent, errors: [...FLOW, 'phone_required', ...SMS_SEND_ERRORS] },
  { method: 'post', path: `${rebind}/old/verify`, tag: 'account', bearer: true, summary: 'The old phone\'s code', body: accountSchemas.code, returns: 'the flow (state new_code)', response: rebindResponses.flow, errors: [...FLOW, ...OWNER_CODE] },
  { method: 'post', path: `${rebind}/identity`, tag: 'account', bearer: true, summary: 'Old phone lost: name and ID number again', body: accountSchemas.identity, returns: 'the flow (state factors)', response: rebindResponses.flow, errors: [...FLOW, 'invalid_id_number', 'identity_mismatch', 'attempts_exceeded'] },
  { method: 'post', path: `${rebind}/factors`, tag: 'account', bearer: true, summary: 'Old phone lost: two further factors', body: accountSchemas.factor, returns: 'the flow', response: rebindResponses.flow, errors: [...FLOW, 'factor_duplicate', 'factor_mismatch', 'invalid_phone', 'attempts_exceeded', 'registry_unavailable'] },
  { method: 'post', path: `${rebind}/new/code`, tag: 'account', bearer: true, summary: 'Send a code to the new phone', body: accountSchemas.newPhone, returns: 'the code\'s lifetime and the new number (masked)', response: rebindResponses.newCodeSent, errors: [...FLOW, 'invalid_phone', 'phone_unchanged', ...SMS_SEND_ERRORS] },
  { method: 'post', path: `${rebind}/new/verify`, tag: 'account', bearer: true, summary: 'The new phone\'s code; binds it and notifies both numbers', body: accountSchemas.code, returns: 'the flow (state complete)', response: rebindResponses.flow, errors: [...FLOW, ...SMS_CODE_ERRORS, 'phone_in_use'] },
];

const wechatOperations: ApiOperation[] = [
  { method: 'get', path: `${account}/wechat`, tag: 'account', bearer: true, summary: 'WeChat identities bound to this account (masked)', returns: 'the bindings', response: wechatResponses.bindings },
  { method: 'post', path: `${account}/wechat`, tag: 'account', bearer: true, summary: 'Bind the WeChat identity of a binding_ticket (from the WeChat grant\'s wechat_unbound answer) to this account; the token must be the same client\'s', body: wechatSchemas.bind, returns: 'the binding', status: 201, response: wechatResponses.binding, errors: ['wechat_ticket_invalid', 'wechat_already_bound'] },
  { method: 'delete', path: `${account}/wechat/:id`, tag: 'account', bearer: true, summary: 'Unbind; the client\'s grants of this account are revoked', returns: 'done', status: 204, errors: ['wechat_binding_not_found'] },
];

/** Every /api/v1 operation, for the OpenAPI document. */
export function apiOperations(): ApiOperation[] {
  return [...registrationOperations, ...recoveryOperations, ...captchaOperations, ...accountOperations, ...qrLoginOperations, ...enterpriseOperations, ...delegationOperations, ...adminOperations, ...wechatOperations];
}
