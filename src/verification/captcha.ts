import { randomBytes } from 'node:crypto';
import svgCaptcha from 'svg-captcha';
import { AppError } from '../errors.js';
import type { Cache } from '../store/cache.js';

const TTL_SECONDS = 300;

/**
 * Server-side image captchas, asked for before an SMS code once an address has sent a few:
 * the answer stays on the server and each captcha can be tried once.
 */
export class Captchas {
  constructor(private readonly cache: Cache) {}

  async create(): Promise<{ id: string; svg: string }> {
    const captcha = svgCaptcha.create({ size: 5, noise: 3, ignoreChars: '0o1ilI', color: false, width: 150, height: 50 });
    const id = randomBytes(16).toString('base64url');
    await this.cache.set(`captcha:${id}`, captcha.text.toLowerCase(), TTL_SECONDS);
    return { id, svg: captcha.data };
  }

  /** Throws captcha_invalid unless the answer is right; a captcha is spent by any attempt. */
  async verify(id: string | undefined, answer: string | undefined): Promise<void> {
    if (!id || !answer) throw new AppError('captcha_required');
    const expected = await this.cache.take(`captcha:${id}`);
    if (!expected || expected !== answer.trim().toLowerCase()) throw new AppError('captcha_invalid');
  }
}
