import type { LoginPolicy } from '../config/load.js';
import { AppError } from '../errors.js';
import type { Cache } from '../store/cache.js';

/** After this many failures each further attempt waits twice as long, up to a minute. */
const FREE_FAILURES = 3;
const MAX_DELAY_SECONDS = 60;

/**
 * Failed sign-ins, counted per subject (the account, or what was typed when there is no
 * such account, so both look alike) and per address: growing delays, then a lock.
 */
export class LoginThrottle {
  constructor(private readonly cache: Cache, private readonly policy: LoginPolicy) {}

  private failuresKey(subject: string) {
    return `login-fail:${subject}`;
  }

  /** Throws when this subject or address may not try now. */
  async check(subject: string, ip: string): Promise<void> {
    const [failures, last, fromIp] = await Promise.all([
      this.cache.get(this.failuresKey(subject)),
      this.cache.get(`${this.failuresKey(subject)}:last`),
      this.cache.get(`login-ip:${ip}`),
    ]);
    const count = Number(failures ?? 0);
    if (count >= this.policy.lockThreshold) throw new AppError('account_locked', { minutes: this.policy.lockMinutes });
    if (Number(fromIp ?? 0) >= this.policy.ipLimitPerHour) throw new AppError('login_throttled', { seconds: 3600 });
    if (count >= FREE_FAILURES && last) {
      const delay = Math.min(2 ** (count - FREE_FAILURES), MAX_DELAY_SECONDS);
      const wait = Math.ceil(Number(last) + delay - Date.now() / 1000);
      if (wait > 0) throw new AppError('login_throttled', { seconds: wait });
    }
  }

  /** Records a failure; true when this failure locked the subject. */
  async fail(subject: string, ip: string): Promise<boolean> {
    const window = this.policy.lockMinutes * 60;
    const [count] = await Promise.all([
      this.cache.increment(this.failuresKey(subject), window),
      this.cache.set(`${this.failuresKey(subject)}:last`, String(Date.now() / 1000), window),
      this.cache.increment(`login-ip:${ip}`, 3600),
    ]);
    return count === this.policy.lockThreshold;
  }

  async succeed(subject: string): Promise<void> {
    await Promise.all([this.cache.delete(this.failuresKey(subject)), this.cache.delete(`${this.failuresKey(subject)}:last`)]);
  }
}
