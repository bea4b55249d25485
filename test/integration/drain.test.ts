import { once } from 'node:events';
import http from 'node:http';
import test from 'ava';
import { isolatedEnv } from '../helpers/env.js';
import { startProcess, waitFor } from '../helpers/process.js';
import { freePort } from '../helpers/server.js';

/**
 * A rolling update sends SIGTERM: idle keep-alive connections close at once, the request
 * in flight finishes and its answer says Connection: close, and the process exits as soon
 * as it has, long before SHUTDOWN_TIMEOUT_MS.
 */

/** A GET answered in full, with the connection it came on (which the agent keeps open). */
function get(agent: http.Agent, port: number, path: string): Promise<{ response: http.IncomingMessage; socket: import('node:net').Socket }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (response) => {
      const { socket } = response;
      response.resume();
      response.once('end', () => resolve({ response, socket }));
    }).once('error', reject);
  });
}

test('SIGTERM: idle keep-alive connections close at once, the request in flight finishes with Connection: close, then the process exits', async (t) => {
  const stores = isolatedEnv();
  const port = await freePort();
  const run = startProcess({ ...stores.env, PORT: String(port), LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '120000' });
  try {
    await waitFor(() => run.output().stdout.includes('civic-idp is running'), 60_000);

    // A keep-alive connection that has answered a request and now sits idle.
    const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const first = await get(idleAgent, port, '/healthz');
    t.is(first.response.headers.connection, 'keep-alive');
    const idleClosed = once(first.socket, 'close');

    // A request in flight: its headers are in (the server said 100 Continue), its body not yet.
    const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'not-a-token', client_id: 'app' }).toString();
    const inFlight = http.request({
      host: '127.0.0.1', port, method: 'POST', path: '/token', agent: new http.Agent({ keepAlive: true }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
    });
    const answered = once(inFlight, 'response') as Promise<[http.IncomingMessage]>;
    await once(inFlight, 'continue');
    inFlight.write(body.slice(0, 10));

    run.child.kill('SIGTERM');
    await idleClosed;
    t.is(run.exitCode(), undefined, 'still running: a request is in flight');

    inFlight.end(body.slice(10));
    const [response] = await answered;
    response.resume();
    await once(response, 'end');
    t.is(response.statusCode, 400, 'the request in flight was answered in full');
    t.is(response.headers.connection, 'close');

    // Bounded far below SHUTDOWN_TIMEOUT_MS: the process did not wait it out.
    await waitFor(() => run.exitCode() !== undefined, 30_000);
    t.is(run.exitCode(), 0);
    t.notRegex(run.output().stdout, /shutdown timed out/);
    t.regex(run.output().stdout, /"msg":"stopped"/);
  } finally {
    run.child.kill('SIGKILL');
    await stores.cleanup();
  }
});
