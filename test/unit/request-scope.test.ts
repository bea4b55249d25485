import test from 'ava';
import { forgetInRequest, leaveForRequest, oncePerRequest, peekInRequest, takeFromRequest, withRequestScope } from '../../src/request-scope.js';

test('within one request a read is made once; another request reads again; outside a request every call reads', async (t) => {
  let reads = 0;
  const read = () => oncePerRequest('k', async () => ++reads);
  await withRequestScope(async () => {
    t.is(await read(), 1);
    t.is(await read(), 1);
  });
  await withRequestScope(async () => {
    t.is(await read(), 2);
  });
  t.is(await read(), 3);
  t.is(await read(), 4);
});

test('a failed read is not remembered', async (t) => {
  let calls = 0;
  await withRequestScope(async () => {
    await t.throwsAsync(oncePerRequest('k', async () => { calls += 1; throw new Error('down'); }));
    t.is(await oncePerRequest('k', async () => { calls += 1; return 'up'; }), 'up');
  });
  t.is(calls, 2);
});

test('what one read leaves is taken once, can be forgotten, and never crosses requests', async (t) => {
  await withRequestScope(async () => {
    leaveForRequest('grant', { id: 'g1' });
    leaveForRequest('none', null);
    t.true(peekInRequest('grant'));
    t.deepEqual(takeFromRequest('grant'), { id: 'g1' });
    t.is(takeFromRequest('grant'), undefined, 'a second reader goes to the store');
    t.is(takeFromRequest('none'), null, 'a known absence is left as null');
    leaveForRequest('account', { id: 'a1' });
    forgetInRequest('account');
    t.is(takeFromRequest('account'), undefined, 'forgotten after a write');
    leaveForRequest('other-request', 1);
  });
  await withRequestScope(async () => t.is(takeFromRequest('other-request'), undefined));
  leaveForRequest('outside', 1);
  t.is(takeFromRequest('outside'), undefined, 'nothing is kept outside a request');
});

test('concurrent requests do not see each other', async (t) => {
  const seen: unknown[] = [];
  await Promise.all([1, 2].map((n) => withRequestScope(async () => {
    leaveForRequest('mine', n);
    await new Promise((resolve) => setTimeout(resolve, 10));
    seen.push(takeFromRequest('mine'));
  })));
  t.deepEqual(seen.sort(), [1, 2]);
});
