import test from 'ava';
import { startServer } from '../helpers/server.js';

test('healthz, readyz and metrics answer; readiness fails when a store is gone', async (t) => {
  const server = await startServer();
  try {
    const health = await fetch(`${server.url}/healthz`);
    t.is(health.status, 200);
    t.deepEqual(await health.json(), { status: 'ok' });

    const ready = await fetch(`${server.url}/readyz`);
    t.is(ready.status, 200);
    t.deepEqual(await ready.json(), { status: 'ready', checks: { database: 'ok', cache: 'ok' } });

    await fetch(`${server.url}/.well-known/openid-configuration`);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    t.regex(metrics, /civic_http_requests_total\{route="\/\.well-known\/openid-configuration",method="GET",status="2xx"\} \d+/);
    t.regex(metrics, /civic_http_request_duration_seconds_bucket/);
    t.regex(metrics, /process_resident_memory_bytes/);

    await server.deps.cache.close();
    const unready = await fetch(`${server.url}/readyz`);
    t.is(unready.status, 503);
    t.like(await unready.json(), { status: 'unavailable', checks: { database: 'ok', cache: 'unavailable' } });
    t.is((await fetch(`${server.url}/healthz`)).status, 200);
  } finally {
    await server.close();
  }
});

test('every response carries a request id, echoing a well-formed incoming one', async (t) => {
  const server = await startServer();
  try {
    const generated = await fetch(`${server.url}/healthz`);
    t.regex(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const echoed = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'lb-1234567890' } });
    t.is(echoed.headers.get('x-request-id'), 'lb-1234567890');
    const replaced = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    t.not(replaced.headers.get('x-request-id'), 'bad id with spaces');
  } finally {
    await server.close();
  }
});
