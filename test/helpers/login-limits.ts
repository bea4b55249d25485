import { setTimeout as delay } from 'node:timers/promises';
import { hidden } from './http-browser.js';
import type { TestServer } from './server.js';

/** The captcha a page shows, answered as the person reading it would. */
export async function solvedCaptcha(server: TestServer, page: string): Promise<{ captcha_id: string; captcha_answer: string }> {
  const id = hidden(page, 'captcha_id');
  const answer = await server.deps.cache.get(`captcha:${id}`);
  if (!answer) throw new Error('the page shows no live captcha');
  return { captcha_id: id, captcha_answer: answer };
}

/**
 * Waits until the growing delay after a subject's failed sign-ins has passed (at most a
 * minute), so the next attempt is judged rather than answered login_throttled.
 */
export async function loginDelayOver(server: TestServer, subject: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (await server.deps.cache.get(`login-slot:${subject}`) !== null) {
    if (Date.now() > deadline) throw new Error(`the sign-in delay of ${subject} did not end`);
    await delay(200);
  }
}
