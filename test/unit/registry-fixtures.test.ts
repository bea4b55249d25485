import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { loadRegistryFixtures, parseRegistryFixtures, RegistryFixturesError } from '../../src/ports/registries/fixtures.js';

const EXAMPLE = resolve('config/fixtures/registries.example.json');

async function writeTemp(t: ExecutionContext, content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'civic-fixtures-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'registries.json');
  await writeFile(file, content);
  return file;
}

const zhangSan = {
  idNumber: '11010519491231002X', name: '张三', status: 'normal',
  phones: ['13800138000'], socialSecurityCard: '110105194912310021',
  bankCards: [{ number: '6222020200112233445', phone: '13800138000' }],
  housingFundAccount: '1100000012345', driverLicenseFileNumber: '110012345678',
};

const example = {
  uscc: '91350100M000100Y43', name: '福州示例科技有限公司', type: 'company', status: 'active',
  legalRepresentative: { name: '张三', idNumber: '11010519491231002X', phone: '13800138000' },
};

test('the shipped example file loads, with the documented person and enterprise unchanged', async (t) => {
  const fixtures = await loadRegistryFixtures(EXAMPLE);
  t.deepEqual(fixtures.persons.find((person) => person.idNumber === zhangSan.idNumber), zhangSan);
  t.deepEqual(fixtures.enterprises.find((enterprise) => enterprise.uscc === example.uscc), example);
});

test('the shipped example covers the cases the tests and the bench rely on', async (t) => {
  const { persons, enterprises } = await loadRegistryFixtures(EXAMPLE);
  t.true(persons.length >= 6);
  t.true(enterprises.length >= 3);
  const factors = (person: (typeof persons)[number]) => [
    person.phones?.length, person.socialSecurityCard, person.bankCards?.length, person.housingFundAccount, person.driverLicenseFileNumber,
  ].filter(Boolean).length;
  t.true(persons.some((person) => factors(person) === 5), 'someone with all five factors');
  t.true(persons.some((person) => factors(person) === 2), 'someone with two');
  t.true(persons.some((person) => factors(person) === 3), 'someone with three');
  t.true(persons.filter((person) => factors(person) === 0).length >= 2, 'two people known only to the population registry');
  t.true(persons.some((person) => person.status === 'deceased'));
  t.true(persons.some((person) => person.status === 'cancelled'));
  t.true(enterprises.some((enterprise) => enterprise.status === 'revoked'));
  for (const person of persons) for (const phone of person.phones ?? []) t.regex(phone, /^1[3-9]\d{9}$/);
});

test('a file with many problems is refused, naming the file and every problem with its path', async (t) => {
  const file = await writeTemp(t, JSON.stringify({
    persons: [
      { ...zhangSan, name: '  ' },
      { idNumber: '110105194912310021', name: '李四', status: 'alive' },
      { idNumber: '110105194902300023', name: '王五', status: 'normal', phones: ['1380013800'] },
      { idNumber: '11010519491231002x', name: '张三', status: 'normal', driverLicenceFileNumber: '110012345678' },
    ],
    enterprises: [
      { ...example, uscc: '91350100M000100Y44' },
      { ...example, uscc: '91350100M000100YI3', type: 'cooperative' },
    ],
  }));
  const error = await t.throwsAsync(loadRegistryFixtures(file), { instanceOf: RegistryFixturesError });
  const lines = error!.message.split('\n').slice(1);
  const expected: Array<[string, RegExp]> = [
    ['persons.0.name', /empty/],
    ['persons.1.idNumber', /check character should be X/],
    ['persons.1.status', /.+/],
    ['persons.2.idNumber', /birth date 19490230/],
    ['persons.2.phones.0', /11-digit/],
    ['persons.3', /driverLicenceFileNumber/],
    ['persons.3.idNumber', /duplicate idNumber 11010519491231002X/],
    ['enterprises.0.uscc', /check character should be 3/],
    ['enterprises.1.uscc', /without I, O, S, V, Z/],
    ['enterprises.1.type', /.+/],
  ];
  for (const [path, message] of expected) {
    const line = lines.find((candidate) => candidate.startsWith(`${file} [${path}]: `));
    t.truthy(line, `a problem at ${path}`);
    t.regex(line ?? '', message);
  }
  t.is(lines.length, expected.length, error!.message);
});

test('a file that is not JSON, or is missing, is refused naming the file', async (t) => {
  const broken = await writeTemp(t, '{ "persons": [ ');
  const notJson = await t.throwsAsync(loadRegistryFixtures(broken), { instanceOf: RegistryFixturesError });
  t.true(notJson!.message.includes(broken));
  const missing = join(tmpdir(), 'civic-no-such-dir', 'registries.json');
  const absent = await t.throwsAsync(loadRegistryFixtures(missing), { instanceOf: RegistryFixturesError });
  t.true(absent!.message.includes(missing));
});

test('the top level must have persons and nothing unknown', (t) => {
  const error = t.throws(() => parseRegistryFixtures({ people: [] }, 'inline.json'), { instanceOf: RegistryFixturesError });
  t.regex(error!.message, /inline\.json \[persons\]/);
  t.regex(error!.message, /people/);
  t.deepEqual(parseRegistryFixtures({ persons: [] }, 'inline.json'), { persons: [], enterprises: [] });
});

test('values are loaded in normal form', (t) => {
  const fixtures = parseRegistryFixtures({
    persons: [{
      idNumber: ' 11010519491231002x', name: ' 张三　', status: 'normal',
      socialSecurityCard: '1101 0519 4912 3100 21', bankCards: [{ number: '6222 0202 0011 2233 445', phone: '13800138000' }],
    }],
    enterprises: [{ ...example, uscc: '91350100m000100y43' }],
  }, 'inline.json');
  const [person] = fixtures.persons;
  t.is(person?.idNumber, '11010519491231002X');
  t.is(person?.name, '张三');
  t.is(person?.socialSecurityCard, '110105194912310021');
  t.is(person?.bankCards?.[0]?.number, '6222020200112233445');
  t.is(fixtures.enterprises[0]?.uscc, '91350100M000100Y43');
});

test('check characters are verified for every ID number and credit code', (t) => {
  const person = { name: '测试', status: 'normal' };
  const valid = ['11010519491231002X', '350102198503150241', '310104200002290866'];
  for (const idNumber of valid) t.notThrows(() => parseRegistryFixtures({ persons: [{ ...person, idNumber }] }, 'x'));
  // A changed digit, a changed check character, a non-leap 29 February.
  for (const idNumber of ['11010519491231003X', '350102198503150242', '310104200102290866']) {
    t.throws(() => parseRegistryFixtures({ persons: [{ ...person, idNumber }] }, 'x'), { instanceOf: RegistryFixturesError });
  }
  const enterprise = (uscc: string) => ({ persons: [], enterprises: [{ ...example, uscc }] });
  for (const uscc of ['91350205MA31KR7T8A', '1235000048812345XE', '513500005012345697']) t.notThrows(() => parseRegistryFixtures(enterprise(uscc), 'x'));
  for (const uscc of ['91350205MA31KR7T8B', '1235000048812345X0', '513500005012345698']) {
    t.throws(() => parseRegistryFixtures(enterprise(uscc), 'x'), { instanceOf: RegistryFixturesError, message: /check character/ });
  }
});
