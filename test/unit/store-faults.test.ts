import test from 'ava';
import { ReplyError } from 'ioredis';
import { cacheFault, databaseFault, StoreUnavailableError } from '../../src/store/faults.js';

/** Which errors of the stores are outages of a request (a 503), and which are answers or bugs to pass on. */

test('cache: a lost or refused connection and a reply saying Redis cannot serve now are faults', (t) => {
  for (const error of [new Error('Connection is closed.'), Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), new Error('Command timed out'), new ReplyError('LOADING Redis is loading the dataset in memory'), new ReplyError('READONLY You can\'t write against a read only replica.')]) {
    t.true(cacheFault(error) instanceof StoreUnavailableError, error.message);
  }
});

test('cache: any other reply, and a mistake in our own code, pass through unchanged', (t) => {
  for (const error of [new ReplyError('ERR wrong number of arguments'), new TypeError('Cannot read properties of undefined'), new RangeError('Invalid array length')]) {
    t.is(cacheFault(error), error, error.message);
  }
});

test('database: connection exceptions, shutdowns and timeouts are faults; a constraint violation is an answer', (t) => {
  t.true(databaseFault(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })) instanceof StoreUnavailableError);
  t.true(databaseFault(new Error('Query read timeout')) instanceof StoreUnavailableError);
  const unique = Object.assign(new Error('duplicate key value'), { code: '23505' });
  t.is(databaseFault(unique), unique);
});
