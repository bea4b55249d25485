import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { KeyedDigest } from '../crypto/digest.js';
import { AppError } from '../errors.js';
import type { Captchas } from '../verification/captcha.js';
import type { LoginAttempt, LoginThrottle } from '../verification/login-throttle.js';
import type { SmsCodes } from '../verification/sms-codes.js';
import type { AccountRow } from './account-store.js';
import type { Accounts } from './accounts.js';
import { parseIdNumber } from './id-number.js';
import { maskIdNumber, maskPhone } from './masking.js';
import { DUMMY_HASH, hashPassword, needsRehash, verifyPassword } from './password-hash.js';
import { normalisePhone } from './phone.js';
import { verifyTotp } from './totp.js';

export type AuthenticationMethod = 'pwd' | 'sms' | 'otp';

/** The first factor passed; what the account still needs before the login is complete. */
export interface FirstFactorResult {
  accountId: string;
  /**
   * `qr`: confirmed in the app, which the account signed in to (flows/qr-login.ts);
   * `fed`: another province's identity provider (federation/federated-login.ts).
   */
  method: 'pwd' | 'sms' | 'qr' | 'fed';
  needsTotp: boolean;
  mustChangePassword: boolean;
  assuranceLevel: number;
  /**
   * The account's credentials as the first factor found them (see credentialStamp). A login
   * that pauses (second factor, forced change) completes only while they are unchanged;
   * absent where the first factor completes the login at once (QR).
   */
  credentialStamp?: string;
}

/**
 * What a reset, a recovery or any password change alters: a login begun before it must not
 * complete after it, nor set a password over the one staff have just handed out.
 */
export function credentialStamp(row: Pick<AccountRow, 'password_changed_at'>): string {
  return String(row.password_changed_at?.getTime() ?? 0);
}

type Identifier = { kind: 'id_number'; value: string } | { kind: 'phone'; value: string } | { kind: 'unknown'; value: string };

function classify(input: string): Identifier {
  const trimmed = input.trim();
  const id = parseIdNumber(trimmed);
  if (id.ok) return { kind: 'id_number', value: id.value };
  const phone = normalisePhone(trimmed);
  if (phone) return { kind: 'phone', value: phone };
  return { kind: 'unknown', value: trimmed.toUpperCase() };
}

function maskIdentifier(identifier: Identifier): string {
  if (identifier.kind === 'id_number') return maskIdNumber(identifier.value);
  if (identifier.kind === 'phone') return maskPhone(identifier.value);
  return '(unrecognised)';
}

/**
 * Sign-in by ID number or phone with a password, by phone with an SMS code, and the TOTP
 * second step. Unknown accounts and wrong passwords get the same answer after the same
 * work; failures are throttled and audited.
 */
export class Authentication {
  constructor(
    private readonly accounts: Accounts,
    private readonly throttle: LoginThrottle,
    private readonly smsCodes: SmsCodes,
    private readonly audit: AuditLog,
    private readonly digest: KeyedDigest,
    private readonly captchas: Captchas,
  ) {}

  private async find(identifier: Identifier): Promise<AccountRow | undefined> {
    const row = identifier.kind === 'id_number' ? await this.accounts.byIdNumber(identifier.value)
      : identifier.kind === 'phone' ? await this.accounts.byPhone(identifier.value) : undefined;
    return row && row.status !== 'deregistered' ? row : undefined;
  }

  /** Throttling subject: the account when there is one, else what was typed, so both behave alike. */
  private subject(identifier: Identifier, row: AccountRow | undefined): string {
    return row ? `account:${row.id}` : `typed:${this.digest.digest('login-subject', identifier.value)}`;
  }

  /**
   * A refused first factor, audited. A failure counts towards the subject's lock (and
   * may reach it, audited too); a try at which nothing was judged (`counted: false`, an
   * SMS code that was never sent) does not.
   */
  private async refuse(attempt: LoginAttempt, identifier: Identifier, row: AccountRow | undefined, method: 'pwd' | 'sms', meta: RequestMeta,
    outcome: { counted: boolean; error: AppError } = { counted: true, error: new AppError('login_failed') }): Promise<never> {
    let locked = false;
    if (outcome.counted) locked = await attempt.failed();
    else await attempt.notJudged();
    await this.audit.append({
      actor: { kind: 'anonymous' },
      action: 'login',
      target: row ? { kind: 'account', id: row.id } : undefined,
      result: 'failure',
      details: { method, identifier_masked: maskIdentifier(identifier), ...(outcome.counted ? {} : { reason: 'no_code' }), ...(locked ? { locked: true } : {}) },
      meta,
    });
    if (locked) {
      await this.audit.append({ actor: { kind: 'system' }, action: 'login.locked', target: row ? { kind: 'account', id: row.id } : undefined, result: 'success', details: { identifier_masked: maskIdentifier(identifier), method }, meta });
    }
    throw outcome.error;
  }

  private admit(row: AccountRow, method: 'pwd' | 'sms'): FirstFactorResult {
    if (row.status === 'banned') throw new AppError('account_banned');
    return {
      accountId: row.id,
      method,
      needsTotp: row.totp_enabled_at !== null,
      mustChangePassword: row.password_must_change,
      assuranceLevel: row.assurance_level,
      credentialStamp: credentialStamp(row),
    };
  }

  /**
   * The account as it is now, for a login in progress: banned (account_banned), gone, or
   * with credentials changed since the first factor (login_restart) ends the login, with an
   * audit record of the refusal. Every step that completes a login or sets its password asks.
   */
  async recheck(result: FirstFactorResult, meta: RequestMeta): Promise<void> {
    const row = await this.accounts.row(result.accountId);
    const reason = !row || row.status === 'deregistered' ? 'account_gone'
      : row.status === 'banned' ? 'banned'
        : result.credentialStamp !== undefined && credentialStamp(row) !== result.credentialStamp ? 'credentials_changed'
          : undefined;
    if (!reason) return;
    await this.audit.append({
      actor: { kind: 'citizen', id: result.accountId }, action: 'login', target: { kind: 'account', id: result.accountId },
      result: 'denied', details: { method: result.method, reason, step: 'in_progress' }, meta,
    });
    throw new AppError(reason === 'banned' ? 'account_banned' : 'login_restart');
  }

  /** Where what was typed stands, for the password form: a captcha needed, tries left before the lock. */
  async passwordStanding(typed: string): Promise<{ captchaRequired: boolean; attemptsLeft: number; lockMinutes: number }> {
    const identifier = classify(typed);
    return this.throttle.standing(this.subject(identifier, await this.find(identifier)));
  }

  /**
   * After LOGIN_CAPTCHA_AFTER_FAILURES failures a password comes with an image captcha
   * (captcha_required, then captcha_invalid), checked before the password is judged and
   * never counted as a failure: a stranger guessing meets the captcha long before the lock.
   * The captcha-free tries are places the throttle reserves, so a burst cannot outrun them.
   */
  async withPassword(input: { identifier: string; password: string; captcha?: { id?: string; answer?: string } }, meta: RequestMeta): Promise<FirstFactorResult> {
    const identifier = classify(input.identifier);
    const row = await this.find(identifier);
    const attempt = await this.throttle.begin(this.subject(identifier, row), meta.ip ?? 'unknown', {
      captcha: () => this.captchas.verify(input.captcha?.id, input.captcha?.answer),
    });
    // Unknown accounts are checked against a dummy hash: same work, same answer.
    const matches = await verifyPassword(row?.password_hash ?? await DUMMY_HASH, input.password.normalize('NFKC'));
    const valid = matches && Boolean(row?.password_hash);
    if (!row || !valid) return this.refuse(attempt, identifier, row, 'pwd', meta);
    if (row.status === 'banned') {
      await this.audit.append({ actor: { kind: 'citizen', id: row.id }, action: 'login', target: { kind: 'account', id: row.id }, result: 'denied', details: { method: 'pwd', reason: 'banned' }, meta });
    }
    const result = this.admit(row, 'pwd');
    await attempt.succeeded();
    if (needsRehash(row.password_hash!)) await this.accounts.update(row.id, { password_hash: await hashPassword(input.password.normalize('NFKC')) });
    return result;
  }

  /** Sends a login code; the answer is the same whether or not the phone has an account. */
  async sendLoginCode(input: { phone: string; flowId: string; captcha?: { id?: string; answer?: string } }, meta: RequestMeta): Promise<{ ttlSeconds: number }> {
    const phone = normalisePhone(input.phone);
    if (!phone) throw new AppError('invalid_phone');
    const row = await this.find({ kind: 'phone', value: phone });
    return this.smsCodes.send({ purpose: 'login', phone, flowId: input.flowId, ip: meta.ip ?? 'unknown', captcha: input.captcha, deliver: row !== undefined });
  }

  async withSmsCode(input: { phone: string; code: string; flowId: string }, meta: RequestMeta): Promise<FirstFactorResult> {
    const phone = normalisePhone(input.phone);
    if (!phone) throw new AppError('invalid_phone');
    const identifier: Identifier = { kind: 'phone', value: phone };
    const row = await this.find(identifier);
    // Counted apart from passwords: a stranger's wrong passwords never lock the way in that proves the phone.
    const attempt = await this.throttle.begin(`${this.subject(identifier, row)}:sms`, meta.ip ?? 'unknown');
    const outcome = await this.smsCodes.check({ purpose: 'login', phone, flowId: input.flowId }, input.code.trim());
    // Only a wrong try at a code sent to the phone counts: made-up codes for a phone that was
    // sent none guess at nothing, and must not let a stranger lock its holder out.
    if (outcome !== 'accepted') {
      await this.refuse(attempt, identifier, row, 'sms', meta, {
        counted: outcome !== 'none', error: new AppError(outcome === 'exhausted' ? 'code_attempts_exceeded' : 'code_invalid'),
      });
    }
    // A code is only ever delivered to a registered phone, so a valid code implies an account.
    if (!row) throw new AppError('code_invalid');
    const result = this.admit(row, 'sms');
    await attempt.succeeded();
    return result;
  }

  /** The second step for accounts with TOTP: a current code (never one already used) or a recovery code. */
  async withTotp(accountId: string, input: { code: string }, meta: RequestMeta): Promise<void> {
    const row = await this.accounts.row(accountId);
    const secret = row ? this.accounts.openTotpSecret(row) : undefined;
    if (!row || !secret) throw new AppError('totp_not_enabled');
    const attempt = await this.throttle.begin(`account:${row.id}:totp`, meta.ip ?? 'unknown');
    const code = input.code.replace(/\s/g, '');
    if (/^\d{6}$/.test(code)) {
      const verified = await verifyTotp({ secret, token: code, lastUsedStep: row.totp_last_step ?? undefined });
      // Marked used only if no racing submission of the same code got there first.
      if (verified.ok && await this.accounts.useTotpStep(row.id, verified.step)) {
        await attempt.succeeded();
        return;
      }
    } else if (await this.accounts.useRecoveryCode(row.id, code)) {
      await this.audit.append({ actor: { kind: 'citizen', id: row.id }, action: 'mfa.recovery_code_used', target: { kind: 'account', id: row.id }, result: 'success', meta });
      await attempt.succeeded();
      return;
    }
    await attempt.failed();
    await this.audit.append({ actor: { kind: 'citizen', id: row.id }, action: 'login.totp', target: { kind: 'account', id: row.id }, result: 'failure', meta });
    throw new AppError('totp_invalid');
  }

  async recordSuccess(result: FirstFactorResult, amr: string[], clientId: string | undefined, meta: RequestMeta): Promise<void> {
    await this.audit.append({ actor: { kind: 'citizen', id: result.accountId }, action: 'login', target: { kind: 'account', id: result.accountId }, result: 'success', details: { amr, client_id: clientId }, meta });
  }
}
