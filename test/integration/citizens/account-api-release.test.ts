import { readFileSync } from 'node:fs';
import test from 'ava';
import { decodeJwt } from 'jose';
import { PASSWORD, seedAccount } from '../../helpers/accounts.js';
import { makePerson } from '../../helpers/account-centre.js';
import { jsonApi } from '../../helpers/json-api.js';
import { APP, passwordLogin } from '../../helpers/oidc.js';
import { writeClientsFile } from '../../helpers/relying-party.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { MINIPROGRAM } from '../../helpers/wechat.js';

/**
 * The account API releases what the calling client's access policy allows, as its claims
 * do: the mini-program (release_id_number and release_name false) reads the ID number and
 * the name masked, the app (both true) whole; a client with pairwise subjects never reads the account id.
 */

/** The shipped clients, and the mini-program again with pairwise subjects. */
function clientsFile(): string {
  const stock = JSON.parse(readFileSync('config/clients.json', 'utf8')) as Array<Record<string, unknown>>;
  const miniprogram = stock.find((client) => client.client_id === MINIPROGRAM.client_id)!;
  return writeClientsFile([...stock, { ...miniprogram, client_id: 'sector-miniprogram', subject_sector: 'gov.example' }]);
}
const SECTOR_MINIPROGRAM = { ...MINIPROGRAM, client_id: 'sector-miniprogram' };

let server: TestServer;
test.before(async () => { server = await startServer({ CLIENTS_FILE: clientsFile() }); });
test.after.always(async () => { await server?.close(); });

const masked = (phone: string) => `${phone.slice(0, 3)}****${phone.slice(-4)}`;

/** The person's account as `client` reads it: its ID token's sub, the overview and the export. */
async function readBy(client: { client_id: string; redirect_uri: string }, person: ReturnType<typeof makePerson>) {
  const login = await passwordLogin(server.url, client, person.phone, PASSWORD, { scope: 'openid account', entity_type: 'natural' });
  if (login.tokens.status !== 200) throw new Error(JSON.stringify(login.tokens.body));
  const api = jsonApi(server, '/api/v1/account');
  const headers = { authorization: `Bearer ${login.tokens.body.access_token!}` };
  const [overview, exported] = await Promise.all([api('GET', '/', undefined, headers), api('GET', '/export', undefined, headers)]);
  if (overview.status !== 200 || exported.status !== 200) throw new Error(JSON.stringify([overview.body, exported.body]));
  return { sub: String(decodeJwt(login.tokens.body.id_token!).sub), overview: overview.body, exported: exported.body };
}

test('the mini-program\'s token exports the ID number and the name masked (its policy withholds them) and the phone whole (its policy releases it)', async (t) => {
  const person = makePerson('欧阳娜娜');
  const accountId = await seedAccount(server.deps, person);
  const { sub, overview, exported } = await readBy(MINIPROGRAM, person);
  t.false(JSON.stringify(exported).includes(person.idNumber));
  t.false(JSON.stringify(exported).includes(person.name));
  t.false('id_number' in exported.profile);
  t.false('name' in exported.profile);
  t.is(exported.profile.name_masked, '***娜');
  t.is(exported.profile.id_number_masked, `${person.idNumber.slice(0, 6)}********${person.idNumber.slice(-4)}`);
  t.is(exported.profile.phone, person.phone);
  t.false('phone_masked' in exported.profile);
  // Its sub is the account id (public subjects): nothing it does not know already.
  t.is(sub, accountId);
  t.is(exported.profile.id, accountId);
  t.is(overview.id, accountId);
  t.false(JSON.stringify(overview).includes(person.idNumber));
});

test('the app\'s token exports the ID number and the name whole, as its policy allows', async (t) => {
  const person = makePerson('欧阳娜娜');
  const accountId = await seedAccount(server.deps, person);
  const { exported } = await readBy(APP, person);
  t.like(exported.profile, { id: accountId, id_number: person.idNumber, phone: person.phone, name: person.name });
  t.false('id_number_masked' in exported.profile);
  t.false('name_masked' in exported.profile);
});

test('a client with pairwise subjects never reads the account id, in the overview or the export', async (t) => {
  const person = makePerson();
  const accountId = await seedAccount(server.deps, person);
  const { sub, overview, exported } = await readBy(SECTOR_MINIPROGRAM, person);
  t.not(sub, accountId);
  t.false('id' in overview);
  t.false('id' in exported.profile);
  t.false(JSON.stringify(overview).includes(accountId));
  t.false(JSON.stringify(exported).includes(accountId));
  t.is(overview.id_number_masked, `${person.idNumber.slice(0, 6)}********${person.idNumber.slice(-4)}`);
  t.is(overview.phone_masked, masked(person.phone));
});

test('a client whose policy releases neither reads both masked in the export', async (t) => {
  const person = makePerson();
  await seedAccount(server.deps, person);
  await server.deps.clientPolicies.update(SECTOR_MINIPROGRAM.client_id, { entity_types: ['natural'] }, { kind: 'system' });
  const { exported } = await readBy(SECTOR_MINIPROGRAM, person);
  t.false(JSON.stringify(exported).includes(person.phone));
  t.is(exported.profile.phone_masked, masked(person.phone));
  t.false('phone' in exported.profile);
  t.false('id_number' in exported.profile);
});
