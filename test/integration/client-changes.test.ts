import test from 'ava';
import { PASSWORD, ZHANG_SAN, seedAccount } from '../helpers/accounts.js';
import { sharedStoresEnv, type IsolatedEnv } from '../helpers/env.js';
import { HttpBrowser } from '../helpers/http-browser.js';
import { authenticates, authorize, redirectParams, registerClient, withPassword } from '../helpers/policy.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Two instances on one PostgreSQL and one Redis, as behind a load balancer: a client
 * changed through one (or the CLI) is changed on the other from its very next request,
 * although each keeps client metadata in memory.
 */
let stores: IsolatedEnv;
let first: TestServer;
let second: TestServer;

test.before(async () => {
  stores = sharedStoresEnv();
  first = await startServer({}, { stores });
  second = await startServer({}, { stores });
  await seedAccount(first.deps, ZHANG_SAN);
});
test.after.always(async () => {
  await second?.close();
  await first?.close();
  await stores?.cleanup();
});

const serial = test.serial;

serial('a secret rotated on one instance fails on the other at once, and the new one works there', async (t) => {
  const oldSecret = 'first-secret-of-the-cc-web-client-0123456789';
  const newSecret = 'second-secret-of-the-cc-web-client-0123456789';
  await registerClient(first, 'cc-web', {}, { client_secret: oldSecret, token_endpoint_auth_method: 'client_secret_basic' });
  // Both instances now hold the client in memory.
  t.true(await authenticates(first, 'cc-web', oldSecret));
  t.true(await authenticates(second, 'cc-web', oldSecret));

  t.true(await first.deps.clients.replaceSecretDigest('cc-web', first.deps.clients.secretDigest(newSecret)));
  t.false(await authenticates(second, 'cc-web', oldSecret), 'the old secret is refused by the other instance');
  t.true(await authenticates(second, 'cc-web', newSecret));
  t.false(await authenticates(first, 'cc-web', oldSecret));
});

serial('an access policy raised on one instance refuses the next authorization on the other', async (t) => {
  const client = await registerClient(first, 'cc-policy');
  const browser = new HttpBrowser(second.url);
  const signedIn = await withPassword(await authorize(second, browser, client), ZHANG_SAN.idNumber, PASSWORD);
  t.truthy(redirectParams(signedIn, client)?.get('code'), 'level 2 is enough at first');

  await first.deps.clientPolicies.update('cc-policy', { min_assurance_level: 3 }, { kind: 'staff', id: 'admin-1' });
  const refused = await authorize(second, browser, client, { prompt: 'none' });
  t.is(redirectParams(refused, client)?.get('error'), 'access_denied');

  await first.deps.clientPolicies.update('cc-policy', { min_assurance_level: 2 }, { kind: 'staff', id: 'admin-1' });
  const again = await authorize(second, browser, client, { prompt: 'none' });
  t.truthy(redirectParams(again, client)?.get('code'));
});
