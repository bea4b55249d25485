import test from 'ava';
import { AppError } from '../../../src/errors.js';
import { makePerson } from '../../helpers/account-centre.js';
import { startServer, type TestServer } from '../../helpers/server.js';

/**
 * A phone's SMS limits are counted per purpose (a recovery someone else runs must not use
 * up the person's login codes), and all purposes together are capped at three days'
 * allowance of one: no mix of flows sends a phone more.
 */

let server: TestServer;
test.before(async () => {
  server = await startServer({ SMS_LIMIT_PER_MINUTE: '5', SMS_LIMIT_PER_HOUR: '5', SMS_LIMIT_PER_DAY: '5', SMS_LIMIT_PER_IP_PER_HOUR: '1000' });
});
test.after.always(async () => { await server?.close(); });

test('twenty sends at once to one phone for four purposes, five each: fifteen go out, five are refused', async (t) => {
  const { phone } = makePerson();
  const purposes = ['login', 'reset', 'register', 'enterprise'] as const;
  const outcomes = await Promise.all(purposes.flatMap((purpose) => Array.from({ length: 5 }, (_, i) =>
    server.deps.smsCodes.send({ purpose, phone, flowId: `${purpose}-${i}`, ip: '192.0.2.7', staffPresent: true })
      .then(() => 'sent', (error: unknown) => (error instanceof AppError ? error.code : String(error))))));
  t.is(outcomes.filter((outcome) => outcome === 'sent').length, 15, JSON.stringify(outcomes));
  t.is(outcomes.filter((outcome) => outcome === 'sms_rate_limited').length, 5);
  // Another phone is untouched.
  await t.notThrowsAsync(server.deps.smsCodes.send({ purpose: 'login', phone: makePerson().phone, flowId: 'other', ip: '192.0.2.7', staffPresent: true }));
});
