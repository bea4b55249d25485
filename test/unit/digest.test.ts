import { createHmac, randomBytes } from 'node:crypto';
import test from 'ava';
import { KeyedDigest } from '../../src/crypto/digest.js';

const key = Buffer.from('0123456789abcdef0123456789abcdef');

test('a digest is HMAC-SHA-256 over purpose, a NUL separator and the value, base64url encoded', (t) => {
  const expected = createHmac('sha256', key).update('blind:phone\u000013800000000').digest('base64url');
  const digest = new KeyedDigest(key).digest('blind:phone', '13800000000');
  t.is(digest, expected);
  t.regex(digest, /^[A-Za-z0-9_-]{43}$/);
});

test('the same purpose, value and key always give the same digest', (t) => {
  t.is(new KeyedDigest(key).digest('blind:id', '11010519491231002X'), new KeyedDigest(Buffer.from(key)).digest('blind:id', '11010519491231002X'));
});

test('a different value, purpose or key gives a different digest', (t) => {
  const digests = new Set([
    new KeyedDigest(key).digest('blind:phone', '13800000000'),
    new KeyedDigest(key).digest('blind:phone', '13800000001'),
    new KeyedDigest(key).digest('blind:id', '13800000000'),
    new KeyedDigest(randomBytes(32)).digest('blind:phone', '13800000000'),
  ]);
  t.is(digests.size, 4);
});

test('the separator keeps purpose and value apart', (t) => {
  const digest = new KeyedDigest(key);
  t.not(digest.digest('client', 'secret'), digest.digest('clientsecret', ''));
  t.not(digest.digest('client', 'secret'), digest.digest('clients', 'ecret'));
});

test('matches accepts the right value and refuses anything else', (t) => {
  const digest = new KeyedDigest(key);
  const expected = digest.digest('client-secret', 's3cret');
  t.true(digest.matches('client-secret', 's3cret', expected));
  t.false(digest.matches('client-secret', 's3cret!', expected));
  t.false(digest.matches('blind:phone', 's3cret', expected));
  t.false(new KeyedDigest(randomBytes(32)).matches('client-secret', 's3cret', expected));
  t.false(digest.matches('client-secret', 's3cret', expected.slice(0, -1)), 'a shorter expectation is refused, not thrown');
  t.false(digest.matches('client-secret', 's3cret', ''));
});
