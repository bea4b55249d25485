import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { z } from 'zod';
import { UpstreamUnavailableError } from '../../src/ports/errors.js';
import { JsonHttpClient, type Clock, type HttpClientOptions } from '../../src/ports/http-client.js';

interface Received { method: string; path: string; headers: IncomingHttpHeaders; body: string }
type Handler = (request: Received, response: ServerResponse, index: number) => void;

/** A throwaway upstream on 127.0.0.1; the handler sees each request and its 0-based index. */
async function serve(handler: Handler, port = 0) {
  const received: Received[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    received.push(request);
    handler(request, res, received.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    received,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function reply(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** A port on which nothing listens (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = await serve(() => undefined);
  await server.close();
  return server.port;
}

function fakeClock() {
  const clock = {
    time: 1_700_000_000_000,
    delays: [] as number[],
    onSleep: undefined as undefined | (() => Promise<void>),
    now: () => clock.time,
    sleep: async (ms: number) => {
      clock.delays.push(ms);
      await clock.onSleep?.();
    },
    random: () => 0.5,
  };
  return clock satisfies Clock;
}

const answer = z.object({ ok: z.boolean() });

function client(url: string, options: Partial<HttpClientOptions> = {}) {
  return new JsonHttpClient({ upstream: 'test-upstream', baseUrl: url, retries: 0, clock: fakeClock(), ...options });
}

test('posts JSON with the bearer token and returns the validated answer', async (t) => {
  const server = await serve((_request, response) => reply(response, 200, { ok: true, extra: 'ignored' }));
  t.teardown(server.close);
  const http = client(`${server.url}/api/`, { bearerToken: 'secret-token' });
  t.deepEqual(await http.post('/things/check', { name: '张三' }, { schema: answer, idempotent: true }), { ok: true });
  t.is(server.received.length, 1);
  const [request] = server.received;
  t.is(request?.method, 'POST');
  t.is(request?.path, '/api/things/check');
  t.is(request?.headers['content-type'], 'application/json');
  t.is(request?.headers.authorization, 'Bearer secret-token');
  t.deepEqual(JSON.parse(request?.body ?? ''), { name: '张三' });
});

test('sends no authorization header without a token', async (t) => {
  const server = await serve((_request, response) => reply(response, 200, { ok: true }));
  t.teardown(server.close);
  await client(server.url).post('x', {}, { schema: answer, idempotent: true });
  t.is(server.received[0]?.headers.authorization, undefined);
});

test('a request slower than timeoutMs fails as a timeout naming the upstream', async (t) => {
  const server = await serve(() => undefined); // never answers
  t.teardown(server.close);
  const error = await t.throwsAsync(client(server.url, { timeoutMs: 150 }).post('slow', {}, { schema: answer, idempotent: true }), {
    instanceOf: UpstreamUnavailableError,
  });
  t.is(error?.upstream, 'test-upstream');
  t.is(error?.reason, 'timeout');
  t.is(error?.attempts, 1);
  t.regex(error?.message ?? '', /test-upstream/);
});

test('an idempotent call that timed out is retried', async (t) => {
  const server = await serve((_request, response, index) => {
    if (index > 0) reply(response, 200, { ok: true });
  });
  t.teardown(server.close);
  // The retry must be answered within the same timeout: generous, so a busy machine still does.
  const result = await client(server.url, { timeoutMs: 1_500, retries: 1 }).post('slow', {}, { schema: answer, idempotent: true });
  t.deepEqual(result, { ok: true });
  t.is(server.received.length, 2);
});

test('5xx is retried with exponential, jittered back-off, then succeeds', async (t) => {
  const server = await serve((_request, response, index) => reply(response, index < 2 ? 503 : 200, index < 2 ? { error: 'busy' } : { ok: true }));
  t.teardown(server.close);
  const clock = fakeClock();
  const http = client(server.url, { retries: 3, backoffMs: 100, clock });
  t.deepEqual(await http.post('x', {}, { schema: answer, idempotent: true }), { ok: true });
  t.is(server.received.length, 3);
  // Equal jitter with random() = 0.5: 100 → 75, 200 → 150.
  t.deepEqual(clock.delays, [75, 150]);
});

test('jitter spreads each delay between half and all of its exponential step', async (t) => {
  const server = await serve((_request, response) => reply(response, 500, {}));
  t.teardown(server.close);
  for (const [random, expected] of [[0, [50, 100, 200]], [0.999, [99.95, 199.9, 399.8]]] as const) {
    const clock = { ...fakeClock(), delays: [] as number[] };
    clock.random = () => random;
    clock.sleep = async (ms: number) => { clock.delays.push(ms); };
    await t.throwsAsync(client(server.url, { retries: 3, backoffMs: 100, clock }).post('x', {}, { schema: answer, idempotent: true }));
    t.deepEqual(clock.delays.map((ms) => Math.round(ms * 100) / 100), [...expected]);
  }
});

test('gives up after the configured retries with the last status', async (t) => {
  const server = await serve((_request, response) => reply(response, 502, {}));
  t.teardown(server.close);
  const error = await t.throwsAsync(client(server.url, { retries: 2 }).post('x', {}, { schema: answer, idempotent: true }), {
    instanceOf: UpstreamUnavailableError,
  });
  t.is(error?.reason, 'server-error');
  t.is(error?.status, 502);
  t.is(error?.attempts, 3);
  t.is(server.received.length, 3);
});

test('a 4xx is not retried, and does not open the circuit', async (t) => {
  const server = await serve((_request, response) => reply(response, 400, { error: 'bad' }));
  t.teardown(server.close);
  const http = client(server.url, { retries: 3, breakerThreshold: 1 });
  for (let i = 0; i < 2; i++) {
    const error = await t.throwsAsync(http.post('x', {}, { schema: answer, idempotent: true }), { instanceOf: UpstreamUnavailableError });
    t.is(error?.reason, 'rejected');
    t.is(error?.status, 400);
  }
  t.is(server.received.length, 2);
  t.is(http.breakerState, 'closed');
});

test('a redirect is refused, not followed', async (t) => {
  const server = await serve((request, response) => {
    if (request.path === '/moved') {
      response.writeHead(302, { location: '/elsewhere' });
      response.end();
    } else reply(response, 200, { ok: true });
  });
  t.teardown(server.close);
  const error = await t.throwsAsync(client(server.url).post('moved', {}, { schema: answer, idempotent: true }), { instanceOf: UpstreamUnavailableError });
  t.is(error?.reason, 'rejected');
  t.is(error?.status, 302);
  t.is(server.received.length, 1);
});

test('a call that is not idempotent is not retried on 5xx or timeouts', async (t) => {
  const failing = await serve((_request, response) => reply(response, 500, {}));
  const silent = await serve(() => undefined);
  t.teardown(failing.close);
  t.teardown(silent.close);
  const serverError = await t.throwsAsync(client(failing.url, { retries: 3 }).post('x', {}, { idempotent: false }), { instanceOf: UpstreamUnavailableError });
  t.is(serverError?.reason, 'server-error');
  t.is(failing.received.length, 1);
  const timeout = await t.throwsAsync(client(silent.url, { retries: 3, timeoutMs: 500 }).post('x', {}, { idempotent: false }), { instanceOf: UpstreamUnavailableError });
  t.is(timeout?.reason, 'timeout');
  // One attempt only; on a busy machine the silent upstream may not even have read it yet.
  t.is(timeout?.attempts, 1);
  t.true(silent.received.length <= 1);
});

test('a refused connection fails as unreachable, and is retried even when not idempotent', async (t) => {
  const port = await closedPort();
  const refused = await t.throwsAsync(client(`http://127.0.0.1:${port}`).post('x', {}, { idempotent: false }), { instanceOf: UpstreamUnavailableError });
  t.is(refused?.reason, 'unreachable');

  // The upstream comes up during the back-off: the retry reaches it, exactly once.
  const clock = fakeClock();
  let server: Awaited<ReturnType<typeof serve>> | undefined;
  clock.onSleep = async () => {
    server ??= await serve((_request, response) => reply(response, 202, {}), port);
  };
  t.teardown(() => server?.close());
  await client(`http://127.0.0.1:${port}`, { retries: 2, clock }).post('x', { n: 1 }, { idempotent: false });
  t.is(clock.delays.length, 1);
  t.is(server?.received.length, 1);
});

test('the circuit opens after the threshold of consecutive failures and then fails at once', async (t) => {
  const server = await serve((_request, response) => reply(response, 500, {}));
  t.teardown(server.close);
  const http = client(server.url, { breakerThreshold: 3 });
  for (let i = 0; i < 3; i++) {
    const error = await t.throwsAsync(http.post('x', {}, { schema: answer, idempotent: true }), { instanceOf: UpstreamUnavailableError });
    t.is(error?.reason, 'server-error');
  }
  t.is(http.breakerState, 'open');
  const fast = await t.throwsAsync(http.post('x', {}, { schema: answer, idempotent: true }), { instanceOf: UpstreamUnavailableError });
  t.is(fast?.reason, 'circuit-open');
  t.is(fast?.attempts, 0);
  t.is(fast?.upstream, 'test-upstream');
  t.is(server.received.length, 3);
});

test('each failed retry counts, so an opening circuit cuts retries short', async (t) => {
  const server = await serve((_request, response) => reply(response, 503, {}));
  t.teardown(server.close);
  const http = client(server.url, { breakerThreshold: 3, retries: 5 });
  const error = await t.throwsAsync(http.post('x', {}, { schema: answer, idempotent: true }), { instanceOf: UpstreamUnavailableError });
  t.is(error?.reason, 'circuit-open');
  t.is(error?.attempts, 3);
  t.is(server.received.length, 3);
});

test('a success resets the count of consecutive failures', async (t) => {
  const server = await serve((_request, response, index) => reply(response, index === 1 ? 200 : 500, { ok: true }));
  t.teardown(server.close);
  const http = client(server.url, { breakerThreshold: 2 });
  await t.throwsAsync(http.post('x', {}, { schema: answer, idempotent: true }));
  await http.post('x', {}, { schema: answer, idempotent: true });
  await t.throwsAsync(http.post('x', {}, { schema: answer, idempotent: true }));
  t.is(http.breakerState, 'closed');
});

test('after the cool-down the circuit half-opens; a successful trial closes it', async (t) => {
  let healthy = false;
  const server = await serve((_request, response) => reply(response, healthy ? 200 : 500, { ok: true }));
  t.teardown(server.close);
  const clock = fakeClock();
  const http = client(server.url, { breakerThreshold: 2, breakerCooldownMs: 10_000, clock });
  await t.throwsAsync(http.post('x', {}, { schema: answer, idempotent: true }));
  await t.throwsAsync(http.post('x', {}, { schema: answer, idempotent: true }));
  healthy = true;

  clock.time += 9_999;
  t.is(http.breakerState, 'open');
  t.is((await t.throwsAsync(http.post('x', {}, { schema: answer, idempotent: true }), { instanceOf: UpstreamUnavailableError }))?.reason, 'circuit-open');
  t.is(server.received.length, 2);

  clock.time += 1;
  t.is(http.breakerState, 'half-open');
  t.deepEqual(await http.post('x', {}, { schema: answer, idempotent: true }), { ok: true });
  t.is(http.breakerState, 'closed');
  t.is(server.received.length, 3);
});

test('a failed trial opens the circuit for another cool-down', async (t) => {
  const server = await serve((_request, response) => reply(response, 500, {}));
  t.teardown(server.close);
  const clock = fakeClock();
  const http = client(server.url, { breakerThreshold: 1, breakerCooldownMs: 10_000, clock });
  await t.throwsAsync(http.post('x', {}, { schema: answer, idempotent: true }));
  clock.time += 10_000;
  const trial = await t.throwsAsync(http.post('x', {}, { schema: answer, idempotent: true }), { instanceOf: UpstreamUnavailableError });
  t.is(trial?.reason, 'server-error');
  t.is(http.breakerState, 'open');
  clock.time += 5_000;
  t.is((await t.throwsAsync(http.post('x', {}, { schema: answer, idempotent: true }), { instanceOf: UpstreamUnavailableError }))?.reason, 'circuit-open');
  t.is(server.received.length, 2);
});

test('while half-open only one trial goes through at a time', async (t) => {
  let release: (() => void) | undefined;
  let failing = true;
  const server = await serve((_request, response) => {
    if (failing) return reply(response, 500, {});
    release = () => reply(response, 200, { ok: true });
  });
  t.teardown(server.close);
  const clock = fakeClock();
  const http = client(server.url, { breakerThreshold: 1, breakerCooldownMs: 1_000, clock });
  await t.throwsAsync(http.post('x', {}, { schema: answer, idempotent: true }));
  failing = false;
  clock.time += 1_000;

  const trial = http.post('x', {}, { schema: answer, idempotent: true });
  const second = await t.throwsAsync(http.post('x', {}, { schema: answer, idempotent: true }), { instanceOf: UpstreamUnavailableError });
  t.is(second?.reason, 'circuit-open');
  while (!release) await new Promise((resolve) => setImmediate(resolve));
  release();
  t.deepEqual(await trial, { ok: true });
  t.is(http.breakerState, 'closed');
  t.is(server.received.length, 2);
});

test('malformed answers are failures, are not retried, and count against the circuit', async (t) => {
  const bodies = ['<html>gateway</html>', JSON.stringify({ ok: 'yes' }), ''];
  const server = await serve((_request, response, index) => reply(response, 200, bodies[index] ?? '{}'));
  t.teardown(server.close);
  const http = client(server.url, { retries: 2, breakerThreshold: 3 });
  for (const expected of [/not JSON/, /ok/, /answer/]) {
    const error = await t.throwsAsync(http.post('x', {}, { schema: answer, idempotent: true }), { instanceOf: UpstreamUnavailableError });
    t.is(error?.reason, 'malformed');
    t.regex(error?.message ?? '', expected);
  }
  t.is(server.received.length, 3);
  t.is(http.breakerState, 'open');
});

test('a malformed answer does not put its content into the error', async (t) => {
  const server = await serve((_request, response) => reply(response, 200, { ok: '11010519491231002X' }));
  t.teardown(server.close);
  const error = await t.throwsAsync(client(server.url).post('x', {}, { schema: answer, idempotent: true }), { instanceOf: UpstreamUnavailableError });
  t.is(error?.reason, 'malformed');
  t.notRegex(error?.message ?? '', /11010519491231002X/);
});

test('without a schema any 2xx is accepted and its body ignored', async (t) => {
  const server = await serve((_request, response) => reply(response, 200, 'OK, queued'));
  t.teardown(server.close);
  t.is(await client(server.url).post('', { a: 1 }, { idempotent: false }), undefined);
  t.is(server.received[0]?.path, '/');
});

test('invalid options are refused at construction', (t) => {
  t.throws(() => new JsonHttpClient({ upstream: 'u', baseUrl: 'ftp://example.org' }), { instanceOf: TypeError, message: /baseUrl/ });
  t.throws(() => new JsonHttpClient({ upstream: 'u', baseUrl: 'http://example.org', timeoutMs: 0 }), { instanceOf: TypeError, message: /timeoutMs/ });
  t.throws(() => new JsonHttpClient({ upstream: 'u', baseUrl: 'http://example.org', retries: -1 }), { instanceOf: TypeError, message: /retries/ });
});
