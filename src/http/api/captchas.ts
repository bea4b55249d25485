import Router from '@koa/router';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import type { Cache } from '../../store/cache.js';
import type { Captchas } from '../../verification/captcha.js';
import { captchaImage } from '../captcha-image.js';
import { noStore } from '../middleware/security-headers.js';
import type { ApiOperation } from './openapi.js';
import { addressKey } from '../../verification/address-key.js';

/** New captchas one address may ask for in a minute. */
const PER_ADDRESS_PER_MINUTE = 20;
const EXPIRES_IN_SECONDS = 300;

export const captchaOperations: ApiOperation[] = [
  {
    method: 'post', path: '/api/v1/captchas', tag: 'captchas', status: 201,
    summary: 'A new image captcha, for the JSON flows once they answer captcha_required (send its id and the characters read as captcha_id and captcha_answer)',
    returns: 'the captcha to show', errors: ['captcha_rate_limited'],
    response: z.object({ captcha_id: z.string(), image: z.string().describe('a data: URL of an SVG'), expires_in: z.number().int() }),
  },
];

/**
 * Image captchas for the app and the mini-program. Once an address has had a few SMS codes
 * the JSON flows answer captcha_required, as the pages do; an app behind a carrier's NAT
 * shares its address with many people and needs a way through, which the pages get by
 * showing the image. Each captcha is answered once; asking for them is limited per address.
 */
export function captchaApi(captchas: Captchas, cache: Cache): Router {
  const router = new Router({ prefix: '/api/v1/captchas' });
  router.use(noStore);
  router.post('/', async (ctx) => {
    if (!await cache.reserve(`captcha-ip:${addressKey(ctx.ip)}:m`, PER_ADDRESS_PER_MINUTE, 60)) throw new AppError('captcha_rate_limited');
    const { id, image } = await captchaImage(captchas);
    ctx.status = 201;
    ctx.body = { captcha_id: id, image, expires_in: EXPIRES_IN_SECONDS };
  });
  return router;
}
