import test from 'ava';
import { decodeJwt } from 'jose';
import { PASSWORD, seedAccount } from '../helpers/accounts.js';
import { makePerson } from '../helpers/account-centre.js';
import { hidden } from '../helpers/http-browser.js';
import { APP, passwordLogin } from '../helpers/oidc.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Every client's ID token carries `sid`, not only those registered for back-channel logout
 * with sessions required, so RP-initiated logout recognises a hint from this browser's
 * session for any client and the confirmation submits itself.
 */

let server: TestServer;
test.before(async () => { server = await startServer(); });
test.after.always(async () => { await server?.close(); });

test('the app (no back-channel registration) gets sid, and its same-session hint makes the logout page submit itself', async (t) => {
  const person = makePerson();
  await seedAccount(server.deps, person);
  const login = await passwordLogin(server.url, APP, person.phone, PASSWORD);
  const idToken = login.tokens.body.id_token!;
  const sid = decodeJwt(idToken).sid;
  t.regex(String(sid), /^[A-Za-z0-9_-]{16,}$/);
  const url = new URL('/session/end', server.url);
  url.search = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: 'cn.gov.example.app:/oauth2/logout', state: 'x' }).toString();
  const page = await login.auth.browser.get(url.href);
  t.is(page.response.status, 200);
  t.regex(page.body, /data-auto-logout/);
  t.truthy(hidden(page.body, 'xsrf'));
  t.false(page.body.includes(idToken), 'the ID token is in no link of the page (the language switch included)');
  t.regex(page.body, /href="\/session\/end\?[^"]*lang=en"/);
});
