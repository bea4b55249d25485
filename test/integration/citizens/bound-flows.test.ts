import test from 'ava';
import { HttpBrowser } from '../../helpers/http-browser.js';
import { startServer, type TestServer } from '../../helpers/server.js';

/**
 * A self-service flow belongs to whoever started it: a flow id found in a URL, a browser's
 * history or a shared link opens nothing in another browser or for another API caller.
 */

let server: TestServer;
test.before(async () => { server = await startServer(); });
test.after.always(async () => { await server?.close(); });

async function startInBrowser(path: '/register' | '/recovery') {
  const owner = new HttpBrowser(server.url);
  const page = await owner.get(path);
  const flowId = new URL(page.url).pathname.split('/')[2]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
  return { owner, flowId, csrf: csrf!, page };
}

for (const path of ['/register', '/recovery'] as const) {
  test(`${path}: another browser with the flow's URL gets no form, and its posts (with the owner's CSRF token too) change nothing`, async (t) => {
    const { owner, flowId, csrf, page } = await startInBrowser(path);
    t.is(page.response.status, 200);
    t.truthy(csrf);
    const stranger = new HttpBrowser(server.url);
    const seen = await stranger.get(`${path}/${flowId}`);
    t.is(seen.response.status, 400);
    t.false(seen.body.includes('name="csrf"'), 'no form, no CSRF token for the stranger');
    t.regex(seen.body, /已失效|过期/);
    // Even a CSRF token lifted from the owner's page is refused for the stranger.
    const forged = await stranger.post(`${path}/${flowId}/identity`, { csrf, name: '张三', id_number: '11010519491231002X' });
    t.is(forged.response.status, 403);
    // The owner's flow is untouched: still at its first step, and theirs to continue.
    const mine = await owner.get(`${path}/${flowId}`);
    t.is(mine.response.status, 200);
    t.regex(mine.body, /name="id_number"/);
  });
}

for (const path of ['/api/v1/registration', '/api/v1/recovery'] as const) {
  test(`${path}: every step needs the flow token given at the start; without it, or with another flow's, the flow does not exist`, async (t) => {
    const start = async () => {
      const response = await fetch(`${server.url}${path}`, { method: 'POST' });
      return await response.json() as { flow_id: string; flow_token: string };
    };
    const mine = await start();
    const other = await start();
    t.regex(mine.flow_token, /^[A-Za-z0-9_-]{32}$/);
    t.not(mine.flow_token, other.flow_token);
    const call = (method: string, step: string, token?: string, body?: unknown) => fetch(`${server.url}${path}/${mine.flow_id}${step}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { 'x-flow-token': token }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const identity = { name: '张三', id_number: '11010519491231002X' };
    for (const token of [undefined, '', other.flow_token, `${mine.flow_token}x`, mine.flow_id]) {
      const read = await call('GET', '', token);
      t.is(read.status, 400);
      t.is((await read.json() as { error: string }).error, 'flow_expired');
      const step = await call('POST', '/identity', token, identity);
      t.is((await step.json() as { error: string }).error, 'flow_expired');
    }
    const read = await call('GET', '', mine.flow_token);
    t.is(read.status, 200);
    const body = await read.json() as { state: string; flow_token?: string };
    t.is(body.state, 'identity', 'nothing a stranger sent moved the flow');
    t.is(body.flow_token, undefined, 'the token is handed out once, at the start');
  });
}

test('the flow token works only on its own channel: a browser flow is not continued through the API', async (t) => {
  const { flowId } = await startInBrowser('/register');
  const response = await fetch(`${server.url}/api/v1/registration/${flowId}`, { headers: { 'x-flow-token': flowId } });
  t.is((await response.json() as { error: string }).error, 'flow_expired');
});
