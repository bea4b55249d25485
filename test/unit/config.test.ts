import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { ConfigError, loadConfig } from '../../src/config/load.js';

/** Each test has its own KEYS_DIR, so generated development secrets never touch the repository. */
function keysDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'civic-idp-keys-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const key32 = () => randomBytes(32).toString('base64url');

/** A complete, valid production environment: each negative test removes or breaks one thing. */
function productionEnv(dir: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    KEYS_DIR: dir,
    ISSUER: 'https://id.example.gov.cn',
    DATABASE_URL: 'postgres://idp@db.internal:5432/idp',
    REDIS_URL: 'rediss://cache.internal:6380',
    DATA_ENCRYPTION_KEYS: `k2:${key32()},k1:${randomBytes(32).toString('hex')}`,
    BLIND_INDEX_KEY: key32(),
    COOKIE_KEYS: `${key32()},${key32()}`,
    REGISTRIES: 'http',
    REGISTRY_BASE_URL: 'https://registries.example.gov.cn',
    SMS_GATEWAY: 'http',
    SMS_GATEWAY_URL: 'https://sms.example.gov.cn/send',
    CLIENTS_FILE: '/etc/civic-idp/clients.json',
  };
}

function problemsOf(t: ExecutionContext, env: Record<string, string>): string[] {
  const error = t.throws(() => loadConfig(env), { instanceOf: ConfigError });
  // One line per problem after the heading, so an operator can fix them all in one go.
  t.is(error?.message.split('\n').length, (error?.problems.length ?? 0) + 1);
  return error?.problems ?? [];
}

/** The variable each problem line starts with. */
const names = (problems: string[]) => problems.map((problem) => /^[A-Z_]+/.exec(problem)?.[0] ?? problem);

test('defaults: development on embedded stores, issuer on localhost, generated secrets', (t) => {
  const dir = keysDir(t);
  const config = loadConfig({ KEYS_DIR: dir });
  t.is(config.env, 'development');
  t.is(config.port, 3000);
  t.is(config.issuer, 'http://localhost:3000');
  t.is(config.workers, 1);
  t.false(config.trustProxy);
  t.is(config.logLevel, 'info');
  t.deepEqual(config.database, { kind: 'pglite', dataDir: resolve('data'), schema: 'public' });
  t.deepEqual(config.cache, { kind: 'memory', prefix: 'civic:' });
  t.is(config.keysDir, dir);
  t.is(config.shutdownTimeoutMs, 10_000);
  t.true(config.secrets.generated);
  t.is(config.secrets.dataKeys.length, 1);
  t.is(config.secrets.dataKeys[0]?.key.length, 32);
  t.is(config.secrets.blindIndexKey.length, 32);
  t.true(config.secrets.cookieKeys.every((cookieKey) => cookieKey.length >= 32));
});

test('generated development secrets are stored in KEYS_DIR and reused', (t) => {
  const dir = keysDir(t);
  const first = loadConfig({ KEYS_DIR: dir });
  const file = join(dir, 'dev-secrets.json');
  t.true(existsSync(file));
  t.is(statSync(file).mode & 0o777, 0o600);
  t.true(readFileSync(file, 'utf8').includes(first.secrets.blindIndexKey.toString('base64url')));
  const second = loadConfig({ KEYS_DIR: dir });
  t.deepEqual(second.secrets, first.secrets);
});

test('ISSUER defaults to http://localhost:PORT', (t) => {
  t.is(loadConfig({ KEYS_DIR: keysDir(t), PORT: '8443' }).issuer, 'http://localhost:8443');
  t.is(loadConfig({ KEYS_DIR: keysDir(t), PORT: '8443', ISSUER: 'https://id.example.gov.cn' }).issuer, 'https://id.example.gov.cn');
});

test('real stores are chosen when their URLs are set', (t) => {
  const config = loadConfig({
    KEYS_DIR: keysDir(t),
    DATABASE_URL: 'postgresql://idp@db/idp',
    DATABASE_SCHEMA: 'tenant_a',
    DATABASE_POOL_SIZE: '25',
    REDIS_URL: 'redis://cache:6379/2',
    REDIS_PREFIX: 'idp:a:',
  });
  t.deepEqual(config.database, { kind: 'postgres', url: 'postgresql://idp@db/idp', schema: 'tenant_a', poolSize: 25, timeouts: { connectMs: 3_000, statementMs: 10_000 } });
  t.deepEqual(config.cache, { kind: 'redis', url: 'redis://cache:6379/2', prefix: 'idp:a:', timeouts: { connectMs: 3_000, commandMs: 2_000 } });
});

test('invalid values give a ConfigError with one line per problem, each naming its variable', (t) => {
  const problems = problemsOf(t, {
    KEYS_DIR: keysDir(t),
    PORT: 'eighty',
    WORKERS: '0',
    LOG_LEVEL: 'loud',
    TRUST_PROXY: 'maybe',
    DATABASE_URL: 'mysql://db/idp',
    DATABASE_SCHEMA: 'Bad-Schema',
    REDIS_URL: 'http://cache:6379',
    REDIS_PREFIX: 'has space',
  });
  t.deepEqual(names(problems).sort(), [
    'DATABASE_SCHEMA', 'DATABASE_URL', 'LOG_LEVEL', 'PORT', 'REDIS_PREFIX', 'REDIS_URL', 'TRUST_PROXY', 'WORKERS',
  ]);
  t.true(problems.some((problem) => /^DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/.test(problem)));
});

test('an ISSUER with a query, a fragment or another scheme is refused', (t) => {
  for (const issuer of ['https://id.example.gov.cn/?tenant=a', 'https://id.example.gov.cn/#top', 'ftp://id.example.gov.cn', 'not a url']) {
    t.deepEqual(names(problemsOf(t, { KEYS_DIR: keysDir(t), ISSUER: issuer })), ['ISSUER'], issuer);
  }
});

test('a complete production environment loads, with no generated secret', (t) => {
  const env = productionEnv(keysDir(t));
  const config = loadConfig(env);
  t.is(config.env, 'production');
  t.is(config.issuer, 'https://id.example.gov.cn');
  t.is(config.database.kind, 'postgres');
  t.is(config.cache.kind, 'redis');
  t.false(config.secrets.generated);
  t.deepEqual(config.secrets.dataKeys.map((k) => k.id), ['k2', 'k1'], 'the first key encrypts');
  t.false(existsSync(join(env.KEYS_DIR!, 'dev-secrets.json')), 'production never writes development secrets');
});

test('production without stores and secrets names each missing variable', (t) => {
  const problems = problemsOf(t, { NODE_ENV: 'production', KEYS_DIR: keysDir(t), ISSUER: 'https://id.example.gov.cn' });
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'DATA_ENCRYPTION_KEYS', 'BLIND_INDEX_KEY', 'COOKIE_KEYS']) {
    t.true(names(problems).includes(name), `${name} is not reported: ${problems.join(' | ')}`);
  }
});

test('production refuses each missing store or secret on its own', (t) => {
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'DATA_ENCRYPTION_KEYS', 'BLIND_INDEX_KEY', 'COOKIE_KEYS']) {
    const env = productionEnv(keysDir(t));
    delete env[name];
    t.deepEqual(names(problemsOf(t, env)), [name]);
  }
});

test('production does not fall back to generated development secrets', (t) => {
  const dir = keysDir(t);
  loadConfig({ KEYS_DIR: dir });
  t.true(existsSync(join(dir, 'dev-secrets.json')));
  const env = productionEnv(dir);
  delete env.DATA_ENCRYPTION_KEYS;
  delete env.BLIND_INDEX_KEY;
  delete env.COOKIE_KEYS;
  t.deepEqual(names(problemsOf(t, env)).sort(), ['BLIND_INDEX_KEY', 'COOKIE_KEYS', 'DATA_ENCRYPTION_KEYS']);
});

test('production refuses the bundled example clients file', (t) => {
  const { CLIENTS_FILE: _file, ...env } = productionEnv(keysDir(t));
  t.deepEqual(names(problemsOf(t, env)), ['CLIENTS_FILE']);
});

test('production refuses an http ISSUER, including the default one', (t) => {
  const env = productionEnv(keysDir(t));
  t.deepEqual(names(problemsOf(t, { ...env, ISSUER: 'http://id.example.gov.cn' })), ['ISSUER']);
  const { ISSUER: _issuer, ...withoutIssuer } = env;
  t.deepEqual(names(problemsOf(t, withoutIssuer)), ['ISSUER']);
});

test('more than one worker needs both real stores', (t) => {
  const dir = keysDir(t);
  t.deepEqual(names(problemsOf(t, { KEYS_DIR: dir, WORKERS: '4' })), ['WORKERS']);
  t.deepEqual(names(problemsOf(t, { KEYS_DIR: dir, WORKERS: '4', DATABASE_URL: 'postgres://db/idp' })), ['WORKERS']);
  t.deepEqual(names(problemsOf(t, { KEYS_DIR: dir, WORKERS: '4', REDIS_URL: 'redis://cache' })), ['WORKERS']);
  const config = loadConfig({ KEYS_DIR: dir, WORKERS: '4', DATABASE_URL: 'postgres://db/idp', REDIS_URL: 'redis://cache' });
  t.is(config.workers, 4);
});

test('malformed DATA_ENCRYPTION_KEYS are refused', (t) => {
  const good = key32();
  const malformed = [
    good, // no id
    'k1:',
    `k1:${randomBytes(16).toString('base64url')}`, // 16 bytes
    `k1:${randomBytes(31).toString('hex')}`, // 62 hex digits
    `k1:${good},k1:${key32()}`, // repeated id
    `bad id!:${good}`,
    `${'x'.repeat(33)}:${good}`,
    ' , ',
  ];
  for (const value of malformed) {
    const env = { ...productionEnv(keysDir(t)), DATA_ENCRYPTION_KEYS: value };
    const problems = problemsOf(t, env);
    t.is(problems.length, 1, value);
    t.regex(problems[0] ?? '', /DATA_ENCRYPTION_KEYS/, value);
    t.false(problems.join('\n').includes(good), 'a problem never echoes key material');
  }
});

test('malformed BLIND_INDEX_KEY and COOKIE_KEYS are refused', (t) => {
  const env = productionEnv(keysDir(t));
  t.regex(problemsOf(t, { ...env, BLIND_INDEX_KEY: randomBytes(20).toString('base64url') })[0] ?? '', /BLIND_INDEX_KEY/);
  t.regex(problemsOf(t, { ...env, COOKIE_KEYS: 'short' })[0] ?? '', /COOKIE_KEYS/);
  t.regex(problemsOf(t, { ...env, COOKIE_KEYS: `${key32()},short` })[0] ?? '', /COOKIE_KEYS/);
});

test('in development, setting some secrets requires all of them', (t) => {
  const problems = problemsOf(t, { KEYS_DIR: keysDir(t), DATA_ENCRYPTION_KEYS: `k1:${key32()}` });
  t.deepEqual(names(problems).sort(), ['BLIND_INDEX_KEY', 'COOKIE_KEYS']);
});

test('loadConfig does not modify the environment it is given', (t) => {
  const env = productionEnv(keysDir(t));
  const copy = { ...env };
  loadConfig(env);
  t.deepEqual(env, copy);
});

test('problems from every check are reported together', (t) => {
  const { REDIS_URL: _redis, ...env } = productionEnv(keysDir(t));
  const problems = problemsOf(t, { ...env, ISSUER: 'http://id.example.gov.cn', WORKERS: '2', DATA_ENCRYPTION_KEYS: 'k1:short' });
  t.deepEqual(names(problems).sort(), ['DATA_ENCRYPTION_KEYS', 'ISSUER', 'REDIS_URL', 'WORKERS']);
});

test('TEMPLATE_RELOAD: on in development, off elsewhere, and either when set', (t) => {
  const dir = keysDir(t);
  t.true(loadConfig({ KEYS_DIR: dir }).templateReload);
  t.false(loadConfig({ KEYS_DIR: dir, TEMPLATE_RELOAD: 'off' }).templateReload);
  t.false(loadConfig({ KEYS_DIR: dir, NODE_ENV: 'test' }).templateReload);
  t.true(loadConfig({ KEYS_DIR: dir, NODE_ENV: 'test', TEMPLATE_RELOAD: 'on' }).templateReload);
  t.false(loadConfig(productionEnv(keysDir(t))).templateReload);
  t.throws(() => loadConfig({ KEYS_DIR: dir, TEMPLATE_RELOAD: 'yes' }), { instanceOf: ConfigError, message: /TEMPLATE_RELOAD/ });
});
