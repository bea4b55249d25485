import { setTimeout as delay } from 'node:timers/promises';
import type { LoginPolicy } from '../config/load.js';
import { AppError } from '../errors.js';
import { reservations, type Cache } from '../store/cache.js';
import { addressKey } from './address-key.js';

/** After this many failures each further attempt waits twice as long, up to a minute. */
const FREE_FAILURES = 3;
const MAX_DELAY_SECONDS = 60;
/** How long an attempt waits for a place held by attempts in flight: 40 × 50 ms. */
const PLACE_WAIT_TRIES = 40;
const PLACE_WAIT_MS = 50;

/** One sign-in attempt that holds its place under the limits; it must report how it went. */
export interface LoginAttempt {
  /** The attempt failed: its place stays counted. True when this failure locked the subject. */
  failed(): Promise<boolean>;
  /** The attempt succeeded: the subject's failures are forgotten and the address's place given back. */
  succeeded(): Promise<void>;
  /** Nothing was judged (no code had been sent, say): every place the attempt took is given back. */
  notJudged(): Promise<void>;
}

function delayAfter(failures: number): number {
  return Math.min(2 ** (failures - FREE_FAILURES), MAX_DELAY_SECONDS);
}

/**
 * Failed sign-ins, counted per subject (the account, or what was typed when there is no
 * such account, so both look alike) and per address: growing delays, then a lock.
 *
 * Every attempt takes its place before the password or code is judged (Cache.reserve) and
 * a failure keeps it, so a burst of thirty wrong passwords gets no more than the lock
 * threshold judged. Where a captcha guards the lock (passwords), the captcha-free
 * allowance is a place of its own, taken first: of thirty wrong passwords at once no more
 * than LOGIN_CAPTCHA_AFTER_FAILURES are judged without a captcha, so a stranger meets the
 * captcha before the lock however fast they send. The delays are reckoned from failures
 * alone (a second counter), so sign-ins at once that succeed do not slow each other; past
 * the free failures only one attempt at a time holds the subject's delay slot.
 */
export class LoginThrottle {
  constructor(private readonly cache: Cache, private readonly policy: LoginPolicy) {}

  /** Places: attempts in flight and failures. */
  private placesKey(subject: string) {
    return `login-fail:${subject}`;
  }

  /** Failures only. */
  private failedKey(subject: string) {
    return `login-failed:${subject}`;
  }

  private slotKey(subject: string) {
    return `login-slot:${subject}`;
  }

  /** Places: attempts in flight and failures, up to LOGIN_CAPTCHA_AFTER_FAILURES; beyond them a captcha. */
  private captchaFreeKey(subject: string) {
    return `login-captcha-free:${subject}`;
  }

  private async failures(subject: string): Promise<number> {
    return Number(await this.cache.get(this.failedKey(subject)) ?? 0);
  }

  /**
   * A place under `limit`, counted in `key`. While the places are taken by attempts still
   * being judged rather than by failures (many sign-ins of one account at once), a place
   * frees within moments: wait for one briefly instead of refusing, or asking a captcha of,
   * a person who typed nothing wrong.
   */
  private async place(take: (key: string, limit: number, ttlSeconds: number) => Promise<boolean>, key: string, limit: number, subject: string): Promise<boolean> {
    for (let tries = 0; ; tries += 1) {
      if (await take(key, limit, this.policy.lockMinutes * 60)) return true;
      if (tries >= PLACE_WAIT_TRIES || await this.failures(subject) >= limit) return false;
      await delay(PLACE_WAIT_MS);
    }
  }

  /**
   * Takes this attempt's places, or throws having taken none: captcha_required or
   * captcha_invalid (from `options.captcha`), account_locked, login_throttled.
   *
   * With `options.captcha` (the sign-in's own captcha check), the subject's captcha-free
   * allowance is reserved before anything else; once failures have used it up, the
   * captcha must pass first. A refused captcha counts nowhere.
   */
  async begin(subject: string, ip: string, options: { captcha?: () => Promise<void> } = {}): Promise<LoginAttempt> {
    const { take, giveBack } = reservations(this.cache);
    const ipKey = `login-ip:${addressKey(ip)}`;
    let holdsSlot = false;
    try {
      if (options.captcha && !await this.place(take, this.captchaFreeKey(subject), this.policy.captchaAfterFailures, subject)) await options.captcha();
      if (!await take(ipKey, this.policy.ipLimitPerHour, 3600)) {
        throw new AppError('login_throttled', { seconds: await this.cache.ttl(ipKey) ?? 3600 });
      }
      const placed = await this.place(take, this.placesKey(subject), this.policy.lockThreshold, subject);
      const failures = await this.failures(subject);
      // Full of failures: locked. Full of attempts still being judged: a moment's wait.
      if (!placed && failures >= this.policy.lockThreshold) throw new AppError('account_locked', { minutes: this.policy.lockMinutes });
      if (!placed) throw new AppError('login_throttled', { seconds: 1 });
      holdsSlot = failures >= FREE_FAILURES;
      if (holdsSlot && !await this.cache.setIfAbsent(this.slotKey(subject), 'in-flight', MAX_DELAY_SECONDS)) {
        holdsSlot = false;
        throw new AppError('login_throttled', { seconds: await this.cache.ttl(this.slotKey(subject)) ?? 1 });
      }
    } catch (error) {
      await giveBack();
      throw error;
    }
    const window = this.policy.lockMinutes * 60;
    return {
      failed: async () => {
        const count = await this.cache.increment(this.failedKey(subject), window);
        // The next attempt waits from now.
        if (count >= FREE_FAILURES) await this.cache.set(this.slotKey(subject), 'wait', delayAfter(count));
        return count === this.policy.lockThreshold;
      },
      succeeded: async () => {
        await Promise.all([this.clear(subject), this.cache.release(ipKey)]);
      },
      notJudged: async () => {
        // The slot was free when this attempt took it: free again, the delay owed is unchanged.
        await Promise.all([giveBack(), holdsSlot ? this.cache.delete(this.slotKey(subject)) : undefined]);
      },
    };
  }

  /**
   * Where the subject stands: whether a password must come with a captcha (its failures,
   * or its captcha-free places, have reached the allowance), and how many failures remain
   * before the lock.
   */
  async standing(subject: string): Promise<{ captchaRequired: boolean; attemptsLeft: number; lockMinutes: number }> {
    const [failures, captchaFree] = await Promise.all([this.failures(subject), this.cache.get(this.captchaFreeKey(subject)).then(Number)]);
    return {
      captchaRequired: Math.max(failures, captchaFree) >= this.policy.captchaAfterFailures,
      attemptsLeft: Math.max(0, this.policy.lockThreshold - failures),
      lockMinutes: this.policy.lockMinutes,
    };
  }

  /** Forgets the subject's failures (a success, or a recovery that proved the phone). */
  async clear(subject: string): Promise<void> {
    await Promise.all([this.placesKey(subject), this.failedKey(subject), this.slotKey(subject), this.captchaFreeKey(subject)].map((key) => this.cache.delete(key)));
  }
}
