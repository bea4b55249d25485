import type { MessageKey } from './i18n/messages.js';

/** Stable, machine-readable error codes. Clients may rely on them; never rename one. */
export type ErrorCode =
  | 'internal'
  | 'not_found'
  | 'bad_request'
  | 'csrf'
  | 'interaction_expired'
  | 'wrong_step'
  | 'login_unavailable';

const STATUS: Record<ErrorCode, number> = {
  internal: 500,
  not_found: 404,
  bad_request: 400,
  csrf: 403,
  interaction_expired: 400,
  wrong_step: 400,
  login_unavailable: 503,
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
}
