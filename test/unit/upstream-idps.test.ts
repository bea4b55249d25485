import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { UpstreamIdpsFileError, readUpstreamIdps } from '../../src/ports/upstream-idp/config.js';

function file(t: ExecutionContext, content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'civic-idp-upstreams-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'upstream-idps.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const valid = {
  id: 'national',
  display_name: { 'zh-CN': '国家政务服务平台', en: 'National platform' },
  issuer: 'https://idp.national.gov.example',
  client_id: 'province-b',
  client_secret: 'a-secret-of-sixteen-or-more',
  acr_map: { 'urn:national:loa:3': 3 },
};

test('no file configured means no upstreams', async (t) => {
  t.deepEqual(await readUpstreamIdps(undefined, { production: true }), []);
});

test('the shipped example is valid, with defaults filled in', async (t) => {
  const upstreams = await readUpstreamIdps('config/upstream-idps.example.json', { production: true });
  t.is(upstreams.length, 2);
  t.deepEqual(upstreams[1]!.claims, { id_number: 'id_number', name: 'name' });
  t.is(upstreams[1]!.token_endpoint_auth_method, 'client_secret_basic');
});

test('every problem is named at once', async (t) => {
  const path = file(t, [
    { ...valid, id: 'Bad Id', scopes: ['profile'], acr_map: {} },
    { ...valid, acr_map: { x: 1 } },
    { ...valid, unknown_field: true },
  ]);
  const error = await t.throwsAsync(readUpstreamIdps(path, { production: false }), { instanceOf: UpstreamIdpsFileError });
  for (const fragment of ['[0.id]', '[0.scopes]', '[0.acr_map]', '[1.acr_map.x]', '[2]: Unrecognized key']) {
    t.true(error!.message.includes(fragment), `mentions ${fragment}: ${error!.message}`);
  }
});

test('an id or an issuer appears once', async (t) => {
  const path = file(t, [valid, { ...valid, issuer: 'https://other.gov.example' }, { ...valid, id: 'other' }]);
  const error = await t.throwsAsync(readUpstreamIdps(path, { production: false }), { instanceOf: UpstreamIdpsFileError });
  t.regex(error!.message, /\[1\.id\]: duplicate id "national"/);
  t.regex(error!.message, /\[2\.issuer\]: duplicate issuer/);
});

test('production refuses an http issuer; development allows it', async (t) => {
  const path = file(t, [{ ...valid, issuer: 'http://127.0.0.1:4000' }]);
  await t.throwsAsync(readUpstreamIdps(path, { production: true }), { instanceOf: UpstreamIdpsFileError, message: /https:\/\/ URL in production/ });
  t.is((await readUpstreamIdps(path, { production: false }))[0]!.issuer, 'http://127.0.0.1:4000');
});

test('a file that is not JSON is refused with its path', async (t) => {
  const path = file(t, '{not json');
  await t.throwsAsync(readUpstreamIdps(path, { production: false }), { instanceOf: UpstreamIdpsFileError, message: new RegExp(path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) });
});
