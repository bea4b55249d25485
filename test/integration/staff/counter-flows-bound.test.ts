import test from 'ava';
import { latestOutboxCode } from '../../../src/ports/sms/index.js';
import type { StaffCredentials } from '../../../src/staff/staff-accounts.js';
import { seedAccount } from '../../helpers/accounts.js';
import { makePerson, outboxFile } from '../../helpers/account-centre.js';
import { errorCode } from '../../helpers/http-browser.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { createStaff, staffSignIn, type StaffClient } from '../../helpers/staff.js';

/**
 * A counter flow belongs to the console session that started it: another agent, or the
 * same agent signed in elsewhere, can neither see nor finish it, whatever code they hold.
 */

let server: TestServer;
let starter: StaffClient;
let strangers: Record<string, StaffClient>;

test.before(async () => {
  server = await startServer();
  const agent: StaffCredentials = await createStaff(server.deps, 'agent.counter', ['agent']);
  starter = await staffSignIn(server, agent);
  strangers = {
    'another agent': await staffSignIn(server, await createStaff(server.deps, 'agent.neighbour', ['agent'])),
    'the same agent at another desk': await staffSignIn(server, agent, 1),
  };
});
test.after.always(async () => { await server?.close(); });

/** Twenty confirmations at once, spread over the other sessions: every one must be refused. */
async function twentyRefused(path: string, code: string): Promise<string[]> {
  const clients = Object.values(strangers);
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => clients[i % clients.length]!.api('POST', path, { code })));
  return [...new Set(answers.map((a) => `${a.status} ${a.body.error}`))];
}

test.serial('counter registration: no other session sees the pending registration or finishes it with the applicant\'s code; the starting desk does', async (t) => {
  const applicant = { name: '黄丽', id_number: '310104200002290866', phone: makePerson().phone };
  const started = await starter.api('POST', '/counter/registrations', applicant);
  t.is(started.status, 201, JSON.stringify(started.body));
  const code = await latestOutboxCode(outboxFile(server), applicant.phone, 'counter');
  t.truthy(code);

  for (const [who, client] of Object.entries(strangers)) {
    const page = await client.browser.get(`/admin/counter/register/${started.body.flow_id}`);
    t.is(errorCode(page.body), 'flow_expired', who);
    t.false(page.body.includes(applicant.phone.slice(-4)), `${who}: nothing of the applicant is shown`);
  }
  t.deepEqual(await twentyRefused(`/counter/registrations/${started.body.flow_id}/confirm`, code!), ['400 flow_expired']);
  t.is(await server.deps.accounts.byIdNumber(applicant.id_number), undefined);

  const done = await starter.api('POST', `/counter/registrations/${started.body.flow_id}/confirm`, { code });
  t.is(done.status, 200, JSON.stringify(done.body));
  t.truthy(await server.deps.accounts.byIdNumber(applicant.id_number));
});

test.serial('counter phone change: no other session sees the pending change or binds the new phone with its code; the starting desk does', async (t) => {
  const person = makePerson('周明');
  const id = await seedAccount(server.deps, person);
  const newPhone = makePerson().phone;
  // Every session finds the account first: acting on it needs this session's search.
  for (const client of [starter, ...Object.values(strangers)]) t.is((await client.api('GET', `/citizens?q=${person.phone}`)).body.results?.[0]?.id, id);
  const started = await starter.api('POST', `/citizens/${id}/phone-changes`, { name: person.name, id_number: person.idNumber, phone: newPhone });
  t.is(started.status, 201, JSON.stringify(started.body));
  const code = await latestOutboxCode(outboxFile(server), newPhone, 'counter');
  t.truthy(code);

  for (const [who, client] of Object.entries(strangers)) {
    const page = await client.browser.get(`/admin/citizens/${id}/phone/${started.body.flow_id}`);
    t.is(errorCode(page.body), 'flow_expired', who);
  }
  t.deepEqual(await twentyRefused(`/citizens/${id}/phone-changes/${started.body.flow_id}/confirm`, code!), ['400 flow_expired']);
  t.is((await server.deps.accounts.byPhone(person.phone))?.id, id, 'the old phone is still bound');

  const done = await starter.api('POST', `/citizens/${id}/phone-changes/${started.body.flow_id}/confirm`, { code });
  t.is(done.status, 200, JSON.stringify(done.body));
  t.is((await server.deps.accounts.byPhone(newPhone))?.id, id);
});
