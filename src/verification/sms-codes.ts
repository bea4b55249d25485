import { randomInt } from 'node:crypto';
import type { SmsPolicy } from '../config/load.js';
import type { KeyedDigest } from '../crypto/digest.js';
import { AppError } from '../errors.js';
import { codeMessage, type CodePurpose, type SmsGateway } from '../ports/sms/index.js';
import { isUpstreamUnavailable } from '../ports/errors.js';
import { reservations, type Cache } from '../store/cache.js';
import type { Captchas } from './captcha.js';
import { addressKey } from './address-key.js';

export interface CodeBinding {
  purpose: CodePurpose;
  /** 11-digit mobile number. */
  phone: string;
  /** The flow or interaction the code belongs to: a code sent for one cannot finish another. */
  flowId: string;
}

/** How many purposes' daily allowances one phone may receive in a day, all purposes together. */
const PHONE_DAY_PURPOSES = 3;

export interface SendRequest extends CodeBinding {
  ip: string;
  captcha?: { id?: string; answer?: string };
  /** False when the phone must not get a code (e.g. login to an unknown phone): everything else happens the same. */
  deliver?: boolean;
  /** Sent by signed-in staff at a counter, for the person in front of them: no captcha (the limits still apply). */
  staffPresent?: boolean;
  /**
   * The request's captcha was already solved, for a limit ahead of this send in the same
   * request (a login's captcha gate): a captcha can be checked only once, and one suffices.
   */
  captchaPassed?: boolean;
}

export type CodeCheck = 'accepted' | 'wrong' | 'exhausted' | 'none';

interface StoredCode {
  digest: string;
}

/**
 * Six-digit SMS codes: valid for a few minutes, single use, bound to purpose, phone and
 * flow, kept only as a keyed digest, void after a few wrong tries. Sending is limited
 * per phone and per address, and an address that has sent a few must solve a captcha.
 */
export class SmsCodes {
  constructor(
    private readonly cache: Cache,
    private readonly gateway: SmsGateway,
    private readonly digest: KeyedDigest,
    private readonly captchas: Captchas,
    private readonly policy: SmsPolicy,
  ) {}

  private phoneKey(phone: string) {
    return this.digest.digest('sms-limit', phone);
  }

  private codeKey(binding: CodeBinding) {
    return `sms-code:${binding.purpose}:${binding.flowId}:${this.phoneKey(binding.phone)}`;
  }

  private codeDigest(binding: CodeBinding, code: string) {
    return this.digest.digest('sms-code', `${binding.purpose}\0${binding.flowId}\0${binding.phone}\0${code}`);
  }

  private captchaFreeKey(ip: string) {
    return `sms-ip-free:${addressKey(ip)}:h`;
  }

  /** Whether the next send from this address needs a captcha (the page shows one ahead of time). */
  async captchaRequired(ip: string): Promise<boolean> {
    const sent = Number(await this.cache.get(this.captchaFreeKey(ip)) ?? 0);
    return sent >= this.policy.captchaAfterSendsPerIp;
  }

  /**
   * Every limit takes its place before the code is made (Cache.reserve): of fifty sends at
   * once, no more than a limit allows get through, and no more than the captcha-free
   * allowance skip the captcha. A send that is refused, or that the gateway does not take,
   * gives its places back: the counters count sent codes, nothing else.
   */
  async send(request: SendRequest): Promise<{ ttlSeconds: number }> {
    const { take, giveBack } = reservations(this.cache);
    try {
      if (!request.staffPresent && !await take(this.captchaFreeKey(request.ip), this.policy.captchaAfterSendsPerIp, 3600) && !request.captchaPassed) {
        await this.captchas.verify(request.captcha?.id, request.captcha?.answer);
      }
      // A phone's limits are counted per purpose: codes another flow sent to it (a recovery run
      // by someone who knows the person's name and ID number, say) must neither use up its
      // login codes nor show, through sms_rate_limited, which number an account is bound to.
      // Across purposes a phone still gets no more than PHONE_DAY_PURPOSES days' worth: room
      // for two flows someone else can start on it (registration, recovery) to use up theirs
      // and leave the person's own logins theirs, and no more.
      const phoneKey = this.phoneKey(request.phone);
      const phone = `${request.purpose}:${phoneKey}`;
      const windows: Array<[string, number, number]> = [
        [`sms-ip:${addressKey(request.ip)}:h`, 3600, this.policy.perIpPerHour],
        [`sms-phone:${phone}:m`, 60, this.policy.perMinute],
        [`sms-phone:${phone}:h`, 3600, this.policy.perHour],
        [`sms-phone:${phone}:d`, 86_400, this.policy.perDay],
        [`sms-phone-all:${phoneKey}:d`, 86_400, this.policy.perDay * PHONE_DAY_PURPOSES],
      ];
      for (const [key, seconds, limit] of windows) {
        if (!await take(key, limit, seconds)) throw new AppError('sms_rate_limited');
      }

      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      const stored: StoredCode = { digest: this.codeDigest(request, code) };
      const key = this.codeKey(request);
      await this.cache.set(key, JSON.stringify(stored), this.policy.codeTtlSeconds);
      await this.cache.delete(`${key}:tries`);
      if (request.deliver !== false) {
        try {
          await this.gateway.send(codeMessage(request.phone, request.purpose, code, Math.round(this.policy.codeTtlSeconds / 60)));
        } catch (error) {
          await this.cache.delete(key);
          if (isUpstreamUnavailable(error)) throw new AppError('sms_unavailable', {}, { cause: error });
          throw error;
        }
      }
      return { ttlSeconds: this.policy.codeTtlSeconds };
    } catch (error) {
      await giveBack();
      throw error;
    }
  }

  /** Accepts the right code once; throws code_invalid or code_attempts_exceeded otherwise. */
  async verify(binding: CodeBinding, code: string): Promise<void> {
    const outcome = await this.check(binding, code);
    if (outcome === 'exhausted') throw new AppError('code_attempts_exceeded');
    if (outcome !== 'accepted') throw new AppError('code_invalid');
  }

  /**
   * How one try went: `accepted` (once), `wrong` (tries remain), `exhausted` (this wrong try
   * voided the code), or `none`: no live code for the binding (never sent, expired, used,
   * voided) or not a six-digit code, so nothing was guessed at. Callers that count failures
   * count only `wrong` and `exhausted`, which SMS_CODE_MAX_ATTEMPTS already bounds per code.
   */
  async check(binding: CodeBinding, code: string): Promise<CodeCheck> {
    const key = this.codeKey(binding);
    const raw = await this.cache.get(key);
    if (!raw || !/^\d{6}$/.test(code)) return 'none';
    const stored = JSON.parse(raw) as StoredCode;
    if (stored.digest === this.codeDigest(binding, code)) {
      // Only one of two racing correct submissions gets it.
      if (await this.cache.take(key) === null) return 'none';
      await this.cache.delete(`${key}:tries`);
      return 'accepted';
    }
    const tries = await this.cache.increment(`${key}:tries`, this.policy.codeTtlSeconds);
    if (tries >= this.policy.maxAttempts) {
      await this.cache.delete(key);
      return 'exhausted';
    }
    return 'wrong';
  }
}
