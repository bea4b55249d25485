import { AppError } from '../errors.js';
import type { SmsCodes } from '../verification/sms-codes.js';
import type { Accounts } from './accounts.js';
import { maskPhone } from './masking.js';

/** What a code to the bound phone is asked for; a code sent for one cannot authorise another. */
export const OWNER_OPERATIONS = ['profile', 'deregister', 'totp_disable', 'enterprise_password'] as const;

export type OwnerOperation = (typeof OWNER_OPERATIONS)[number];

/**
 * Who is asking: the SSO session (pages) or the grant behind a bearer token (API). A code
 * is bound to it, so a code sent to one signed-in device cannot be used from another.
 */
export type Principal = string;

/**
 * SMS codes to the phone bound to the account (purpose `verify`), confirming that its
 * owner, not just whoever holds a signed-in browser, asks for a sensitive change. The
 * flow id binds each code to the operation and the principal.
 */
export class OwnerCodes {
  constructor(private readonly accounts: Accounts, private readonly smsCodes: SmsCodes) {}

  private flowId(operation: OwnerOperation, principal: Principal) {
    return `account:${operation}:${principal}`;
  }

  private async boundPhone(accountId: string): Promise<string> {
    const profile = await this.accounts.profile(accountId);
    if (!profile || profile.status !== 'active') throw new AppError('unauthenticated');
    if (!profile.phone) throw new AppError('phone_required');
    return profile.phone;
  }

  async send(accountId: string, operation: OwnerOperation, principal: Principal, request: { ip: string; captcha?: { id?: string; answer?: string } }): Promise<{ ttlSeconds: number; phoneMasked: string }> {
    const phone = await this.boundPhone(accountId);
    const sent = await this.smsCodes.send({ purpose: 'verify', phone, flowId: this.flowId(operation, principal), ip: request.ip, captcha: request.captcha });
    return { ttlSeconds: sent.ttlSeconds, phoneMasked: maskPhone(phone) };
  }

  /** Accepts the right code once; throws code_invalid (or code_attempts_exceeded) otherwise. */
  async verify(accountId: string, operation: OwnerOperation, principal: Principal, code: string): Promise<void> {
    const phone = await this.boundPhone(accountId);
    await this.smsCodes.verify({ purpose: 'verify', phone, flowId: this.flowId(operation, principal) }, code.trim());
  }
}
