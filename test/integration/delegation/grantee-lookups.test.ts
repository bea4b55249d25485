import test from 'ava';
import { makePerson } from '../../helpers/account-centre.js';
import { citizen, days, delegationApi, portal, seedEnterprise } from '../../helpers/delegation.js';
import { startServer, type TestServer } from '../../helpers/server.js';

/**
 * A grant names its grantee by phone, or by ID number and name, and the answer
 * `delegation_grantee_not_found` tells whether that person holds an account here. It is
 * given only to someone with authority to grant in the enterprise (checked first), ten a
 * day each, and every refusal is audited: the form is no directory of who is registered.
 */

let server: TestServer;
test.before(async () => { server = await startServer(); });
test.after.always(async () => { await server?.close(); });

test('without authority in the enterprise, a registered and an unknown grantee get the same refusal, and nothing is looked up', async (t) => {
  const stranger = await citizen(server);
  const rep = await citizen(server);
  const enterprise = await seedEnterprise(server, rep);
  const registered = await citizen(server);
  const askAbout = (grantee: Record<string, string>) => delegationApi(server, stranger.token, 'POST', '', {
    enterprise_id: enterprise.id, grantee, scope: portal('tax.declare'), valid_until: days(30), may_redelegate: false,
  });
  const answers = await Promise.all([
    askAbout({ phone: registered.phone }),
    askAbout({ phone: makePerson().phone }),
    askAbout({ id_number: registered.idNumber, name: registered.name }),
    askAbout({ id_number: makePerson().idNumber, name: '王五' }),
  ]);
  t.deepEqual(answers.map((answer) => [answer.status, answer.body.error]), Array.from({ length: 4 }, () => [403, 'delegation_no_authority']));
});

test('a representative naming unknown persons, thirty at once: ten answers, twenty refusals, each audited; a registered grantee still gets a grant from another representative', async (t) => {
  const rep = await citizen(server);
  const enterprise = await seedEnterprise(server, rep);
  const answers = await Promise.all(Array.from({ length: 30 }, () => delegationApi(server, rep.token, 'POST', '', {
    enterprise_id: enterprise.id, grantee: { phone: makePerson().phone }, scope: portal('tax.declare'), valid_until: days(30), may_redelegate: false,
  })));
  const codes = answers.map((answer) => answer.body.error as string);
  t.is(codes.filter((code) => code === 'delegation_grantee_not_found').length, 10, JSON.stringify(codes));
  t.is(codes.filter((code) => code === 'attempts_exceeded').length, 20);
  const audited = await server.deps.database.db.selectFrom('audit_log').select(['details'])
    .where('action', '=', 'delegation.grant').where('result', '=', 'denied').where('actor_id', '=', rep.accountId).execute();
  t.is(audited.length, 30);

  const other = await citizen(server);
  const otherEnterprise = await seedEnterprise(server, other);
  const grantee = await citizen(server);
  const granted = await delegationApi(server, other.token, 'POST', '', {
    enterprise_id: otherEnterprise.id, grantee: { phone: grantee.phone }, scope: portal('tax.declare'), valid_until: days(30), may_redelegate: false,
  });
  t.is(granted.status, 201, JSON.stringify(granted.body));
});
