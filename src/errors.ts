import { translate, translateParams, type Locale, type MessageKey } from './i18n/messages.js';

/** Stable, machine-readable error codes. Clients may rely on them; never rename one. */
export type ErrorCode =
  | 'internal'
  | 'not_found'
  | 'bad_request'
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
  | 'factor_mismatch'
  | 'factor_duplicate'
  | 'factors_insufficient'
  | 'phone_required'
  | 'code_invalid'
  | 'code_attempts_exceeded'
  | 'sms_rate_limited'
  | 'captcha_required'
  | 'captcha_invalid'
  | 'weak_password'
  | 'agreement_required'
  | 'already_registered'
  | 'phone_in_use'
  | 'flow_expired'
  | 'flow_step_invalid'
  | 'flow_busy'
  | 'login_failed'
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
  | 'attempts_exceeded';

const STATUS: Record<ErrorCode, number> = {
  internal: 500,
  not_found: 404,
  bad_request: 400,
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
  factor_mismatch: 400,
  factor_duplicate: 400,
  factors_insufficient: 400,
  phone_required: 400,
  code_invalid: 400,
  code_attempts_exceeded: 400,
  sms_rate_limited: 429,
  captcha_required: 400,
  captcha_invalid: 400,
  weak_password: 400,
  agreement_required: 400,
  already_registered: 409,
  phone_in_use: 409,
  flow_expired: 400,
  flow_step_invalid: 400,
  flow_busy: 409,
  login_failed: 401,
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
};

/**
 * The one error type domain and HTTP code throw on purpose. The message shown to people
 * comes from the catalogues (`errors.<code>`), in the reader's language.
 */
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
