import test from 'ava';
import { parseIdNumber } from '../../src/identity/id-number.js';

/** Tests pin "now" so the future-date rule does not drift with the calendar. */
const NOW = new Date('2025-06-01T12:00:00Z');
const parse = (input: string) => parseIdNumber(input, NOW);

/**
 * An independent MOD 11-2: weight i is 2^(17-i) mod 11, and the check value is the
 * one that makes the weighted sum of all 18 positions ≡ 1 (mod 11), with 10 written X.
 * Deliberately not the module's table lookup.
 */
function checkCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (2 ** (17 - i) % 11);
  const value = (12 - (sum % 11)) % 11;
  return value === 10 ? 'X' : String(value);
}

const withCheck = (first17: string) => first17 + checkCharacter(first17);

/** Small seeded PRNG, so a failing random case can be reproduced. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('the standard sample parses, with its birth date, gender and region', (t) => {
  t.deepEqual(parse('11010519491231002X'), {
    ok: true,
    value: '11010519491231002X',
    birthDate: '1949-12-31',
    gender: 'female',
    regionCode: '110105',
  });
});

test('a lower-case x is accepted and normalised to X; surrounding space is trimmed', (t) => {
  const result = parse('  11010519491231002x\n');
  t.true(result.ok);
  if (result.ok) t.is(result.value, '11010519491231002X');
});

test('full-width digits from a phone keyboard parse like ASCII ones', (t) => {
  const result = parse('１１０１０５１９４９１２３１００２Ｘ');
  t.true(result.ok);
  if (result.ok) t.is(result.value, '11010519491231002X');
});

test('an odd 17th digit is male, an even one female', (t) => {
  const male = parse('110101199003070011');
  t.true(male.ok && male.gender === 'male');
  const female = parse('440300198511110020');
  t.true(female.ok && female.gender === 'female');
});

test('a wrong check character is refused as checksum', (t) => {
  t.deepEqual(parse('110105194912310021'), { ok: false, reason: 'checksum' });
  t.deepEqual(parse('110101199003070010'), { ok: false, reason: 'checksum' });
  t.deepEqual(parse('11010119900307001X'), { ok: false, reason: 'checksum' });
});

test('a birth date that is not on the calendar is refused, even with a right check character', (t) => {
  t.deepEqual(parse('510107199902300012'), { ok: false, reason: 'birth_date' }); // 1999-02-30
  t.deepEqual(parse(withCheck('11010119991301001')), { ok: false, reason: 'birth_date' }); // month 13
  t.deepEqual(parse(withCheck('11010119990100001')), { ok: false, reason: 'birth_date' }); // day 0
  t.deepEqual(parse(withCheck('11010119000229001')), { ok: false, reason: 'birth_date' }); // 1900 is not a leap year
  t.true(parse('310104200002290030').ok); // 2000 is
});

test('a birth date in the future is refused; today is not the future', (t) => {
  t.deepEqual(parse(withCheck('11010120250602001')), { ok: false, reason: 'birth_date' });
  t.deepEqual(parse(withCheck('11010120300101001')), { ok: false, reason: 'birth_date' });
  t.true(parse(withCheck('11010120250601001')).ok);
});

test('"today" is the Beijing date, not the UTC one', (t) => {
  const id = withCheck('11010120250602001');
  // 2025-06-01T16:30Z is 00:30 on 2 June in Beijing: a baby born that day can be registered.
  t.true(parseIdNumber(id, new Date('2025-06-01T16:30:00Z')).ok);
  t.false(parseIdNumber(id, new Date('2025-06-01T15:30:00Z')).ok);
});

test('a birth date before 1900 is refused; 1900-01-01 is accepted', (t) => {
  t.deepEqual(parse('110105189912310015'), { ok: false, reason: 'birth_date' });
  // The example printed in GB 11643-1999 itself has a valid check character but an 1880 birth date.
  t.deepEqual(parse('440524188001010014'), { ok: false, reason: 'birth_date' });
  t.true(parse('11010519000101001X').ok);
});

test('wrong length, stray letters, a zero region and an X anywhere but last are format errors', (t) => {
  for (const input of [
    '',
    '11010519491231002', // 17
    '11010519491231002X0', // 19
    '110105194912310', // a 15-digit first-generation number
    '1101051949A231002X',
    '110105194912310O2X',
    '110105194912310X22',
    '01010519491231002X',
    '110105 19491231 002X',
    '11010519491231002Y',
    '-1010519491231002X',
  ]) {
    t.deepEqual(parse(input), { ok: false, reason: 'format' }, input);
  }
});

test('200 random valid numbers parse, and changing any one character breaks each of them', (t) => {
  const random = mulberry32(11643);
  const digit = () => String(Math.floor(random() * 10));
  const from = Date.UTC(1900, 0, 1);
  const to = Date.UTC(2024, 11, 31);
  for (let n = 0; n < 200; n++) {
    const region = String(1 + Math.floor(random() * 9)) + Array.from({ length: 5 }, digit).join('');
    const birth = new Date(from + Math.floor(random() * ((to - from) / 86_400_000 + 1)) * 86_400_000);
    const birthDate = birth.toISOString().slice(0, 10);
    const sequence = Array.from({ length: 3 }, digit).join('');
    const id = withCheck(region + birthDate.replaceAll('-', '') + sequence);

    const result = parse(id);
    t.deepEqual(
      result,
      {
        ok: true,
        value: id,
        birthDate,
        gender: Number(sequence[2]) % 2 === 1 ? 'male' : 'female',
        regionCode: region,
      },
      id,
    );

    for (let position = 0; position < 18; position++) {
      const alternatives = position === 17 ? '0123456789X' : '0123456789';
      for (const replacement of alternatives) {
        if (replacement === id[position]) continue;
        const changed = id.slice(0, position) + replacement + id.slice(position + 1);
        if (parse(changed).ok) t.fail(`${changed} (from ${id}) should not parse`);
      }
    }
  }
});
