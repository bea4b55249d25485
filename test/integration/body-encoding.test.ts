import { gzipSync } from 'node:zlib';
import test from 'ava';
import { startServer, type TestServer } from '../helpers/server.js';

/** A body whose Content-Encoding lies is the caller's mistake: 400 body_encoding_invalid, never a 500. */

let server: TestServer;
test.before(async () => { server = await startServer(); });
test.after.always(async () => { await server?.close(); });

const post = (path: string, type: string, encoding: string, body: string | Buffer) => fetch(`${server.url}${path}`, {
  method: 'POST', headers: { 'content-type': type, 'content-encoding': encoding, accept: type === 'application/json' ? 'application/json' : 'text/html' }, body,
});

for (const encoding of ['gzip', 'deflate', 'br']) {
  test(`a JSON route answers a plain body labelled ${encoding} with 400 body_encoding_invalid`, async (t) => {
    const response = await post('/api/v1/registration/some-flow/identity', 'application/json', encoding, '{"name":"张三"}');
    t.is(response.status, 400);
    t.like(await response.json(), { error: 'body_encoding_invalid', message_en: 'The request body is not encoded as its Content-Encoding says.' });
  });

  test(`a form route answers a plain body labelled ${encoding} with the error page, 400 body_encoding_invalid`, async (t) => {
    const response = await post('/admin/login', 'application/x-www-form-urlencoded', encoding, 'username=a&password=b');
    t.is(response.status, 400);
    t.regex(await response.text(), /data-error-code="body_encoding_invalid"/);
  });
}

test('a body that is what its Content-Encoding says is read as usual', async (t) => {
  const response = await post('/api/v1/registration/some-flow/identity', 'application/json', 'gzip', gzipSync('{"name":"张三"}'));
  t.not((await response.json() as { error?: string }).error, 'body_encoding_invalid');
  t.true(response.status < 500);
});
