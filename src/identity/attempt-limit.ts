import { AppError } from '../errors.js';
import type { Cache } from '../store/cache.js';

/**
 * Wrong answers to a secret a signed-in person is asked again (the current password, an
 * authenticator or recovery code, real-name factors) are limited per account: whoever
 * holds a stolen session must not be able to guess them at leisure.
 */
export class AttemptLimit {
  constructor(private readonly cache: Cache, private readonly limit = 5, private readonly windowSeconds = 15 * 60) {}

  private key(subject: string) {
    return `attempts:${subject}`;
  }

  /** Throws `attempts_exceeded` while the subject has used up its wrong answers. */
  async check(subject: string): Promise<void> {
    const count = Number(await this.cache.get(this.key(subject)) ?? 0);
    if (count >= this.limit) {
      const seconds = await this.cache.ttl(this.key(subject)) ?? this.windowSeconds;
      throw new AppError('attempts_exceeded', { minutes: Math.max(1, Math.ceil(seconds / 60)) });
    }
  }

  async fail(subject: string): Promise<void> {
    await this.cache.increment(this.key(subject), this.windowSeconds);
  }

  async reset(subject: string): Promise<void> {
    await this.cache.delete(this.key(subject));
  }
}
