import { setTimeout as delay } from 'node:timers/promises';
import type { LoginPolicy } from '../config/load.js';
import { AppError } from '../errors.js';
import type { Cache } from '../store/cache.js';
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
 * threshold judged. The delays are reckoned from failures alone (a second counter), so
 * sign-ins at once that succeed do not slow each other; past the free failures only one
 * attempt at a time holds the subject's delay slot.
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

  /**
   * A place under the lock threshold. While the places are taken by attempts still being
   * judged rather than by failures (many sign-ins of one account at once), a place frees
   * within moments: wait for one briefly instead of refusing a person who typed nothing wrong.
   */
  private async place(subject: string, window: number): Promise<number> {
    for (let tries = 0; ; tries += 1) {
      const place = await this.cache.reserve(this.placesKey(subject), this.policy.lockThreshold, window);
      if (place || tries >= PLACE_WAIT_TRIES) return place;
      if (Number(await this.cache.get(this.failedKey(subject)) ?? 0) >= this.policy.lockThreshold) return 0;
      await delay(PLACE_WAIT_MS);
    }
  }

  /** Takes this attempt's places, or throws account_locked / login_throttled having taken none. */
  async begin(subject: string, ip: string): Promise<LoginAttempt> {
    const window = this.policy.lockMinutes * 60;
    const ipKey = `login-ip:${addressKey(ip)}`;
    if (!await this.cache.reserve(ipKey, this.policy.ipLimitPerHour, 3600)) {
      throw new AppError('login_throttled', { seconds: await this.cache.ttl(ipKey) ?? 3600 });
    }
    const place = await this.place(subject, window);
    const failures = Number(await this.cache.get(this.failedKey(subject)) ?? 0);
    if (!place) {
      await this.cache.release(ipKey);
      // Full of failures: locked. Full of attempts still being judged: a moment's wait.
      if (failures >= this.policy.lockThreshold) throw new AppError('account_locked', { minutes: this.policy.lockMinutes });
      throw new AppError('login_throttled', { seconds: 1 });
    }
    if (failures >= FREE_FAILURES && !await this.cache.setIfAbsent(this.slotKey(subject), 'in-flight', MAX_DELAY_SECONDS)) {
      await Promise.all([this.cache.release(this.placesKey(subject)), this.cache.release(ipKey)]);
      throw new AppError('login_throttled', { seconds: await this.cache.ttl(this.slotKey(subject)) ?? 1 });
    }
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
    };
  }

  /**
   * Where the subject stands, from one read: whether a password must come with a captcha,
   * and how many failures remain before the lock.
   */
  async standing(subject: string): Promise<{ captchaRequired: boolean; attemptsLeft: number; lockMinutes: number }> {
    const failures = Number(await this.cache.get(this.failedKey(subject)) ?? 0);
    return {
      captchaRequired: failures >= this.policy.captchaAfterFailures,
      attemptsLeft: Math.max(0, this.policy.lockThreshold - failures),
      lockMinutes: this.policy.lockMinutes,
    };
  }

  /** Forgets the subject's failures (a success, or a recovery that proved the phone). */
  async clear(subject: string): Promise<void> {
    await Promise.all([this.placesKey(subject), this.failedKey(subject), this.slotKey(subject)].map((key) => this.cache.delete(key)));
  }
}
