import { createCipheriv, randomBytes } from 'node:crypto';
import test from 'ava';
import type { DataKey } from '../../src/config/secrets.js';
import { DecryptionError, FieldCipher } from '../../src/crypto/field-cipher.js';

const dataKey = (id: string): DataKey => ({ id, key: randomBytes(32) });
const CONTEXT = 'accounts.id_number';

/** Swaps one character of a segment for another base64url character, so the envelope stays well-formed. */
function tamper(envelope: string, segment: number, at = 0): string {
  const parts = envelope.split('.');
  const text = parts[segment]!;
  const replacement = text[at] === 'A' ? 'B' : 'A';
  parts[segment] = text.slice(0, at) + replacement + text.slice(at + 1);
  return parts.join('.');
}

test('a value round-trips, including unicode and the empty string', (t) => {
  const cipher = new FieldCipher([dataKey('k1')]);
  for (const plaintext of ['11010519491231002X', '13800000000', '张三 · 李四', '']) {
    t.is(cipher.decrypt(cipher.encrypt(plaintext, CONTEXT), CONTEXT), plaintext);
  }
});

test('the envelope names the version and the key and hides the plaintext', (t) => {
  const cipher = new FieldCipher([dataKey('k1')]);
  const envelope = cipher.encrypt('13800000000', CONTEXT);
  t.regex(envelope, /^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
  t.false(envelope.includes('13800000000'));
  t.false(envelope.includes(Buffer.from('13800000000').toString('base64url')));
});

test('encrypting the same value twice gives different ciphertexts', (t) => {
  const cipher = new FieldCipher([dataKey('k1')]);
  const first = cipher.encrypt('13800000000', CONTEXT);
  const second = cipher.encrypt('13800000000', CONTEXT);
  t.not(first, second);
  t.not(first.split('.')[2], second.split('.')[2], 'each value has its own IV');
});

test('a tampered ciphertext, tag or IV is refused', (t) => {
  const cipher = new FieldCipher([dataKey('k1')]);
  const envelope = cipher.encrypt('11010519491231002X', CONTEXT);
  const body = envelope.split('.')[3]!;
  for (const forged of [tamper(envelope, 3, 0), tamper(envelope, 3, body.length - 2), tamper(envelope, 2, 3)]) {
    t.not(forged, envelope);
    t.throws(() => cipher.decrypt(forged, CONTEXT), { instanceOf: DecryptionError });
  }
});

test('a truncated or malformed envelope is refused with a DecryptionError', (t) => {
  const cipher = new FieldCipher([dataKey('k1')]);
  const envelope = cipher.encrypt('11010519491231002X', CONTEXT);
  const [version, keyId, iv, body] = envelope.split('.') as [string, string, string, string];
  const malformed = [
    '',
    'plain text',
    `${version}.${keyId}.${iv}`,
    `${version}.${keyId}.${iv}.${body}.extra`,
    `v2.${keyId}.${iv}.${body}`,
    `${version}.${keyId}..${body}`,
    `${version}.${keyId}.${iv}.${body.slice(0, 8)}`,
    `${version}.${keyId}.${iv}.AAAA`,
    `${version}.${keyId}.${iv.slice(0, 4)}.${body}`,
  ];
  for (const value of malformed) t.throws(() => cipher.decrypt(value, CONTEXT), { instanceOf: DecryptionError }, value);
});

test('a tag truncated to fewer than 16 bytes is refused', (t) => {
  // GCM itself accepts 4-byte tags; a forger then needs only 2^32 guesses.
  const key = dataKey('k1');
  const cipher = new FieldCipher([key]);
  const iv = randomBytes(12);
  const gcm = createCipheriv('aes-256-gcm', key.key, iv);
  gcm.setAAD(Buffer.from(CONTEXT));
  const ciphertext = Buffer.concat([gcm.update('8 bytes!', 'utf8'), gcm.final()]);
  const shortTag = gcm.getAuthTag().subarray(0, 4);
  const envelope = ['v1', 'k1', iv.toString('base64url'), Buffer.concat([ciphertext, shortTag]).toString('base64url')].join('.');
  t.throws(() => cipher.decrypt(envelope, CONTEXT), { instanceOf: DecryptionError });
});

test('a ciphertext does not decrypt in another context', (t) => {
  const cipher = new FieldCipher([dataKey('k1')]);
  const envelope = cipher.encrypt('13800000000', 'accounts.phone');
  t.throws(() => cipher.decrypt(envelope, 'enterprises.legal_rep_phone'), { instanceOf: DecryptionError });
  t.throws(() => cipher.decrypt(envelope, ''), { instanceOf: DecryptionError });
  t.is(cipher.decrypt(envelope, 'accounts.phone'), '13800000000');
});

test('a ciphertext does not decrypt under another key, even one with the same id', (t) => {
  const envelope = new FieldCipher([dataKey('k1')]).encrypt('13800000000', CONTEXT);
  t.throws(() => new FieldCipher([dataKey('k1')]).decrypt(envelope, CONTEXT), { instanceOf: DecryptionError, message: /authentication/ });
  t.throws(() => new FieldCipher([dataKey('k2')]).decrypt(envelope, CONTEXT), { instanceOf: DecryptionError, message: /"k1" is not configured/ });
});

test('relabelling a ciphertext with another configured key id is refused', (t) => {
  const cipher = new FieldCipher([dataKey('k2'), dataKey('k1')]);
  const envelope = cipher.encrypt('13800000000', CONTEXT);
  const relabelled = envelope.replace(/^v1\.k2\./, 'v1.k1.');
  t.not(relabelled, envelope);
  t.throws(() => cipher.decrypt(relabelled, CONTEXT), { instanceOf: DecryptionError });
});

test('after rotation old ciphertexts still decrypt, are stale, and new ones use the new key', (t) => {
  const k1 = dataKey('k1');
  const k2 = dataKey('k2');
  const before = new FieldCipher([k1]);
  const old = before.encrypt('11010519491231002X', CONTEXT);
  t.false(before.isStale(old));

  const after = new FieldCipher([k2, k1]);
  t.is(after.decrypt(old, CONTEXT), '11010519491231002X');
  t.true(after.isStale(old));

  const fresh = after.encrypt('11010519491231002X', CONTEXT);
  t.true(fresh.startsWith('v1.k2.'));
  t.false(after.isStale(fresh));
  t.throws(() => before.decrypt(fresh, CONTEXT), { instanceOf: DecryptionError }, 'a cipher without the new key cannot read new values');

  const retired = new FieldCipher([k2]);
  t.throws(() => retired.decrypt(old, CONTEXT), { instanceOf: DecryptionError }, 'once k1 is removed its values are unreadable');
});

test('a cipher needs at least one key', (t) => {
  t.throws(() => new FieldCipher([]), { message: /at least one data key/ });
});
