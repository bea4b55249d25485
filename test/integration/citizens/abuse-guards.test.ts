import test from 'ava';
import { ZHANG_SAN, seedAccount } from '../../helpers/accounts.js';
import { errorCode, hidden, HttpBrowser } from '../../helpers/http-browser.js';
import { PORTAL, beginAuthorization } from '../../helpers/oidc.js';
import { startServer, type TestServer } from '../../helpers/server.js';

let server: TestServer;
test.before(async () => {
  server = await startServer({ CAPTCHA_AFTER_SENDS_PER_IP: '1', SMS_LIMIT_PER_MINUTE: '10' });
  await seedAccount(server.deps, ZHANG_SAN);
});
test.after.always(async () => { await server?.close(); });

test.serial('after a send from an address, login codes need the image captcha, answered right and only once', async (t) => {
  const auth = await beginAuthorization(server.url, PORTAL);
  const send = (extra: Record<string, string> = {}) => auth.browser.post(`/interaction/${auth.uid}/login/sms/send`, { csrf: auth.csrf, phone: ZHANG_SAN.phone, ...extra });

  const first = await send();
  t.is(first.response.status, 200);
  t.is(errorCode(first.body), undefined);

  const withoutCaptcha = await send();
  t.is(errorCode(withoutCaptcha.body), 'captcha_required');

  // The page now shows a captcha; a wrong answer spends it.
  const captchaId = hidden(withoutCaptcha.body, 'captcha_id');
  t.is(errorCode((await send({ captcha_id: captchaId, captcha_answer: 'wrong' })).body), 'captcha_invalid');
  t.is(errorCode((await send({ captcha_id: captchaId, captcha_answer: 'wrong' })).body), 'captcha_invalid');

  // A person reading the image: here, the answer the server keeps for it.
  const page = await auth.browser.get(`/interaction/${auth.uid}?tab=sms`);
  const freshId = hidden(page.body, 'captcha_id');
  const answer = await server.deps.cache.get(`captcha:${freshId}`);
  const solved = await send({ captcha_id: freshId, captcha_answer: answer! });
  t.is(errorCode(solved.body), undefined);
  t.regex(solved.body, /验证码已发送/);
  t.is(errorCode((await send({ captcha_id: freshId, captcha_answer: answer! })).body), 'captcha_invalid', 'a solved captcha is spent');
});

test.serial('a registration form cannot be posted from another browser, even with the flow id and a token seen elsewhere', async (t) => {
  const owner = new HttpBrowser(server.url);
  const landed = await owner.get('/register');
  const flowPath = new URL(landed.url).pathname;
  const csrf = hidden(landed.body, 'csrf');

  const stranger = new HttpBrowser(server.url);
  await stranger.get('/register');
  const forged = await stranger.post(`${flowPath}/identity`, { csrf, name: ZHANG_SAN.name, id_number: ZHANG_SAN.idNumber });
  t.is(forged.response.status, 403);
  t.is(errorCode(forged.body), 'csrf');

  const view = await owner.get(flowPath);
  t.regex(view.body, /name="id_number"/, 'the flow is still at its first step');
  const genuine = await owner.post(`${flowPath}/identity`, { csrf, name: ZHANG_SAN.name, id_number: ZHANG_SAN.idNumber });
  t.regex(genuine.body, /data-factors-needed="2"/);
});

test.serial('return_to leads only back to a login interaction, never to another site', async (t) => {
  const browser = new HttpBrowser(server.url);
  for (const target of ['https://evil.example/', '//evil.example/x', '/account', '/interaction/../admin']) {
    const landed = await browser.get(`/register?return_to=${encodeURIComponent(target)}`);
    t.false(landed.url.includes('return_to'), target);
    t.false(landed.body.includes('evil.example'), target);
  }
  const kept = await browser.get('/register?return_to=%2Finteraction%2Fabc123');
  t.regex(kept.url, /return_to=%2Finteraction%2Fabc123/);
});
