import type { Captchas } from '../verification/captcha.js';

/** A fresh captcha as an <img> source: a data: URL, which the CSP allows and no script needs. */
export async function captchaImage(captchas: Captchas): Promise<{ id: string; image: string }> {
  const { id, svg } = await captchas.create();
  return { id, image: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
}
