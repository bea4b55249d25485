import test from 'ava';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isolatedEnv } from '../helpers/env.js';
import { freePort, startServer } from '../helpers/server.js';

const SECRET = 'service-secret-for-key-tests-0123456789abc';
const clientsFile = join(mkdtempSync(join(tmpdir(), 'civic-clients-')), 'clients.json');
writeFileSync(clientsFile, JSON.stringify([{
  client_id: 'service', client_secret: SECRET, redirect_uris: ['https://service.gov.example/cb'],
  grant_types: ['client_credentials'], response_types: [],
}]));

async function kids(url: string): Promise<string[]> {
  const jwks = await (await fetch(`${url}/jwks`)).json() as { keys: Array<{ kid: string; d?: string }> };
  t_assertPublic(jwks.keys);
  return jwks.keys.map((key) => key.kid);
}

function t_assertPublic(keys: Array<{ d?: string }>) {
  if (keys.some((key) => key.d !== undefined)) throw new Error('private key material published');
}

async function jwtAccessToken(url: string): Promise<string> {
  const response = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`service:${SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: 'https://api.gov.example/', scope: 'services.read' }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

test('signing keys are stored, encrypted, and survive a restart', async (t) => {
  const stores = isolatedEnv();
  const port = await freePort();
  try {
    const first = await startServer({ CLIENTS_FILE: clientsFile }, { stores, port });
    const before = await kids(first.url);
    const stored = await first.deps.database.db.selectFrom('signing_keys').select('private_jwk').execute();
    await first.close();
    t.is(before.length, 2);
    t.true(stored.every((row) => row.private_jwk.startsWith('v1.') && !row.private_jwk.includes('"d"')));

    const second = await startServer({ CLIENTS_FILE: clientsFile }, { stores, port });
    t.deepEqual(await kids(second.url), before);
    await second.close();
  } finally {
    await stores.cleanup();
  }
});

test('rotation publishes the new key, signs with it, and keeps verifying tokens signed by the old one', async (t) => {
  const server = await startServer({ CLIENTS_FILE: clientsFile });
  try {
    const jwks = createRemoteJWKSet(new URL(`${server.url}/jwks`), { cacheMaxAge: 0, cooldownDuration: 0 });
    const oldToken = await jwtAccessToken(server.url);
    const oldKid = decodeProtectedHeader(oldToken).kid!;

    const [newEs256] = await server.deps.signingKeys.rotate({ activationDelaySeconds: 0, retainSeconds: 3600 });
    t.true(await server.deps.providers.refresh());

    const published = await kids(server.url);
    t.is(published.length, 4);
    t.true(published.includes(oldKid));
    t.is(published[0], newEs256);

    const newToken = await jwtAccessToken(server.url);
    t.is(decodeProtectedHeader(newToken).kid, newEs256);
    await t.notThrowsAsync(jwtVerify(oldToken, jwks, { issuer: server.url }));
    await t.notThrowsAsync(jwtVerify(newToken, jwks, { issuer: server.url }));
    t.false(await server.deps.providers.refresh(), 'nothing changed since the last refresh');
  } finally {
    await server.close();
  }
});

test('a key rotated with an activation delay is published before it signs', async (t) => {
  const server = await startServer({ CLIENTS_FILE: clientsFile });
  try {
    const current = decodeProtectedHeader(await jwtAccessToken(server.url)).kid;
    const [pending] = await server.deps.signingKeys.rotate({ activationDelaySeconds: 3600, retainSeconds: 3600 });
    await server.deps.providers.refresh();
    t.true((await kids(server.url)).includes(pending!));
    t.is(decodeProtectedHeader(await jwtAccessToken(server.url)).kid, current);
  } finally {
    await server.close();
  }
});
