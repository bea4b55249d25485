import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const key = () => randomBytes(32).toString('base64url');

function env(t: ExecutionContext, extra: Record<string, string>, production = false): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'civic-idp-keys-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const base = { KEYS_DIR: dir, ...extra };
  if (!production) return base;
  return {
    NODE_ENV: 'production', ISSUER: 'https://id.example.gov.cn', CLIENTS_FILE: '/etc/civic-idp/clients.json',
    DATABASE_URL: 'postgres://idp@db.internal:5432/idp', REDIS_URL: 'rediss://cache.internal:6380',
    DATA_ENCRYPTION_KEYS: `k1:${key()}`, BLIND_INDEX_KEY: key(), COOKIE_KEYS: key(),
    REGISTRIES: 'http', REGISTRY_BASE_URL: 'https://registries.example.gov.cn', SMS_GATEWAY: 'http', SMS_GATEWAY_URL: 'https://sms.example.gov.cn/send',
    ...base,
  };
}

function problems(t: ExecutionContext, source: Record<string, string>): string[] {
  return t.throws(() => loadConfig(source), { instanceOf: ConfigError })?.problems ?? [];
}

test('development and test pick the WeChat simulator explicitly, from config/<env>.json', (t) => {
  t.deepEqual(loadConfig(env(t, {})).wechat, { kind: 'simulator', fixturesFile: resolve('config/fixtures/wechat.example.json') });
  t.deepEqual(loadConfig(env(t, { NODE_ENV: 'test' })).wechat.kind, 'simulator');
});

test('production has WeChat login off unless configured, refuses the simulator, and needs the app credentials for http', (t) => {
  t.deepEqual(loadConfig(env(t, {}, true)).wechat, { kind: 'off' });
  t.deepEqual(problems(t, env(t, { WECHAT: 'simulator', WECHAT_FIXTURES: './config/fixtures/wechat.example.json' }, true)),
    ['WECHAT: the simulator is refused in production (use http, or off)']);
  t.deepEqual(problems(t, env(t, { WECHAT: 'http' }, true)).map((p) => p.split(':')[0]), ['WECHAT_APP_ID', 'WECHAT_APP_SECRET']);
  const config = loadConfig(env(t, { WECHAT: 'http', WECHAT_APP_ID: 'wx0123456789abcdef', WECHAT_APP_SECRET: 'a-secret-of-sixteen-or-more' }, true));
  t.deepEqual(config.wechat, { kind: 'http', appId: 'wx0123456789abcdef', appSecret: 'a-secret-of-sixteen-or-more', baseUrl: 'https://api.weixin.qq.com', timeoutMs: 3000 });
});

test('WECHAT=simulator needs its fixtures, and a malformed app id is refused', (t) => {
  t.deepEqual(problems(t, env(t, { WECHAT: 'simulator', WECHAT_FIXTURES: '' })).map((p) => p.split(':')[0]), ['WECHAT_FIXTURES']);
  t.true(problems(t, env(t, { WECHAT: 'http', WECHAT_APP_ID: 'not-an-app-id', WECHAT_APP_SECRET: 'a-secret-of-sixteen-or-more' })).some((p) => p.startsWith('WECHAT_APP_ID')));
});
