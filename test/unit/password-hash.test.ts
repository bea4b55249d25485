import test from 'ava';
import argon2 from 'argon2';
import { DUMMY_HASH, VERIFY_LIMITS, hashPassword, needsRehash, verifyPassword } from '../../src/identity/password-hash.js';

const PREFIX = '$argon2id$v=19$m=19456,t=2,p=1$';

test('hashes are argon2id at m=19456, t=2, p=1, in the standard parameter order', async (t) => {
  const hash = await hashPassword('correct horse battery staple');
  t.true(hash.startsWith(PREFIX), hash);
  t.regex(hash.slice(PREFIX.length), /^[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
});

test('the same password hashes differently each time (a fresh salt)', async (t) => {
  t.not(await hashPassword('correct horse battery staple'), await hashPassword('correct horse battery staple'));
});

test('verify accepts the password and refuses any other', async (t) => {
  const hash = await hashPassword('correct horse battery staple');
  t.true(await verifyPassword(hash, 'correct horse battery staple'));
  t.false(await verifyPassword(hash, 'correct horse battery stapl'));
  t.false(await verifyPassword(hash, 'Correct horse battery staple'));
  t.false(await verifyPassword(hash, ''));
});

test('a password set on one keyboard verifies when typed on a full-width one', async (t) => {
  const hash = await hashPassword('Trombone-Lamp-42');
  t.true(await verifyPassword(hash, 'Ｔｒｏｍｂｏｎｅ-Ｌａｍｐ-42'));
});

test('a malformed stored hash gives false, never an exception', async (t) => {
  const good = await hashPassword('correct horse battery staple');
  for (const stored of [
    '',
    'not a hash',
    '$argon2id$',
    '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA',
    good.slice(0, -5),
    good.replace('$argon2id$', '$argon2x$'),
    good.replace('m=19456', 'm=abc'),
    good.replace('t=2,', ''),
    good.replace('$v=19$', '$v=19$m=1,'),
    `${good}$extra`,
    '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy', // bcrypt
  ]) {
    await t.notThrowsAsync(async () => t.false(await verifyPassword(stored, 'correct horse battery staple'), stored));
  }
});

test('a stored hash asking for more than the limits is refused rather than computed', async (t) => {
  const password = 'correct horse battery staple';
  const make = (options: { memoryCost: number; timeCost: number; parallelism: number }) => argon2.hash(password, { type: argon2.argon2id, ...options });
  // Real hashes of the right password: only the limits can make these verify false.
  t.true(await verifyPassword(await make({ ...VERIFY_LIMITS, timeCost: 1, parallelism: 1 }), password), 'at the memory limit');
  t.false(await verifyPassword(await make({ memoryCost: VERIFY_LIMITS.memoryCost + 1024, timeCost: 1, parallelism: 1 }), password));
  t.false(await verifyPassword(await make({ memoryCost: 19_456, timeCost: VERIFY_LIMITS.timeCost + 1, parallelism: 1 }), password));
  t.false(await verifyPassword(await make({ memoryCost: 19_456, timeCost: 1, parallelism: VERIFY_LIMITS.parallelism + 1 }), password));
  // And a forged one asking for 4 GiB is refused without trying.
  const good = await hashPassword(password);
  t.false(await verifyPassword(good.replace('m=19456', 'm=4194304'), password));
});

test('needsRehash is false for a current hash and true for other parameters, types or malformed ones', async (t) => {
  t.false(needsRehash(await hashPassword('correct horse battery staple')));

  const older = await argon2.hash('correct horse battery staple', { type: argon2.argon2id, memoryCost: 12_288, timeCost: 3, parallelism: 1 });
  t.true(needsRehash(older));
  t.true(await verifyPassword(older, 'correct horse battery staple'), 'an older hash still verifies');

  const argon2i = await argon2.hash('correct horse battery staple', { type: argon2.argon2i, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  t.true(needsRehash(argon2i));

  const moreLanes = await argon2.hash('correct horse battery staple', { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 2 });
  t.true(needsRehash(moreLanes));

  t.true(needsRehash('not a hash'));
});

test("hashes in node-argon2's own m,p,t order still verify and need no rehash", async (t) => {
  const native = await argon2.hash('correct horse battery staple', { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  t.true(native.startsWith('$argon2id$v=19$m=19456,p=1,t=2$'), native);
  t.true(await verifyPassword(native, 'correct horse battery staple'));
  t.false(needsRehash(native));
});

test('DUMMY_HASH is one current hash, computed once, that no password matches', async (t) => {
  const first = await DUMMY_HASH;
  t.true(first.startsWith(PREFIX), first);
  t.is(await DUMMY_HASH, first);
  t.false(needsRehash(first));
  t.false(await verifyPassword(first, 'correct horse battery staple'));
  t.false(await verifyPassword(first, ''));
});
