import test from 'ava';
import { ZHANG_SAN } from '../../helpers/accounts.js';
import { jsonApi } from '../../helpers/json-api.js';
import { startServer, type TestServer } from '../../helpers/server.js';

/**
 * An app that meets captcha_required in a JSON flow can get through: POST /api/v1/captchas
 * gives an image and an id, answered once, and asking for them is limited per address.
 */

let server: TestServer;
test.before(async () => { server = await startServer({ CAPTCHA_AFTER_SENDS_PER_IP: '1', SMS_LIMIT_PER_MINUTE: '10' }); });
test.after.always(async () => { await server?.close(); });

test.serial('after captcha_required, a captcha from the API lets the registration flow send its code; a spent one does not', async (t) => {
  const call = jsonApi(server, '/api/v1/registration');
  const started = await call('POST', '/');
  const holder = { 'x-flow-token': started.body.flow_token as string };
  const id = started.body.flow_id as string;
  t.is((await call('POST', `/${id}/identity`, { name: ZHANG_SAN.name, id_number: ZHANG_SAN.idNumber }, holder)).status, 200);
  t.is((await call('POST', `/${id}/phone/code`, { phone: ZHANG_SAN.phone }, holder)).status, 200);
  const refused = await call('POST', `/${id}/phone/code`, { phone: ZHANG_SAN.phone }, holder);
  t.is(refused.body.error, 'captcha_required');

  const captcha = await jsonApi(server, '/api/v1/captchas')('POST', '/');
  t.is(captcha.status, 201);
  t.regex(captcha.body.captcha_id, /^[A-Za-z0-9_-]{22}$/);
  t.regex(captcha.body.image, /^data:image\/svg\+xml;base64,/);
  t.is(captcha.body.expires_in, 300);
  // A person reading the image: here, the answer the server keeps for it.
  const answer = await server.deps.cache.get(`captcha:${captcha.body.captcha_id}`);
  const sent = await call('POST', `/${id}/phone/code`, { phone: ZHANG_SAN.phone, captcha_id: captcha.body.captcha_id, captcha_answer: answer }, holder);
  t.is(sent.status, 200, JSON.stringify(sent.body));
  const again = await call('POST', `/${id}/phone/code`, { phone: ZHANG_SAN.phone, captcha_id: captcha.body.captcha_id, captcha_answer: answer }, holder);
  t.is(again.body.error, 'captcha_invalid', 'a captcha is answered once');
});

test.serial('thirty captcha requests at once from one address: twenty are served, the rest refused with 429', async (t) => {
  const answers = await Promise.all(Array.from({ length: 30 }, () => fetch(`${server.url}/api/v1/captchas`, { method: 'POST' })));
  const statuses = answers.map((answer) => answer.status);
  // The first test asked for one already in this minute.
  t.is(statuses.filter((status) => status === 201).length, 19);
  t.is(statuses.filter((status) => status === 429).length, 11);
  const body = await answers.find((answer) => answer.status === 429)!.json() as { error: string; message_zh: string };
  t.is(body.error, 'captcha_rate_limited');
  t.truthy(body.message_zh);
});
