import test from 'ava';
import { Slots } from '../../src/slots.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

test('never more than the given number at once, and every piece of work runs', async (t) => {
  const slots = new Slots(2);
  let running = 0;
  let most = 0;
  const done = await Promise.all(Array.from({ length: 10 }, (_, i) => slots.run(async () => {
    running += 1;
    most = Math.max(most, running);
    await tick();
    running -= 1;
    return i;
  })));
  t.is(most, 2);
  t.deepEqual(done, [...Array(10).keys()]);
});

test('waiting work starts in the order it arrived', async (t) => {
  const slots = new Slots(1);
  const started: number[] = [];
  await Promise.all([0, 1, 2, 3].map((i) => slots.run(async () => { started.push(i); await tick(); })));
  t.deepEqual(started, [0, 1, 2, 3]);
});

test('a failure gives its slot back', async (t) => {
  const slots = new Slots(1);
  await t.throwsAsync(slots.run(async () => { throw new Error('boom'); }), { message: 'boom' });
  t.is(await slots.run(async () => 'next'), 'next');
});

test('zero or a fraction of a slot is refused', (t) => {
  t.throws(() => new Slots(0));
  t.throws(() => new Slots(1.5));
});
