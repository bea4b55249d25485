import test from 'ava';
import { errorCode } from '../helpers/http-browser.js';
import { PORTAL, beginAuthorization } from '../helpers/oidc.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { auditOf } from '../helpers/staff.js';

/**
 * Behind TRUST_PROXY, only the X-Forwarded-For entries the configured proxies appended are
 * believed: a client that sends its own list cannot pick the address that per-address
 * limits count and the audit log records.
 */

let server: TestServer;
test.before(async () => {
  server = await startServer({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '1', LOGIN_IP_LIMIT_PER_HOUR: '3' });
});
test.after.always(async () => { await server?.close(); });

test('forged left-most X-Forwarded-For entries neither escape the per-address limit nor reach the audit log', async (t) => {
  const codes: Array<string | undefined> = [];
  for (let i = 0; i < 5; i += 1) {
    const auth = await beginAuthorization(server.url, PORTAL);
    const response = await auth.browser.request(`/interaction/${auth.uid}/login/password`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `198.51.100.${i}, 203.0.113.7` },
      body: new URLSearchParams({ csrf: auth.csrf, identifier: `1390000${String(1000 + i)}`, password: 'Wrong-Password-1' }),
    });
    codes.push(errorCode(await response.text()));
  }
  t.deepEqual(codes, ['login_failed', 'login_failed', 'login_failed', 'login_throttled', 'login_throttled']);
  const failures = (await auditOf(server.deps, 'login')).filter((r) => r.result === 'failure');
  t.is(failures.length, 3);
  t.true(failures.every((r) => r.ip === '203.0.113.7'), failures.map((r) => r.ip).join());
});

test('with two proxies (TRUST_PROXY_HOPS=2) the entry the outer proxy appended counts, never the client\'s own', async (t) => {
  const two = await startServer({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '2' });
  try {
    const auth = await beginAuthorization(two.url, PORTAL);
    await auth.browser.request(`/interaction/${auth.uid}/login/password`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '192.0.2.9, 198.51.100.20, 203.0.113.8' },
      body: new URLSearchParams({ csrf: auth.csrf, identifier: '13900002000', password: 'Wrong-Password-1' }),
    });
    const failure = (await auditOf(two.deps, 'login')).filter((r) => r.result === 'failure').at(-1);
    t.is(failure?.ip, '198.51.100.20', 'two hops: the entry the outer proxy appended, never the client\'s own 192.0.2.9');
  } finally {
    await two.close();
  }
});
