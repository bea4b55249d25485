import { AppError } from '../errors.js';
import type { Cache } from '../store/cache.js';

/**
 * Wrong answers to a secret a signed-in person is asked again (the current password, an
 * authenticator or recovery code, real-name factors) are limited per account: whoever
 * holds a stolen session must not be able to guess them at leisure.
 *
 * Each try takes its place under the limit before the answer is judged (Cache.reserve), so
 * twenty answers sent at once are twenty tries, not twenty judged against one count. A
 * wrong answer keeps its place; anything else gives it back.
 */
export class AttemptLimit {
  constructor(private readonly cache: Cache, private readonly limit = 5, private readonly windowSeconds = 15 * 60) {}

  private key(subject: string) {
    return `attempts:${subject}`;
  }

  /**
   * Runs `work` as one try of `subject`. Throws attempts_exceeded, without running it,
   * while the wrong answers are used up. An error `isWrong` recognises counts. A success
   * `forget`s the wrong answers so far (the default), or only gives its own try back
   * (`give-back`: a right answer does not excuse the wrong ones), or keeps it too (`keep`:
   * a right answer tells as much as a wrong one).
   */
  async guard<T>(subject: string, work: () => Promise<T>, isWrong: (error: unknown) => boolean, options: { onSuccess?: 'forget' | 'give-back' | 'keep' } = {}): Promise<T> {
    const key = this.key(subject);
    if (!await this.cache.reserve(key, this.limit, this.windowSeconds)) {
      const seconds = await this.cache.ttl(key) ?? this.windowSeconds;
      throw new AppError('attempts_exceeded', { minutes: Math.max(1, Math.ceil(seconds / 60)) });
    }
    let result: T;
    try {
      result = await work();
    } catch (error) {
      if (!isWrong(error)) await this.cache.release(key);
      throw error;
    }
    const onSuccess = options.onSuccess ?? 'forget';
    if (onSuccess === 'give-back') await this.cache.release(key);
    else if (onSuccess === 'forget') await this.cache.delete(key);
    return result;
  }
}

/** An isWrong for `guard`: an AppError with one of these codes. */
export function errorIs(...codes: string[]): (error: unknown) => boolean {
  return (error) => error instanceof AppError && codes.includes(error.code);
}
