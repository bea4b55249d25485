import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import test from 'ava';
import { UpstreamUnavailableError } from '../../src/ports/errors.js';
import { loadWechatFixtures, type WechatFixtures } from '../../src/ports/wechat/fixtures.js';
import { createWechat, type WechatPort } from '../../src/ports/wechat/index.js';
import { HttpWechat } from '../../src/ports/wechat/http.js';
import { createSimulatorWechat } from '../../src/ports/wechat/simulator.js';
import { MemoryCache } from '../../src/store/memory-cache.js';

/**
 * The WeChat port contract: one suite, run against the simulator and against the http
 * adapter talking to a small stand-in for api.weixin.qq.com that answers WeChat's way
 * (200 with errcode for refusals, codes spent on first use) from the same fixtures.
 */
const FIXTURES = resolve('config/fixtures/wechat.example.json');
const SECRET = 'contract-test-app-secret-0123456789';

type Override = (path: string) => { status: number; body: unknown } | undefined;

interface FakeWechat {
  url: string;
  calls: string[];
  /** Make the next access token answers stale (errcode 40001) until a forced refresh. */
  expireTokens(): void;
  close(): Promise<void>;
}

async function startFakeWechat(fixtures: WechatFixtures, override?: Override): Promise<FakeWechat> {
  const spent = new Set<string>();
  const calls: string[] = [];
  let tokenSerial = 0;
  let validToken = '';
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const key = (code: string) => code.split('.')[0]!;
  const readJson = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>;
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    calls.push(`${req.method} ${url.pathname}`);
    const forced = override?.(url.pathname);
    if (forced) return send(res, forced.status, forced.body);
    if (req.method === 'GET' && url.pathname === '/sns/jscode2session') {
      const q = url.searchParams;
      if (q.get('appid') !== fixtures.appId || q.get('secret') !== SECRET) return send(res, 200, { errcode: 40125, errmsg: 'invalid appsecret' });
      if (q.get('grant_type') !== 'authorization_code') return send(res, 200, { errcode: 40002, errmsg: 'invalid grant_type' });
      const code = q.get('js_code') ?? '';
      if (spent.has(`login:${code}`)) return send(res, 200, { errcode: 40163, errmsg: 'code been used' });
      if (fixtures.blockedCodes.includes(key(code))) {
        spent.add(`login:${code}`);
        return send(res, 200, { errcode: 40226, errmsg: 'high risk user' });
      }
      const person = fixtures.codes[key(code)];
      if (!person) return send(res, 200, { errcode: 40029, errmsg: 'invalid code' });
      spent.add(`login:${code}`);
      return send(res, 200, { openid: person.openid, session_key: 'c2Vzc2lvbi1rZXk=', ...(person.unionid ? { unionid: person.unionid } : {}) });
    }
    if (req.method === 'POST' && url.pathname === '/cgi-bin/stable_token') {
      const body = await readJson(req);
      if (body.appid !== fixtures.appId || body.secret !== SECRET || body.grant_type !== 'client_credential') return send(res, 200, { errcode: 40125, errmsg: 'invalid appsecret' });
      if (!validToken || body.force_refresh === true) validToken = `token-${(tokenSerial += 1)}`;
      return send(res, 200, { access_token: validToken, expires_in: 7200 });
    }
    if (req.method === 'POST' && url.pathname === '/wxa/business/getuserphonenumber') {
      if (url.searchParams.get('access_token') !== validToken) return send(res, 200, { errcode: 40001, errmsg: 'invalid credential' });
      const code = String((await readJson(req)).code ?? '');
      const phone = fixtures.phoneCodes[key(code)];
      if (!phone || spent.has(`phone:${code}`)) return send(res, 200, { errcode: 40029, errmsg: 'invalid code' });
      spent.add(`phone:${code}`);
      return send(res, 200, {
        errcode: 0, errmsg: 'ok',
        phone_info: { phoneNumber: phone, purePhoneNumber: phone, countryCode: '86', watermark: { timestamp: 1700000000, appid: fixtures.appId } },
      });
    }
    return send(res, 404, { errcode: 404 });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((ready) => server.once('listening', ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    expireTokens: () => { validToken = `stale-${Math.random()}`; },
    close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done(undefined)); }),
  };
}

const fast = { retries: 1, backoffMs: 0, timeoutMs: 2_000 };

interface Implementation {
  name: string;
  open(): Promise<{ port: WechatPort; close(): Promise<void> }>;
}

const implementations: Implementation[] = [
  {
    name: 'simulator',
    async open() {
      const cache = new MemoryCache('t:');
      return { port: await createWechat({ kind: 'simulator', fixturesFile: FIXTURES }, cache), close: () => cache.close() };
    },
  },
  {
    name: 'http',
    async open() {
      const fixtures = await loadWechatFixtures(FIXTURES);
      const fake = await startFakeWechat(fixtures);
      const port = await createWechat({ kind: 'http', appId: fixtures.appId, appSecret: SECRET, baseUrl: fake.url, ...fast }, new MemoryCache('t:'));
      return { port, close: () => fake.close() };
    },
  },
];

for (const implementation of implementations) {
  const named = (title: string) => `${implementation.name}: ${title}`;

  test(named('a login code gives the identity, with the unionid when WeChat has one'), async (t) => {
    const { port, close } = await implementation.open();
    t.teardown(close);
    t.is(port.kind, implementation.name as WechatPort['kind']);
    t.is(port.appId, 'wx0123456789abcdef');
    const zhang = await port.codeToSession('zhangsan.a1');
    t.true(zhang.ok);
    if (!zhang.ok) return;
    t.like(zhang.session, { appId: 'wx0123456789abcdef', openid: 'oSim-zhangsan-0001', unionid: 'uSim-zhangsan-0001' });
    t.truthy(zhang.session.sessionKey);
    const li = await port.codeToSession('lisi');
    t.true(li.ok && li.session.openid === 'oSim-lisi-0002' && li.session.unionid === undefined);
  });

  test(named('each code works once; a replay, an unknown or malformed code is invalid_code'), async (t) => {
    const { port, close } = await implementation.open();
    t.teardown(close);
    t.true((await port.codeToSession('zhangsan.b1')).ok);
    t.deepEqual(await port.codeToSession('zhangsan.b1'), { ok: false, reason: 'invalid_code' });
    t.true((await port.codeToSession('zhangsan.b2')).ok, 'another code of the same person still works');
    for (const code of ['nobody', 'nobody.1', '', 'with space', 'x'.repeat(129)]) {
      t.deepEqual(await port.codeToSession(code), { ok: false, reason: 'invalid_code' }, code);
    }
  });

  test(named('WeChat refusing a user is user_blocked'), async (t) => {
    const { port, close } = await implementation.open();
    t.teardown(close);
    t.deepEqual(await port.codeToSession('risky.1'), { ok: false, reason: 'user_blocked' });
  });

  test(named('a phone code gives the verified number once'), async (t) => {
    const { port, close } = await implementation.open();
    t.teardown(close);
    t.deepEqual(await port.phoneNumber('zhangsan-phone.c1'), { ok: true, phone: { phone: '13800138000', countryCode: '86' } });
    t.deepEqual(await port.phoneNumber('zhangsan-phone.c1'), { ok: false, reason: 'invalid_code' });
    t.deepEqual(await port.phoneNumber('nobody-phone'), { ok: false, reason: 'invalid_code' });
    t.deepEqual(await port.phoneNumber('zhangsan'), { ok: false, reason: 'invalid_code' }, 'a login code is no phone code');
  });
}

test('simulator: spent codes are shared by every instance on one cache', async (t) => {
  const fixtures = await loadWechatFixtures(FIXTURES);
  const cache = new MemoryCache('t:');
  t.teardown(() => cache.close());
  const first = createSimulatorWechat(fixtures, cache);
  const second = createSimulatorWechat(fixtures, cache);
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? first : second).codeToSession('lisi.race')));
  t.is(results.filter((r) => r.ok).length, 1);
});

test('http: the access token is fetched once, and renewed when WeChat calls it stale', async (t) => {
  const fixtures = await loadWechatFixtures(FIXTURES);
  const fake = await startFakeWechat(fixtures);
  t.teardown(() => fake.close());
  const port = new HttpWechat({ appId: fixtures.appId, appSecret: SECRET, baseUrl: fake.url, ...fast });
  t.true((await port.phoneNumber('zhangsan-phone.d1')).ok);
  t.true((await port.phoneNumber('lisi-phone.d2')).ok);
  t.is(fake.calls.filter((c) => c === 'POST /cgi-bin/stable_token').length, 1);
  fake.expireTokens();
  t.true((await port.phoneNumber('zhangsan-phone.d3')).ok);
  t.is(fake.calls.filter((c) => c === 'POST /cgi-bin/stable_token').length, 2);
});

test('http: outages and wrong credentials are UpstreamUnavailableError, and a code is never sent twice', async (t) => {
  const fixtures = await loadWechatFixtures(FIXTURES);
  const busy = await startFakeWechat(fixtures, (path) => (path === '/sns/jscode2session' ? { status: 200, body: { errcode: -1, errmsg: 'system busy' } } : undefined));
  const down = await startFakeWechat(fixtures, () => ({ status: 502, body: 'bad gateway' }));
  const garbled = await startFakeWechat(fixtures, () => ({ status: 200, body: '<html>' }));
  const silent = await startFakeWechat(fixtures, () => ({ status: 200, body: {} }));
  t.teardown(() => Promise.all([busy, down, garbled, silent].map((fake) => fake.close())).then(() => undefined));
  const adapter = (url: string, secret = SECRET) => new HttpWechat({ appId: fixtures.appId, appSecret: secret, baseUrl: url, ...fast });

  const failure = async (call: Promise<unknown>) => t.throwsAsync(call, { instanceOf: UpstreamUnavailableError });
  t.is((await failure(adapter(busy.url).codeToSession('zhangsan.e1')))?.reason, 'server-error');
  const downError = await failure(adapter(down.url).codeToSession('zhangsan.e2'));
  t.is(downError?.reason, 'server-error');
  t.is(downError?.attempts, 1, 'a code is spent by WeChat on arrival: no retry once it may have arrived');
  t.is(down.calls.length, 1);
  t.is((await failure(adapter(garbled.url).codeToSession('zhangsan.e3')))?.reason, 'malformed');
  t.is((await failure(adapter(silent.url).codeToSession('zhangsan.e4')))?.reason, 'malformed');

  const honest = await startFakeWechat(fixtures);
  t.teardown(() => honest.close());
  const wrongSecret = await failure(adapter(honest.url, 'not-the-secret-0123456789').codeToSession('zhangsan.e5'));
  t.is(wrongSecret?.reason, 'rejected');
  t.notRegex(wrongSecret?.message ?? '', /secret|zhangsan/, 'no secret or code in the message');
  t.is((await failure(adapter(honest.url, 'not-the-secret-0123456789').phoneNumber('zhangsan-phone.e6')))?.reason, 'rejected');

  const closed = await startFakeWechat(fixtures);
  await closed.close();
  t.is((await failure(adapter(closed.url).codeToSession('zhangsan.e7')))?.reason, 'unreachable');
});

test('http: a phone answer for another app is not believed', async (t) => {
  const fixtures = await loadWechatFixtures(FIXTURES);
  const fake = await startFakeWechat(fixtures, (path) => (path === '/wxa/business/getuserphonenumber'
    ? { status: 200, body: { errcode: 0, phone_info: { phoneNumber: '13800138000', purePhoneNumber: '13800138000', countryCode: '86', watermark: { appid: 'wxffffffffffffffff' } } } }
    : undefined));
  t.teardown(() => fake.close());
  const port = new HttpWechat({ appId: fixtures.appId, appSecret: SECRET, baseUrl: fake.url, ...fast });
  const error = await t.throwsAsync(port.phoneNumber('zhangsan-phone.f1'), { instanceOf: UpstreamUnavailableError });
  t.is(error?.reason, 'malformed');
});

test('fixtures: a wrong file stops start-up naming the problems', async (t) => {
  const { parseWechatFixtures } = await import('../../src/ports/wechat/fixtures.js');
  const error = t.throws(() => parseWechatFixtures({ appId: 'nope', codes: { 'a.b': { openid: 'x' } }, phoneCodes: { p: '123' } }));
  t.regex(error?.message ?? '', /appId/);
  t.regex(error?.message ?? '', /codes/);
  t.regex(error?.message ?? '', /phoneCodes\.p/);
});
