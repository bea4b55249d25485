import { translate, translateParams, type Locale, type MessageKey } from './i18n/messages.js';

/** Stable, machine-readable error codes. Clients may rely on them; never rename one. */
export type ErrorCode =
  | 'internal'
  | 'not_found'
  | 'method_not_allowed'
  | 'confirmation_required'
  | 'bad_request'
  | 'body_encoding_invalid'
  | 'csrf'
  | 'interaction_expired'
  | 'wrong_step'
  | 'unauthenticated'
  | 'forbidden'
  | 'invalid_id_number'
  | 'invalid_phone'
  | 'identity_mismatch'
  | 'person_not_eligible'
  | 'registry_unavailable'
  | 'sms_unavailable'
  | 'store_unavailable'
  | 'factor_mismatch'
  | 'factor_duplicate'
  | 'factors_insufficient'
  | 'phone_required'
  | 'code_invalid'
  | 'code_attempts_exceeded'
  | 'sms_rate_limited'
  | 'captcha_required'
  | 'captcha_invalid'
  | 'captcha_rate_limited'
  | 'weak_password'
  | 'agreement_required'
  | 'already_registered'
  | 'phone_in_use'
  | 'flow_expired'
  | 'flow_step_invalid'
  | 'flow_busy'
  | 'login_failed'
  | 'login_restart'
  | 'login_throttled'
  | 'account_locked'
  | 'account_banned'
  | 'totp_invalid'
  | 'totp_already_enabled'
  | 'totp_not_enabled'
  | 'password_change_required'
  | 'password_incorrect'
  | 'account_not_found'
  | 'session_not_found'
  | 'invalid_input'
  | 'login_state_invalid'
  | 'totp_enrolment_expired'
  | 'recovery_code_invalid'
  | 'phone_unchanged'
  | 'attempts_exceeded'
  | 'realname_checks_exceeded'
  | 'qr_expired'
  | 'qr_used'
  | 'qr_claimed'
  | 'qr_not_scanned'
  | 'qr_mismatch'
  | 'qr_pending'
  | 'qr_denied'
  | 'qr_scope_missing'
  | 'qr_client_not_allowed'
  | 'account_scope_missing'
  | 'account_client_not_allowed'
  | 'invalid_uscc'
  | 'assurance_too_low'
  | 'enterprise_not_in_registry'
  | 'enterprise_not_active'
  | 'enterprise_name_mismatch'
  | 'enterprise_representative_mismatch'
  | 'enterprise_representative_not_registered'
  | 'enterprise_already_registered'
  | 'enterprise_application_pending'
  | 'enterprise_application_rejected'
  | 'enterprise_application_not_found'
  | 'enterprise_not_found'
  | 'enterprise_not_representative'
  | 'enterprise_representative_vacant'
  | 'enterprise_login_disabled'
  | 'enterprise_login_failed'
  | 'federation_upstream_unknown'
  | 'federation_state_invalid'
  | 'federation_failed'
  | 'federation_denied'
  | 'federation_unavailable'
  | 'federation_acr_unsupported'
  | 'federation_claims_invalid'
  | 'federation_link_mismatch'
  | 'federation_already_linked'
  | 'delegation_enterprise_unavailable'
  | 'delegation_no_authority'
  | 'delegation_level_exceeded'
  | 'delegation_scope_exceeded'
  | 'delegation_period_exceeded'
  | 'delegation_grantee_not_found'
  | 'delegation_self'
  | 'delegation_duplicate'
  | 'delegation_grant_inactive'
  | 'delegation_conflict'
  | 'delegation_not_found'
  | 'delegation_request_decided'
  | 'identity_choice_invalid'
  | 'admin_needs_approval'
  | 'username_taken'
  | 'self_approval'
  | 'approval_closed'
  | 'approval_pending'
  | 'ban_reason_required'
  | 'account_not_banned'
  | 'account_not_active'
  | 'outside_search'
  | 'wechat_ticket_invalid'
  | 'wechat_already_bound'
  | 'wechat_binding_not_found'
  | 'power_of_attorney_required'
  | 'enterprise_not_deregistered'
  | 'client_exists'
  | 'client_file_managed'
  | 'client_metadata_invalid'
  | 'client_no_secret'
  | 'credentials_change_required'
  | 'credentials_changed_meanwhile'
  | 'roles_incompatible'
  | 'staff_self_administration'
  | 'staff_not_active'
  | 'staff_not_disabled'
  | 'staff_not_locked'
  | 'staff_role_unchanged'
  | 'staff_first_sign_in_by_creator';

const STATUS: Record<ErrorCode, number> = {
  internal: 500,
  not_found: 404,
  method_not_allowed: 405,
  confirmation_required: 400,
  bad_request: 400,
  body_encoding_invalid: 400,
  csrf: 403,
  interaction_expired: 400,
  wrong_step: 400,
  unauthenticated: 401,
  forbidden: 403,
  invalid_id_number: 400,
  invalid_phone: 400,
  identity_mismatch: 400,
  person_not_eligible: 400,
  registry_unavailable: 503,
  sms_unavailable: 503,
  store_unavailable: 503,
  factor_mismatch: 400,
  factor_duplicate: 400,
  factors_insufficient: 400,
  phone_required: 400,
  code_invalid: 400,
  code_attempts_exceeded: 400,
  sms_rate_limited: 429,
  captcha_required: 400,
  captcha_invalid: 400,
  captcha_rate_limited: 429,
  weak_password: 400,
  agreement_required: 400,
  already_registered: 409,
  phone_in_use: 409,
  flow_expired: 400,
  flow_step_invalid: 400,
  flow_busy: 409,
  login_failed: 401,
  login_restart: 409,
  login_throttled: 429,
  account_locked: 423,
  account_banned: 403,
  totp_invalid: 400,
  totp_already_enabled: 409,
  totp_not_enabled: 409,
  password_change_required: 403,
  password_incorrect: 400,
  account_not_found: 404,
  session_not_found: 404,
  invalid_input: 400,
  login_state_invalid: 400,
  totp_enrolment_expired: 400,
  recovery_code_invalid: 400,
  phone_unchanged: 400,
  attempts_exceeded: 429,
  realname_checks_exceeded: 429,
  qr_expired: 400,
  qr_used: 409,
  qr_claimed: 409,
  qr_not_scanned: 409,
  qr_mismatch: 400,
  qr_pending: 409,
  qr_denied: 400,
  qr_scope_missing: 403,
  qr_client_not_allowed: 403,
  account_scope_missing: 403,
  account_client_not_allowed: 403,
  invalid_uscc: 400,
  assurance_too_low: 403,
  enterprise_not_in_registry: 400,
  enterprise_not_active: 400,
  enterprise_name_mismatch: 400,
  enterprise_representative_mismatch: 400,
  enterprise_representative_not_registered: 400,
  enterprise_already_registered: 409,
  enterprise_application_pending: 409,
  enterprise_application_rejected: 409,
  enterprise_application_not_found: 404,
  enterprise_not_found: 404,
  enterprise_not_representative: 403,
  enterprise_representative_vacant: 409,
  enterprise_login_disabled: 403,
  enterprise_login_failed: 401,
  federation_upstream_unknown: 404,
  federation_state_invalid: 400,
  federation_failed: 502,
  federation_denied: 400,
  federation_unavailable: 503,
  federation_acr_unsupported: 403,
  federation_claims_invalid: 400,
  federation_link_mismatch: 409,
  federation_already_linked: 409,
  delegation_enterprise_unavailable: 404,
  delegation_no_authority: 403,
  delegation_level_exceeded: 400,
  delegation_scope_exceeded: 400,
  delegation_period_exceeded: 400,
  delegation_grantee_not_found: 400,
  delegation_self: 400,
  delegation_duplicate: 409,
  delegation_grant_inactive: 409,
  delegation_conflict: 409,
  delegation_not_found: 404,
  delegation_request_decided: 409,
  identity_choice_invalid: 400,
  admin_needs_approval: 403,
  username_taken: 409,
  self_approval: 403,
  approval_closed: 409,
  approval_pending: 409,
  ban_reason_required: 400,
  account_not_banned: 409,
  account_not_active: 409,
  outside_search: 403,
  wechat_ticket_invalid: 400,
  wechat_already_bound: 409,
  wechat_binding_not_found: 404,
  power_of_attorney_required: 400,
  enterprise_not_deregistered: 409,
  client_exists: 409,
  client_file_managed: 409,
  client_metadata_invalid: 400,
  client_no_secret: 409,
  credentials_change_required: 403,
  credentials_changed_meanwhile: 409,
  roles_incompatible: 409,
  staff_self_administration: 403,
  staff_not_active: 409,
  staff_not_disabled: 409,
  staff_not_locked: 409,
  staff_role_unchanged: 409,
  staff_first_sign_in_by_creator: 403,
};

/**
 * The one error type domain and HTTP code throw on purpose. The message shown to people
 * comes from the catalogues (`errors.<code>`), in the reader's language.
 */
/** Whether a string is one of the stable codes (a schema's custom issue may name one). */
export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(STATUS, value);
}

export class AppError extends Error {
  readonly status: number;

  constructor(readonly code: ErrorCode, readonly details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(code, options);
    this.name = 'AppError';
    this.status = STATUS[code];
  }

  get messageKey(): MessageKey {
    return `errors.${this.code}` as MessageKey;
  }

  /** The message for people, in their language, with its parameters filled in. */
  messageIn(locale: Locale): string {
    return translate(locale, this.messageKey, translateParams(locale, this.details));
  }
}
