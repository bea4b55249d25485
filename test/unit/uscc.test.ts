import test from 'ava';
import { parseUscc } from '../../src/identity/uscc.js';

/** The alphabet and weights as printed in GB 32100-2015, not derived from the module. */
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

function checkCharacter(first17: string): string {
  const sum = [...first17].reduce((total, c, i) => total + ALPHABET.indexOf(c) * WEIGHTS[i]!, 0);
  const value = 31 - (sum % 31);
  return ALPHABET[value === 31 ? 0 : value]!;
}

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('the sample from the brief is valid', (t) => {
  t.deepEqual(parseUscc('91350100M000100Y43'), { ok: true, value: '91350100M000100Y43' });
});

test('codes printed on real business licences are valid', (t) => {
  for (const code of ['914403001922038216', '91330100716105852F', '9144030071526726XG']) {
    t.deepEqual(parseUscc(code), { ok: true, value: code }, code);
  }
});

test('input is trimmed and upper-cased', (t) => {
  t.deepEqual(parseUscc(' 91350100m000100y43 '), { ok: true, value: '91350100M000100Y43' });
  t.deepEqual(parseUscc('９１３５０１００Ｍ０００１００Ｙ４３'), { ok: true, value: '91350100M000100Y43' });
});

test('a wrong check character is refused as checksum', (t) => {
  t.deepEqual(parseUscc('91350100M000100Y44'), { ok: false, reason: 'checksum' });
  t.deepEqual(parseUscc('91350100M000100Y4A'), { ok: false, reason: 'checksum' });
  t.deepEqual(parseUscc('91350100M000101Y43'), { ok: false, reason: 'checksum' });
});

test('I, O, S, V and Z are refused as format, wherever they stand', (t) => {
  for (const letter of 'IOSVZ') {
    for (const position of [0, 8, 17]) {
      const code = '91350100M000100Y43'.slice(0, position) + letter + '91350100M000100Y43'.slice(position + 1);
      t.deepEqual(parseUscc(code), { ok: false, reason: 'format' }, code);
    }
  }
});

test('wrong length and other characters are format errors', (t) => {
  for (const input of ['', '91350100M000100Y4', '91350100M000100Y430', '91350100M00010-Y43', '91350100M000100Y4 3', '91350100M000100Y4３x']) {
    t.deepEqual(parseUscc(input), { ok: false, reason: 'format' }, input);
  }
});

test('200 random valid codes parse, and changing any one character breaks each of them', (t) => {
  const random = mulberry32(32100);
  const pick = () => ALPHABET[Math.floor(random() * ALPHABET.length)]!;
  for (let n = 0; n < 200; n++) {
    const first17 = Array.from({ length: 17 }, pick).join('');
    const code = first17 + checkCharacter(first17);
    t.deepEqual(parseUscc(code), { ok: true, value: code }, code);

    for (let position = 0; position < 18; position++) {
      for (const replacement of ALPHABET) {
        if (replacement === code[position]) continue;
        const changed = code.slice(0, position) + replacement + code.slice(position + 1);
        if (parseUscc(changed).ok) t.fail(`${changed} (from ${code}) should not parse`);
      }
    }
  }
});

test('a check value of 31 is written 0', (t) => {
  // Search the random codes for one whose weighted sum is a multiple of 31.
  const random = mulberry32(7);
  const pick = () => ALPHABET[Math.floor(random() * ALPHABET.length)]!;
  let found = false;
  for (let n = 0; n < 10_000 && !found; n++) {
    const first17 = Array.from({ length: 17 }, pick).join('');
    const sum = [...first17].reduce((total, c, i) => total + ALPHABET.indexOf(c) * WEIGHTS[i]!, 0);
    if (sum % 31 !== 0) continue;
    found = true;
    t.true(parseUscc(`${first17}0`).ok, first17);
    t.false(parseUscc(`${first17}Y`).ok, first17);
  }
  t.true(found);
});
