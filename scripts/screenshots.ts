/**
 * The README's screenshots: the login page on a 390×844 phone, as it is and in 关怀模式.
 * `npx tsx scripts/screenshots.ts` regenerates them into docs/screenshots/ (a server on
 * embedded stores and Debian's Chromium, as the browser tests use). Chinese text needs a
 * CJK font on the machine (`apt-get install fonts-wqy-zenhei`, or fonts-noto-cjk).
 */
import { openBrowser } from '../test/helpers/browser.js';
import { pkce } from '../test/helpers/http-browser.js';
import { APP } from '../test/helpers/oidc.js';
import { startServer } from '../test/helpers/server.js';

const server = await startServer();
const browser = await openBrowser({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true });
try {
  const page = await browser.context.newPage();
  const url = new URL('/auth', server.url);
  const { challenge } = pkce();
  for (const [key, value] of Object.entries({ ...APP, response_type: 'code', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state: 'screenshot' })) url.searchParams.set(key, value);
  await page.goto(url.href);
  await page.screenshot({ path: 'docs/screenshots/login-phone.png' });
  await page.goto(`${page.url().split('?')[0]}?care=1`);
  await page.screenshot({ path: 'docs/screenshots/login-phone-care.png' });
  console.log('docs/screenshots/login-phone.png, docs/screenshots/login-phone-care.png');
} finally {
  await browser.close();
  await server.close();
}
