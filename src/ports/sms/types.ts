/**
 * Why a message is sent. Code purposes carry a one-time code; `notice` tells the owner of
 * a phone that something happened to their account. Gateways and the outbox record the
 * purpose so that operators (and tests) can tell messages apart without reading texts.
 */
export type SmsPurpose = 'register' | 'login' | 'reset' | 'rebind-old' | 'rebind-new' | 'verify' | 'notice' | 'enterprise' | 'counter';

export type CodePurpose = Exclude<SmsPurpose, 'notice'>;

export const SMS_PURPOSES: readonly SmsPurpose[] = ['register', 'login', 'reset', 'rebind-old', 'rebind-new', 'verify', 'notice', 'enterprise', 'counter'];

export interface SmsMessage {
  /** An 11-digit mainland mobile number, already normalised by the caller. */
  to: string;
  purpose: SmsPurpose;
  /** The one-time code the text contains, for code purposes only. */
  code?: string;
  /** The full text, signature included (templates.ts builds it). */
  text: string;
}

/**
 * Sends text messages. `send` resolves once the gateway has accepted the message and
 * throws UpstreamUnavailableError (ports/errors.ts) when it could not be handed over.
 * It never sends one message twice: a failure after the gateway may have received the
 * request is reported, not retried.
 */
export interface SmsGateway {
  readonly kind: 'outbox' | 'http';
  send(message: SmsMessage): Promise<void>;
}

/** Refuses a message that could only be a programming error, before it leaves the process. */
export function assertValidMessage(message: SmsMessage): void {
  if (!/^1[3-9]\d{9}$/.test(message.to)) throw new TypeError('sms: "to" must be an 11-digit mainland mobile number');
  if (!SMS_PURPOSES.includes(message.purpose)) throw new TypeError(`sms: unknown purpose "${String(message.purpose)}"`);
  if (message.purpose === 'notice') {
    if (message.code !== undefined) throw new TypeError('sms: a notice carries no code');
  } else if (message.code === undefined || !/^\d{4,8}$/.test(message.code) || !message.text.includes(message.code)) {
    throw new TypeError('sms: a code message needs a 4-8 digit code that its text contains');
  }
  if (message.text.trim() === '') throw new TypeError('sms: empty text');
}
