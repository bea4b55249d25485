import test from 'ava';
import type { Enterprise } from '../../../src/ports/registries/index.js';
import { makePerson } from '../../helpers/account-centre.js';
import { citizen, makeUscc, type Person } from '../../helpers/delegation.js';
import { bearerApi, registerAnswering } from '../../helpers/enterprises.js';
import { startServer, type TestServer } from '../../helpers/server.js';

/**
 * Applying for someone else's enterprise asks whether its representative (named by the
 * public register) holds an account here, and either answer tells it. Lookups are limited
 * to ten a day per applicant, each taken before the lookup, and every refusal is audited:
 * nobody learns at will who has an account. The same holds for the persons a grant names
 * (test/integration/delegation/grantee-lookups.test.ts).
 */

let server: TestServer;
/** What the business register answers, by code, besides its fixtures. */
const register = new Map<string, Enterprise>();

test.before(async () => {
  server = await startServer();
  registerAnswering(server, register);
});
test.after.always(async () => { await server?.close(); });

/** An enterprise on the register with `representative` named as its legal representative. */
function onRegister(representative: Person): { uscc: string; name: string } {
  const uscc = makeUscc();
  const name = `福州代办示例有限公司${uscc.slice(-4)}`;
  register.set(uscc, { uscc, name, type: 'company', status: 'active', legalRepresentative: representative });
  return { uscc, name };
}

async function applicant() {
  const who = await citizen(server);
  return { ...who, api: bearerApi(server, who.token) };
}

const deniedStarts = (accountId: string) => server.deps.database.db.selectFrom('audit_log').select(['details'])
  .where('action', '=', 'enterprise.application.start').where('result', '=', 'denied').where('actor_id', '=', accountId).execute();

test('fifty applications at once for enterprises whose representatives hold no account: ten answers, forty refusals, fifty audit records', async (t) => {
  const asker = await applicant();
  const answers = await Promise.all(Array.from({ length: 50 }, () => asker.api('POST', '/enterprises', { ...onRegister(makePerson('王五')), on_behalf: true })));
  const codes = answers.map((answer) => answer.body.error as string);
  t.is(codes.filter((code) => code === 'enterprise_representative_not_registered').length, 10, JSON.stringify(codes));
  t.is(codes.filter((code) => code === 'attempts_exceeded').length, 40);
  t.true(answers.filter((answer) => answer.body.error === 'attempts_exceeded').every((answer) => answer.status === 429 && Boolean(answer.body.message_zh)));
  const reasons = (await deniedStarts(asker.accountId)).map((row) => (row.details as { reason: string }).reason);
  t.is(reasons.filter((reason) => reason === 'enterprise_representative_not_registered').length, 10);
  t.is(reasons.filter((reason) => reason === 'attempts_exceeded').length, 40);

  // Another applicant has allowances of their own.
  const other = await applicant();
  t.is((await other.api('POST', '/enterprises', { ...onRegister(makePerson('王五')), on_behalf: true })).body.error, 'enterprise_representative_not_registered');
});

test('an answer "yes" counts as much as a "no": after nine of one and one of the other, the eleventh lookup of the day is refused before it is made', async (t) => {
  const asker = await applicant();
  for (let i = 0; i < 9; i += 1) {
    t.is((await asker.api('POST', '/enterprises', { ...onRegister(makePerson('赵六')), on_behalf: true })).body.error, 'enterprise_representative_not_registered');
  }
  const representative = await citizen(server);
  const made = await asker.api('POST', '/enterprises', { ...onRegister(representative), on_behalf: true });
  t.is(made.status, 201, JSON.stringify(made.body));
  const refused = await asker.api('POST', '/enterprises', { ...onRegister(representative), on_behalf: true });
  t.is(refused.body.error, 'attempts_exceeded');
});
