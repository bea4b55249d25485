import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { decodeJwt } from 'jose';
import { PASSWORD, ZHANG_SAN, seedAccount } from '../../helpers/accounts.js';
import { errorCode } from '../../helpers/http-browser.js';
import { PORTAL, beginAuthorization, codeFrom, exchangeCode } from '../../helpers/oidc.js';
import { startServer, type TestServer } from '../../helpers/server.js';

const SECRET = 'records-client-secret-0123456789-abcdefgh';

/** A records office allowed the full ID number, next to the stock portal which is not. */
function clientsFile(): string {
  const stock = JSON.parse(readFileSync('config/clients.json', 'utf8')) as Array<Record<string, unknown>>;
  const portal = stock.find((client) => client.client_id === 'portal')!;
  const records = {
    ...portal,
    client_id: 'records',
    client_secret: SECRET,
    access_policy: { ...(portal.access_policy as object), release_id_number: true },
  };
  const file = join(mkdtempSync(join(tmpdir(), 'civic-clients-')), 'clients.json');
  writeFileSync(file, JSON.stringify([portal, records]));
  return file;
}

let server: TestServer;
test.before(async () => { server = await startServer({ CLIENTS_FILE: clientsFile() }); });
test.after.always(async () => { await server?.close(); });

async function userinfo(accessToken: string) {
  return await (await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${accessToken}` } })).json() as Record<string, unknown>;
}

test.serial('the full ID number is released only to a client whose policy allows it', async (t) => {
  await seedAccount(server.deps, ZHANG_SAN);
  const records = { client_id: 'records', redirect_uri: PORTAL.redirect_uri, secret: SECRET };
  const direct = await (async () => {
    const auth = await beginAuthorization(server.url, records, { scope: 'openid realname id_number' });
    const done = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: ZHANG_SAN.idNumber, password: PASSWORD });
    return exchangeCode(server.url, records, codeFrom(done.url, auth.state), auth.verifier);
  })();
  t.is((await userinfo(direct.body.access_token!)).id_number, ZHANG_SAN.idNumber);

  const auth = await beginAuthorization(server.url, PORTAL, { scope: 'openid realname id_number' });
  const done = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: ZHANG_SAN.idNumber, password: PASSWORD });
  const portal = await exchangeCode(server.url, PORTAL, codeFrom(done.url, auth.state), auth.verifier);
  const claims = await userinfo(portal.body.access_token!);
  t.is(claims.id_number_masked, '110105********002X');
  t.false('id_number' in claims);
});

test.serial('a password set by staff must be changed before the login completes', async (t) => {
  const person = { idNumber: '350203199207210138', name: '陈伟', phone: '13805920138' };
  await seedAccount(server.deps, person, { password: 'Counter-Initial-Pass-7', mustChange: true });
  const auth = await beginAuthorization(server.url, PORTAL);
  const afterPassword = await auth.browser.post(`/interaction/${auth.uid}/login/password`, { csrf: auth.csrf, identifier: person.idNumber, password: 'Counter-Initial-Pass-7' });
  t.regex(afterPassword.url, new RegExp(`/interaction/${auth.uid}$`));
  t.regex(afterPassword.body, /login\/password-change/);

  const weak = await auth.browser.post(`/interaction/${auth.uid}/login/password-change`, { csrf: auth.csrf, password: '12345678', confirm: '12345678' });
  t.is(errorCode(weak.body), 'weak_password');
  const mismatch = await auth.browser.post(`/interaction/${auth.uid}/login/password-change`, { csrf: auth.csrf, password: 'Gulangyu-Island-1992', confirm: 'Gulangyu-Island-1993' });
  t.is(errorCode(mismatch.body), 'invalid_input');

  const changed = await auth.browser.post(`/interaction/${auth.uid}/login/password-change`, { csrf: auth.csrf, password: 'Gulangyu-Island-1992', confirm: 'Gulangyu-Island-1992' });
  const tokens = await exchangeCode(server.url, PORTAL, codeFrom(changed.url, auth.state), auth.verifier);
  t.is(tokens.status, 200);
  t.deepEqual(decodeJwt(tokens.body.id_token!).amr, ['pwd']);

  const row = await server.deps.accounts.byIdNumber(person.idNumber);
  t.false(row?.password_must_change);
  const old = await beginAuthorization(server.url, PORTAL);
  const refused = await old.browser.post(`/interaction/${old.uid}/login/password`, { csrf: old.csrf, identifier: person.idNumber, password: 'Counter-Initial-Pass-7' });
  t.is(errorCode(refused.body), 'login_failed');
});

test.serial('the password-change step cannot be reached without passing the password first', async (t) => {
  const auth = await beginAuthorization(server.url, PORTAL);
  const skipped = await auth.browser.post(`/interaction/${auth.uid}/login/password-change`, { csrf: auth.csrf, password: 'Gulangyu-Island-1992', confirm: 'Gulangyu-Island-1992' });
  t.is(errorCode(skipped.body), 'wrong_step');
});
