import test from 'ava';
import { seedAccount } from '../../helpers/accounts.js';
import { isolatedEnv } from '../../helpers/env.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { createStaff, staffSignIn } from '../../helpers/staff.js';

/**
 * Decisions that act inside a transaction, on the embedded database that `npm start`
 * uses. It has a single connection: a read through the pool inside a transaction waits for
 * that transaction for ever, which the machine's PostgreSQL (a pool) never shows. So these
 * run on the embedded stores whatever DATABASE_URL says.
 */

let server: TestServer;
test.before(async () => { server = await startServer({}, { stores: isolatedEnv({ database: 'embedded', cache: 'embedded' }) }); });
test.after.always(async () => { await server?.close(); });

test('an unban approved by a supervisor completes on the embedded database', async (t) => {
  const agent = await staffSignIn(server, await createStaff(server.deps, 'agent.embedded', ['agent']));
  const supervisor = await staffSignIn(server, await createStaff(server.deps, 'head.embedded', ['supervisor']));
  const person = { idNumber: '650102199405230489', name: '阿依古丽·买买提', phone: '18999012345' };
  const id = await seedAccount(server.deps, person);
  t.is((await agent.api('GET', `/citizens?q=${person.phone}`)).body.results?.[0]?.id, id);
  t.is((await agent.api('POST', `/citizens/${id}/ban`, { reason: 'account_compromised' })).status, 200);
  const request = await agent.api('POST', `/citizens/${id}/unban-requests`, { reason: '本人到窗口确认' });
  t.is(request.status, 201);
  const approved = await supervisor.api('POST', `/approvals/${request.body.id}/approve`, { note: '同意' });
  t.is(approved.status, 200, JSON.stringify(approved.body));
  t.is((await server.deps.accounts.row(id))?.status, 'active');
});
