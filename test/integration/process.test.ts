import test from 'ava';
import { isolatedEnv } from '../helpers/env.js';
import { startProcess, waitFor } from '../helpers/process.js';
import { freePort } from '../helpers/server.js';

test('production refuses embedded stores and missing secrets, naming each variable', async (t) => {
  const run = startProcess({ NODE_ENV: 'production', ISSUER: 'https://id.gov.example' });
  const code = await run.exited;
  t.is(code, 1);
  const { stderr } = run.output();
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'DATA_ENCRYPTION_KEYS', 'BLIND_INDEX_KEY', 'COOKIE_KEYS']) {
    t.regex(stderr, new RegExp(`^  - ${name}: `, 'm'), name);
  }
});

test('invalid configuration stops start-up with one line per problem', async (t) => {
  const run = startProcess({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' });
  t.is(await run.exited, 1);
  const lines = run.output().stderr.split('\n').filter((line) => line.startsWith('  - '));
  t.is(lines.length, 3);
  t.true(lines.some((line) => line.includes('PORT')));
  t.true(lines.some((line) => line.includes('LOG_LEVEL')));
  t.true(lines.some((line) => line.includes('DATABASE_URL')));
});

test('the server starts on the given stores, serves discovery, and stops cleanly on SIGTERM', async (t) => {
  const stores = isolatedEnv();
  const port = await freePort();
  const run = startProcess({ ...stores.env, PORT: String(port), LOG_LEVEL: 'info' });
  try {
    await waitFor(() => run.output().stdout.includes('civic-idp is running'), 60_000);
    const discovery = await (await fetch(`http://localhost:${port}/.well-known/openid-configuration`)).json() as { issuer: string };
    t.is(discovery.issuer, `http://localhost:${port}`);
    run.child.kill('SIGTERM');
    t.is(await run.exited, 0);
    t.regex(run.output().stdout, /"msg":"stopped"/);
  } finally {
    run.child.kill('SIGKILL');
    await stores.cleanup();
  }
});
