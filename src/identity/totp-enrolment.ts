import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { FieldCipher } from '../crypto/field-cipher.js';
import { AppError } from '../errors.js';
import type { Cache } from '../store/cache.js';
import type { AccountRow } from './account-store.js';
import type { Accounts } from './accounts.js';
import { errorIs, type AttemptLimit } from './attempt-limit.js';
import type { OwnerCodes, Principal } from './owner-codes.js';
import { createTotpSecret, generateRecoveryCodes, otpauthUri, verifyTotp } from './totp.js';

/** A secret waiting to be confirmed: shown as a QR code and as text for manual entry. */
export interface PendingTotp {
  secret: string;
  uri: string;
  expiresIn: number;
}

/** How a person proves they may turn the second factor off. */
export type DisableProof =
  | { kind: 'totp'; code: string }
  | { kind: 'recovery_code'; recoveryCode: string; smsCode: string; principal: Principal };

const PENDING_SECONDS = 10 * 60;

/**
 * Turning the authenticator-app second factor on and off. A new secret is only pending
 * (encrypted in the cache for ten minutes) until the person proves their app computes
 * codes from it; only then is it stored, with ten recovery codes shown once and kept as
 * digests. Turning it off takes a current code, or a recovery code plus an SMS code to
 * the bound phone (the app is lost): never the session alone.
 */
export class TotpEnrolment {
  constructor(
    private readonly accounts: Accounts,
    private readonly cache: Cache,
    private readonly cipher: FieldCipher,
    private readonly codes: OwnerCodes,
    private readonly attempts: AttemptLimit,
    private readonly audit: AuditLog,
  ) {}

  private key(accountId: string) {
    return `totp-enrolment:${accountId}`;
  }

  private context(accountId: string) {
    return `totp-enrolment:${accountId}`;
  }

  private async activeRow(accountId: string): Promise<AccountRow> {
    const row = await this.accounts.row(accountId);
    if (!row || row.status !== 'active') throw new AppError('unauthenticated');
    return row;
  }

  private describe(row: AccountRow, secret: string, expiresIn: number): PendingTotp {
    // What the app shows next to the issuer: recognisable, but masked.
    const { masked } = this.accounts.profileOf(row);
    return { secret, uri: otpauthUri({ secret, accountLabel: masked.phone ?? masked.idNumber }), expiresIn };
  }

  /** The enrolment in progress, if any: a reload shows the same secret the app may already hold. */
  async pending(accountId: string): Promise<PendingTotp | undefined> {
    const row = await this.activeRow(accountId);
    const raw = await this.cache.get(this.key(accountId));
    if (!raw || row.totp_enabled_at) return undefined;
    return this.describe(row, this.cipher.decrypt(raw, this.context(accountId)), await this.cache.ttl(this.key(accountId)) ?? PENDING_SECONDS);
  }

  /** A fresh secret, replacing any pending one. */
  async start(accountId: string): Promise<PendingTotp> {
    const row = await this.activeRow(accountId);
    if (row.totp_enabled_at) throw new AppError('totp_already_enabled');
    const secret = createTotpSecret();
    await this.cache.set(this.key(accountId), this.cipher.encrypt(secret, this.context(accountId)), PENDING_SECONDS);
    return this.describe(row, secret, PENDING_SECONDS);
  }

  /** A current code from the app turns the factor on; returns the recovery codes, to be shown this once. */
  async confirm(accountId: string, input: { code: string }, meta: RequestMeta): Promise<string[]> {
    const row = await this.activeRow(accountId);
    if (row.totp_enabled_at) throw new AppError('totp_already_enabled');
    const raw = await this.cache.get(this.key(accountId));
    if (!raw) throw new AppError('totp_enrolment_expired');
    const secret = this.cipher.decrypt(raw, this.context(accountId));
    const verified = await verifyTotp({ secret, token: input.code });
    if (!verified.ok) throw new AppError('totp_invalid');
    // Two confirmations racing: one takes the pending secret, the other finds it gone.
    if (await this.cache.take(this.key(accountId)) === null) throw new AppError('totp_enrolment_expired');
    const recoveryCodes = generateRecoveryCodes();
    await this.accounts.transaction(async (trx) => {
      await this.accounts.update(accountId, {
        totp_secret_enc: this.accounts.sealTotpSecret(secret),
        totp_enabled_at: new Date(),
        // The confirming code is spent: it cannot also pass the next login.
        totp_last_step: verified.step,
      }, trx);
      await this.accounts.replaceRecoveryCodes(accountId, recoveryCodes, trx);
      await this.audit.append({ actor: { kind: 'citizen', id: accountId }, action: 'mfa.enable', target: { kind: 'account', id: accountId }, result: 'success', details: { method: 'totp', recovery_codes: recoveryCodes.length }, meta }, trx);
    });
    return recoveryCodes;
  }

  /**
   * Ten new recovery codes replace whatever is left of the old ones (used up, or written
   * down somewhere no longer safe). Takes a current code from the app, never the session
   * alone; the new codes are returned to be shown this once.
   */
  async regenerateRecoveryCodes(accountId: string, input: { code: string }, meta: RequestMeta): Promise<string[]> {
    const row = await this.activeRow(accountId);
    const secret = this.accounts.openTotpSecret(row);
    if (!row.totp_enabled_at || !secret) throw new AppError('totp_not_enabled');
    const step = await this.checkCurrentCode(row, secret, input.code, 'mfa.recovery_codes_regenerate', meta);
    const recoveryCodes = generateRecoveryCodes();
    await this.accounts.transaction(async (trx) => {
      await this.accounts.update(accountId, { totp_last_step: step }, trx);
      await this.accounts.replaceRecoveryCodes(accountId, recoveryCodes, trx);
      await this.audit.append({ actor: { kind: 'citizen', id: accountId }, action: 'mfa.recovery_codes_regenerate', target: { kind: 'account', id: accountId }, result: 'success', details: { recovery_codes: recoveryCodes.length }, meta }, trx);
    });
    return recoveryCodes;
  }

  /** A current, unspent code from the app, under the attempt limit; failures are audited as `action`. Returns its time step. */
  private async checkCurrentCode(row: AccountRow, secret: string, code: string, action: string, meta: RequestMeta): Promise<number> {
    return this.attempts.guard(`totp:${row.id}`, async () => {
      // A code already used to sign in is spent here too.
      const lastUsedStep = row.totp_last_step === null ? undefined : Number(row.totp_last_step);
      const verified = await verifyTotp({ secret, token: code, lastUsedStep });
      if (!verified.ok) {
        await this.audit.append({ actor: { kind: 'citizen', id: row.id }, action, target: { kind: 'account', id: row.id }, result: 'failure', details: { method: 'totp' }, meta });
        throw new AppError('totp_invalid');
      }
      return verified.step;
    }, errorIs('totp_invalid'));
  }

  async disable(accountId: string, proof: DisableProof, meta: RequestMeta): Promise<void> {
    const row = await this.activeRow(accountId);
    const secret = this.accounts.openTotpSecret(row);
    if (!row.totp_enabled_at || !secret) throw new AppError('totp_not_enabled');
    const refuse = async (code: 'recovery_code_invalid'): Promise<never> => {
      await this.audit.append({ actor: { kind: 'citizen', id: accountId }, action: 'mfa.disable', target: { kind: 'account', id: accountId }, result: 'failure', details: { method: proof.kind }, meta });
      throw new AppError(code);
    };
    if (proof.kind === 'totp') {
      await this.checkCurrentCode(row, secret, proof.code, 'mfa.disable', meta);
    } else {
      // The SMS code first: it is cheap to ask again, a recovery code is not.
      await this.codes.verify(accountId, 'totp_disable', proof.principal, proof.smsCode);
      await this.attempts.guard(`totp:${accountId}`, async () => {
        if (!await this.accounts.useRecoveryCode(accountId, proof.recoveryCode)) await refuse('recovery_code_invalid');
      }, errorIs('recovery_code_invalid'));
    }
    await this.accounts.transaction(async (trx) => {
      await this.accounts.update(accountId, { totp_secret_enc: null, totp_enabled_at: null, totp_last_step: null }, trx);
      await this.accounts.replaceRecoveryCodes(accountId, [], trx);
      await this.audit.append({ actor: { kind: 'citizen', id: accountId }, action: 'mfa.disable', target: { kind: 'account', id: accountId }, result: 'success', details: { method: proof.kind }, meta }, trx);
    });
  }
}
