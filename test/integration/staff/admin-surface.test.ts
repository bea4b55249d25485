import test from 'ava';
import { HttpBrowser } from '../../helpers/http-browser.js';
import { freePort, startServer } from '../../helpers/server.js';
import { createStaff, staffSignIn, totpCode } from '../../helpers/staff.js';

/**
 * The console where staff are (ADMIN_PORT, ADMIN_ALLOWED_NETWORKS): not on the public port,
 * the staff port serving nothing a citizen uses, and from outside the allowed networks a
 * page that does not exist, so that nobody out there can lock a member out.
 */

const STAFF_PATHS = ['/admin/login', '/api/v1/admin/session', '/metrics'];

test('with ADMIN_PORT the console, its API and /metrics are only on the staff port, which serves nothing else', async (t) => {
  const server = await startServer({ ADMIN_PORT: String(await freePort()) });
  t.teardown(() => server.close());
  for (const path of STAFF_PATHS) t.is((await fetch(`${server.url}${path}`)).status, 404, `public ${path}`);
  t.is((await fetch(`${server.adminUrl}/admin/login`)).status, 200);
  t.is((await fetch(`${server.adminUrl}/metrics`)).status, 200);
  t.is((await fetch(`${server.adminUrl}/static/console.css`)).status, 200);
  t.is((await fetch(`${server.adminUrl}/readyz`)).status, 200);
  for (const path of ['/register', '/.well-known/openid-configuration', '/account', '/api/v1/registration']) {
    t.is((await fetch(`${server.adminUrl}${path}`)).status, 404, `staff port ${path}`);
  }
  t.is((await fetch(`${server.url}/.well-known/openid-configuration`)).status, 200);

  // A member signs in on the staff port; twenty wrong passwords at the public port reach nothing.
  const member = await createStaff(server.deps, 'agent-staff-port', ['agent']);
  await Promise.all(Array.from({ length: 20 }, () => fetch(`${server.url}/admin/login`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: member.username, password: 'wrong-password' }),
  })));
  const signedIn = await staffSignIn({ ...server, url: server.adminUrl! }, member);
  t.is((await signedIn.api('GET', '/session')).status, 200);
});

test('with ADMIN_ALLOWED_NETWORKS a stranger outside them finds no console and cannot lock a member out; inside, the member signs in', async (t) => {
  const server = await startServer({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '1', ADMIN_ALLOWED_NETWORKS: '10.0.0.0/8, 192.168.10.0/24' });
  t.teardown(() => server.close());
  const member = await createStaff(server.deps, 'agent-networks', ['agent']);
  const from = (address: string) => ({ 'x-forwarded-for': address });

  const outside = await Promise.all(Array.from({ length: 30 }, () => fetch(`${server.url}/admin/login`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...from('203.0.113.9') },
    body: new URLSearchParams({ username: member.username, password: 'wrong-password' }),
  })));
  t.true(outside.every((r) => r.status === 404));
  for (const path of STAFF_PATHS) t.is((await fetch(`${server.url}${path}`, { headers: from('203.0.113.9') })).status, 404, path);
  t.is((await fetch(`${server.url}/metrics`, { headers: from('192.168.11.1') })).status, 404, 'a neighbouring network is outside');
  t.is((await fetch(`${server.url}/register`, { headers: from('203.0.113.9'), redirect: 'manual' })).status, 303, 'citizens are not concerned');

  // From inside: not locked, signs in with password and authenticator.
  const browser = new HttpBrowser(server.url);
  const post = (path: string, form: Record<string, string>) => browser.request(path, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...from('10.20.30.40') }, body: new URLSearchParams(form),
  });
  const first = await post('/admin/login', { username: member.username, password: member.password });
  t.is(first.status, 303);
  const second = await post('/admin/login/totp', { code: await totpCode(member.totpSecret) });
  t.is(second.headers.get('location'), '/admin');
  t.is((await fetch(`${server.url}/metrics`, { headers: from('192.168.10.7') })).status, 200);
});

test('a malformed ADMIN_ALLOWED_NETWORKS, or ADMIN_PORT equal to PORT, stops start-up with the variable named', async (t) => {
  const { loadConfig } = await import('../../../src/config/load.js');
  for (const [env, name] of [[{ ADMIN_ALLOWED_NETWORKS: '10.0.0.0/' }, 'ADMIN_ALLOWED_NETWORKS'], [{ ADMIN_ALLOWED_NETWORKS: 'intranet' }, 'ADMIN_ALLOWED_NETWORKS'], [{ PORT: '4000', ADMIN_PORT: '4000' }, 'ADMIN_PORT']] as const) {
    const error = t.throws(() => loadConfig({ NODE_ENV: 'test', ...env }));
    t.regex(error?.message ?? '', new RegExp(name));
  }
});

test('the staff listener judges the connection\'s own address: an X-Forwarded-For sent to it chooses nothing', async (t) => {
  const server = await startServer({ ADMIN_PORT: String(await freePort()), TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '1', ADMIN_ALLOWED_NETWORKS: '10.0.0.0/8' });
  t.teardown(() => server.close());
  const forged = await Promise.all(Array.from({ length: 20 }, () => fetch(`${server.adminUrl}/admin/login`, { headers: { 'x-forwarded-for': '10.1.2.3' } })));
  t.true(forged.every((r) => r.status === 404), 'a request from 127.0.0.1 claiming 10.1.2.3 is still from 127.0.0.1');
  const allowedHere = await startServer({ ADMIN_PORT: String(await freePort()), TRUST_PROXY: 'true', ADMIN_ALLOWED_NETWORKS: '127.0.0.1/32' });
  t.teardown(() => allowedHere.close());
  t.is((await fetch(`${allowedHere.adminUrl}/admin/login`, { headers: { 'x-forwarded-for': '203.0.113.9' } })).status, 200, 'and a forged outside address does not shut the member out either');
});
