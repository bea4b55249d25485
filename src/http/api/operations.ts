import { accountSchemas } from '../account/schemas.js';
import type { ApiOperation } from './openapi.js';
import { recoverySchemas } from './recovery.js';
import { qrLoginOperations } from './qr-login.js';
import { registrationOperations } from './registration.js';
import { enterpriseOperations } from './enterprises.js';
import { delegationOperations } from '../delegation/operations.js';
import { adminOperations } from '../admin/operations.js';
import { wechatSchemas } from '../account/wechat.js';
import { captchaOperations } from './captchas.js';

const recovery = '/api/v1/recovery/:flowId';
const account = '/api/v1/account';
const rebind = `${account}/phone-rebinding/:flowId`;

const recoveryOperations: ApiOperation[] = [
  { method: 'post', path: '/api/v1/recovery', tag: 'recovery', summary: 'Start a password recovery flow', returns: 'the flow, with its flow_token: send it as X-Flow-Token on every later call of the flow', status: 201 },
  { method: 'get', path: recovery, tag: 'recovery', summary: 'The flow as it stands', returns: 'the flow' },
  { method: 'post', path: `${recovery}/identity`, tag: 'recovery', summary: 'ID number and name; if they match an account, a code goes to its bound phone (the answer is the same either way)', body: recoverySchemas.identity, returns: 'the flow (state code_sent)' },
  { method: 'post', path: `${recovery}/code/resend`, tag: 'recovery', summary: 'Send the code again', body: recoverySchemas.resend, returns: 'the flow' },
  { method: 'post', path: `${recovery}/code`, tag: 'recovery', summary: 'The SMS code', body: recoverySchemas.code, returns: 'the flow (state password)' },
  { method: 'post', path: `${recovery}/password`, tag: 'recovery', summary: 'The new password; every session and refresh token of the account is revoked', body: recoverySchemas.password, returns: 'the flow (state complete)' },
];

const accountOperations: ApiOperation[] = [
  { method: 'get', path: account, tag: 'account', bearer: true, summary: 'Profile (masked), second factor, verified factors', returns: 'the profile' },
  { method: 'get', path: `${account}/sessions`, tag: 'account', bearer: true, summary: 'Active sessions and the clients in them', returns: 'the sessions' },
  { method: 'delete', path: `${account}/sessions/:handle`, tag: 'account', bearer: true, summary: 'Sign out one session', returns: 'done' },
  { method: 'delete', path: `${account}/sessions`, tag: 'account', bearer: true, summary: 'Sign out everywhere', returns: 'done' },
  { method: 'get', path: `${account}/events`, tag: 'account', bearer: true, summary: 'Recent security events', returns: 'the events' },
  { method: 'post', path: `${account}/password`, tag: 'account', bearer: true, summary: 'Change the password (revokes other sessions)', body: accountSchemas.password, returns: 'done' },
  { method: 'post', path: `${account}/codes`, tag: 'account', bearer: true, summary: 'Send an SMS code to the bound phone for one operation', body: accountSchemas.sendCode, returns: '{ ttl_seconds }' },
  { method: 'patch', path: `${account}/profile`, tag: 'account', bearer: true, summary: 'Change the address (needs a code)', body: accountSchemas.address, returns: 'the profile' },
  { method: 'post', path: `${account}/totp`, tag: 'account', bearer: true, summary: 'Start TOTP enrolment: secret and otpauth URI', returns: 'the enrolment' },
  { method: 'post', path: `${account}/totp/confirm`, tag: 'account', bearer: true, summary: 'Confirm with a current code; returns ten recovery codes once', body: accountSchemas.totpConfirm, returns: 'the recovery codes' },
  { method: 'post', path: `${account}/totp/recovery-codes`, tag: 'account', bearer: true, summary: 'Replace the recovery codes with ten new ones, shown once; needs a current code', body: accountSchemas.totpConfirm, returns: 'the recovery codes' },
  { method: 'post', path: `${account}/totp/disable`, tag: 'account', bearer: true, summary: 'Turn TOTP off with a current code, or a recovery code and an SMS code', body: accountSchemas.totpDisable, returns: 'done' },
  { method: 'get', path: `${account}/export`, tag: 'account', bearer: true, summary: 'Export my data (JSON attachment)', returns: 'the data' },
  { method: 'post', path: `${account}/deregister`, tag: 'account', bearer: true, summary: 'Deregister (needs a code): tokens revoked, personal data erased, audit kept', body: accountSchemas.deregister, returns: 'done' },
  { method: 'post', path: `${account}/phone-rebinding`, tag: 'account', bearer: true, summary: 'Start re-binding the phone: with the old phone, or by proving identity again', body: accountSchemas.rebindStart, returns: 'the flow', status: 201 },
  { method: 'get', path: rebind, tag: 'account', bearer: true, summary: 'The re-binding flow as it stands', returns: 'the flow' },
  { method: 'post', path: `${rebind}/old/code`, tag: 'account', bearer: true, summary: 'Send a code to the old phone', body: accountSchemas.captchaOnly, returns: 'the flow' },
  { method: 'post', path: `${rebind}/old/verify`, tag: 'account', bearer: true, summary: 'The old phone\'s code', body: accountSchemas.code, returns: 'the flow' },
  { method: 'post', path: `${rebind}/identity`, tag: 'account', bearer: true, summary: 'Old phone lost: name and ID number again', body: accountSchemas.identity, returns: 'the flow' },
  { method: 'post', path: `${rebind}/factors`, tag: 'account', bearer: true, summary: 'Old phone lost: two further factors', body: accountSchemas.factor, returns: 'the flow' },
  { method: 'post', path: `${rebind}/new/code`, tag: 'account', bearer: true, summary: 'Send a code to the new phone', body: accountSchemas.newPhone, returns: 'the flow' },
  { method: 'post', path: `${rebind}/new/verify`, tag: 'account', bearer: true, summary: 'The new phone\'s code; binds it and notifies both numbers', body: accountSchemas.code, returns: 'the flow (state complete)' },
];

const wechatOperations: ApiOperation[] = [
  { method: 'get', path: `${account}/wechat`, tag: 'account', bearer: true, summary: 'WeChat identities bound to this account (masked)', returns: 'the bindings' },
  { method: 'post', path: `${account}/wechat`, tag: 'account', bearer: true, summary: 'Bind the WeChat identity of a binding_ticket (from the WeChat grant\'s wechat_unbound answer) to this account; the token must be the same client\'s', body: wechatSchemas.bind, returns: 'the binding', status: 201 },
  { method: 'delete', path: `${account}/wechat/:id`, tag: 'account', bearer: true, summary: 'Unbind; the client\'s grants of this account are revoked', returns: 'done' },
];

/** Every /api/v1 operation, for the OpenAPI document. */
export function apiOperations(): ApiOperation[] {
  return [...registrationOperations, ...recoveryOperations, ...captchaOperations, ...accountOperations, ...qrLoginOperations, ...enterpriseOperations, ...delegationOperations, ...adminOperations, ...wechatOperations];
}
