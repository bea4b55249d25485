import { z } from 'zod';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import type { Accounts } from '../identity/accounts.js';
import { credentialStamp, type FirstFactorResult } from '../identity/authentication.js';
import { maskPhone } from '../identity/masking.js';
import type { OwnerCodes } from '../identity/owner-codes.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from '../identity/password-hash.js';
import { checkPassword } from '../identity/password-policy.js';
import { parseUscc } from '../identity/uscc.js';
import type { Cache } from '../store/cache.js';
import type { Db } from '../store/db.js';
import type { Captchas } from '../verification/captcha.js';
import type { LoginThrottle } from '../verification/login-throttle.js';
import type { SmsCodes } from '../verification/sms-codes.js';
import { enterpriseStore } from './enterprise-store.js';
import type { Enterprises } from './enterprises.js';

/**
 * Enterprise-account login (法人账号登录: 统一社会信用代码 + 密码), for portals that ask for
 * it. Off unless the deployment (ENTERPRISE_ACCOUNT_LOGIN=on) and the client
 * (`access_policy.enterprise_account_login`) both allow it. The password alone is never
 * enough: a code to the phone bound to the legal representative's own account follows,
 * and the login that results is the representative's, acting as the enterprise.
 */
export function enterpriseLoginAllowed(deploymentOn: boolean, accessPolicy: unknown): boolean {
  if (!deploymentOn) return false;
  return z.object({ enterprise_account_login: z.literal(true) }).safeParse(accessPolicy ?? {}).success;
}

interface PendingEnterpriseLogin {
  enterpriseId: string;
  accountId: string;
}

/** The representative's first factor (enterprise password + a code to their phone), for the enterprise. */
export interface EnterpriseLoginResult extends FirstFactorResult {
  enterpriseId: string;
}

export class EnterpriseLogin {
  constructor(
    private readonly db: Db,
    private readonly accounts: Accounts,
    private readonly enterprises: Enterprises,
    private readonly smsCodes: SmsCodes,
    private readonly ownerCodes: OwnerCodes,
    private readonly throttle: LoginThrottle,
    private readonly captchas: Captchas,
    private readonly cache: Cache,
    private readonly audit: AuditLog,
    private readonly ttlSeconds: number,
  ) {}

  private pendingKey(interactionUid: string) {
    return `enterprise-login:${interactionUid}`;
  }

  private flowId(interactionUid: string) {
    return `enterprise-login:${interactionUid}`;
  }

  /**
   * The representative sets (or replaces) the enterprise password from the account
   * centre, confirmed by a code to their own bound phone (operation `enterprise_password`).
   */
  async setPassword(accountId: string, enterpriseId: string, input: { password: string; code: string }, principal: string, meta: RequestMeta): Promise<void> {
    const enterprise = await this.enterprises.ensureRepresentativeCurrent(enterpriseId, accountId, meta);
    const profile = (await this.accounts.profile(accountId))!;
    const policy = checkPassword(input.password, { idNumber: profile.idNumber, phone: profile.phone });
    if (!policy.ok) throw new AppError('weak_password', { reason: policy.reason });
    await this.ownerCodes.verify(accountId, 'enterprise_password', principal, input.code);
    const hash = await hashPassword(policy.normalised);
    await this.accounts.transaction(async (trx) => {
      await enterpriseStore.update(trx, enterprise.id, { password_hash: hash });
      await this.audit.append({
        actor: { kind: 'citizen', id: accountId }, action: 'enterprise.password.set', target: { kind: 'enterprise', id: enterprise.id }, result: 'success',
        details: { uscc: enterprise.uscc }, meta,
      }, trx);
    });
  }

  /** The throttling subject: the credit code typed, whether or not an enterprise holds it. */
  private subject(uscc: string): string {
    return `enterprise:${uscc}`;
  }

  /** Whether a password for this credit code must come with a captcha (the page shows one ahead of time). */
  async captchaRequired(uscc: string): Promise<boolean> {
    const parsed = parseUscc(uscc);
    return parsed.ok && (await this.throttle.standing(this.subject(parsed.value))).captchaRequired;
  }

  /**
   * Code and password. On success a code goes to the representative's bound phone and
   * the login waits for it; every failure (unknown code, no password set, wrong
   * password) gives the same answer and counts against the code typed. Credit codes are
   * public, so as for a person's password, LOGIN_CAPTCHA_AFTER_FAILURES failures bring a
   * captcha before the lock: the captcha-free tries are reserved before the password is judged.
   */
  async withPassword(interactionUid: string, input: { uscc: string; password: string }, request: { ip: string; captcha?: { id?: string; answer?: string } }, meta: RequestMeta): Promise<{ code_sent_to: string }> {
    const parsed = parseUscc(input.uscc);
    if (!parsed.ok) throw new AppError('invalid_uscc', { reason: parsed.reason });
    let captchaPassed = false;
    const attempt = await this.throttle.begin(this.subject(parsed.value), request.ip, {
      captcha: async () => {
        await this.captchas.verify(request.captcha?.id, request.captcha?.answer);
        captchaPassed = true;
      },
    });
    const enterprise = await enterpriseStore.byUscc(this.db, parsed.value);
    const ok = await verifyPassword(enterprise?.password_hash ?? await DUMMY_HASH, input.password);
    if (!enterprise || !enterprise.password_hash || !ok) {
      const locked = await attempt.failed();
      await this.audit.append({
        actor: { kind: 'anonymous' }, action: 'enterprise.login', target: { kind: 'enterprise', id: enterprise?.id ?? parsed.value }, result: 'failure',
        details: { reason: 'password', ...(locked ? { locked: true } : {}) }, meta,
      });
      throw new AppError('enterprise_login_failed');
    }
    await attempt.succeeded();
    // Checked at login: the register may have named another representative since.
    const { enterprise: current } = await this.enterprises.refreshFromRegistry(enterprise.id, meta);
    if (!current.representative_account_id) throw new AppError('enterprise_representative_vacant');
    const representative = await this.enterprises.ensureRepresentativeCurrent(current.id, current.representative_account_id, meta);
    const phone = await this.representativePhone(representative.representative_account_id!);
    await this.smsCodes.send({ purpose: 'login', phone, flowId: this.flowId(interactionUid), ip: request.ip, captcha: request.captcha, captchaPassed });
    const pending: PendingEnterpriseLogin = { enterpriseId: current.id, accountId: representative.representative_account_id! };
    await this.cache.set(this.pendingKey(interactionUid), JSON.stringify(pending), this.ttlSeconds);
    return { code_sent_to: maskPhone(phone) };
  }

  /**
   * Another code to the representative's phone, for a login past its password step: under
   * the same limits as every code (one a minute to a phone, a captcha after a few sends from
   * an address), and the login waits for it as long again.
   */
  async resendCode(interactionUid: string, request: { ip: string; captcha?: { id?: string; answer?: string } }): Promise<{ code_sent_to: string }> {
    const raw = await this.cache.get(this.pendingKey(interactionUid));
    if (!raw) throw new AppError('login_state_invalid');
    const pending = JSON.parse(raw) as PendingEnterpriseLogin;
    const phone = await this.representativePhone(pending.accountId);
    await this.smsCodes.send({ purpose: 'login', phone, flowId: this.flowId(interactionUid), ip: request.ip, captcha: request.captcha });
    await this.cache.set(this.pendingKey(interactionUid), raw, this.ttlSeconds);
    return { code_sent_to: maskPhone(phone) };
  }

  /** Whether this interaction has passed the password step and waits for the code. */
  async waitingForCode(interactionUid: string): Promise<boolean> {
    return (await this.cache.get(this.pendingKey(interactionUid))) !== null;
  }

  /** The code to the representative's phone: the login is the representative's, acting as the enterprise. */
  async withCode(interactionUid: string, code: string, meta: RequestMeta): Promise<EnterpriseLoginResult> {
    const raw = await this.cache.get(this.pendingKey(interactionUid));
    if (!raw) throw new AppError('login_state_invalid');
    const pending = JSON.parse(raw) as PendingEnterpriseLogin;
    const phone = await this.representativePhone(pending.accountId);
    try {
      await this.smsCodes.verify({ purpose: 'login', phone, flowId: this.flowId(interactionUid) }, code.trim());
    } catch (error) {
      await this.audit.append({
        actor: { kind: 'citizen', id: pending.accountId }, action: 'enterprise.login', target: { kind: 'enterprise', id: pending.enterpriseId }, result: 'failure',
        details: { reason: error instanceof AppError ? error.code : 'error' }, meta,
      });
      throw error;
    }
    if (await this.cache.take(this.pendingKey(interactionUid)) === null) throw new AppError('login_state_invalid');
    // The representative must still be the one on the register when the login completes.
    await this.enterprises.ensureRepresentativeCurrent(pending.enterpriseId, pending.accountId, meta);
    const account = (await this.accounts.row(pending.accountId))!;
    await this.audit.append({
      actor: { kind: 'citizen', id: pending.accountId }, action: 'enterprise.login', target: { kind: 'enterprise', id: pending.enterpriseId }, result: 'success',
      details: { methods: ['pwd', 'sms'] }, meta,
    });
    // What follows is the representative's own second factor and forced change, as for any login.
    return {
      enterpriseId: pending.enterpriseId,
      accountId: pending.accountId,
      method: 'pwd',
      assuranceLevel: account.assurance_level,
      needsTotp: account.totp_enabled_at !== null,
      mustChangePassword: account.password_must_change,
      credentialStamp: credentialStamp(account),
    };
  }

  private async representativePhone(accountId: string): Promise<string> {
    const profile = await this.accounts.profile(accountId);
    if (!profile || profile.status !== 'active') throw new AppError('account_banned');
    if (!profile.phone) throw new AppError('phone_required');
    return profile.phone;
  }
}
