import test from 'ava';
import { COMMON_PASSWORDS } from '../../src/identity/common-passwords.js';
import { checkPassword } from '../../src/identity/password-policy.js';

const person = { idNumber: '11010519491231002X', phone: '13800138000', birthDate: '1949-12-31' };

test('a long, unusual password is accepted and returned normalised', (t) => {
  t.deepEqual(checkPassword('correct horse battery staple', person), { ok: true, normalised: 'correct horse battery staple' });
  t.deepEqual(checkPassword('Ｔｒｏｍｂｏｎｅ-Ｌａｍｐ-42'), { ok: true, normalised: 'Trombone-Lamp-42' });
});

test('length is 8 to 128 code points', (t) => {
  t.deepEqual(checkPassword('Gx7#kq2'), { ok: false, reason: 'too_short' });
  t.true(checkPassword('Gx7#kq2m').ok);
  t.true(checkPassword('x'.repeat(128)).ok);
  t.deepEqual(checkPassword('x'.repeat(129)), { ok: false, reason: 'too_long' });
  t.deepEqual(checkPassword(''), { ok: false, reason: 'too_short' });
});

test('length counts code points, not UTF-16 units', (t) => {
  // Seven emoji are 14 UTF-16 units but seven characters.
  t.deepEqual(checkPassword('🐉🐼🎋🏮🧧🥟🍵'), { ok: false, reason: 'too_short' });
  t.true(checkPassword('🐉🐼🎋🏮🧧🥟🍵🀄').ok);
  t.deepEqual(checkPassword('春眠不觉晓处处'), { ok: false, reason: 'too_short' });
  t.true(checkPassword('春眠不觉晓处处闻').ok);
  t.deepEqual(checkPassword('𠮷'.repeat(129)), { ok: false, reason: 'too_long' });
  t.true(checkPassword('𠮷'.repeat(128)).ok);
});

test('length is counted after NFKC normalisation', (t) => {
  // U+FB03 (ﬃ) becomes "ffi": 6 characters typed, 8 after normalisation.
  t.deepEqual(checkPassword('ﬃxyzw1'), { ok: true, normalised: 'ffixyzw1' });
});

test('common passwords are refused, whatever their case or width', (t) => {
  for (const password of ['password', 'PassWord', 'PASSWORD', 'passw0rd', '88888888', '147258369', 'woaini1314', 'qwertyuiop', '1qaz2wsx', 'zxcvbnm123', 'abc123456', 'aa123456', 'qq123456', '5201314a', 'ｐａｓｓｗｏｒｄ', 'P@ssw0rd']) {
    t.deepEqual(checkPassword(password), { ok: false, reason: 'common' }, password);
  }
});

test('the common list holds at least 400 passwords, lower-case, including the Chinese favourites', (t) => {
  t.true(COMMON_PASSWORDS.size >= 400, `${COMMON_PASSWORDS.size}`);
  for (const entry of COMMON_PASSWORDS) t.is(entry, entry.toLowerCase());
  for (const expected of ['123456', '123456789', '111111', '000000', '5201314', '1314520', 'woaini', 'woaini1314', 'iloveyou', 'qq123456', 'a123456', 'abc123456', 'password', 'passw0rd', '88888888', '147258369', 'zxcvbnm', 'aa123456', '123123', 'qwertyuiop', '1qaz2wsx']) {
    t.true(COMMON_PASSWORDS.has(expected), expected);
  }
});

test('the ID number, its last 6 or 8 characters, in any case, are refused', (t) => {
  for (const password of ['11010519491231002X', 'me11010519491231002x!', 'secret-31002X', 'secret-31002x', 'xx1231002Xyy']) {
    t.deepEqual(checkPassword(password, { idNumber: person.idNumber }), { ok: false, reason: 'contains_personal_data' }, password);
  }
  t.true(checkPassword('secret-1002X', { idNumber: person.idNumber }).ok); // only 5 of its characters
});

test('the phone and its last 8 digits are refused, however the phone was written', (t) => {
  for (const phone of ['15988776655', '+86 159 8877 6655']) {
    for (const password of ['15988776655', 'call15988776655', 'zz88776655zz', 'ｚｚ８８７７６６５５ｚｚ']) {
      t.deepEqual(checkPassword(password, { phone }), { ok: false, reason: 'contains_personal_data' }, `${phone} / ${password}`);
    }
  }
  t.true(checkPassword('zz8776655zz', { phone: '15988776655' }).ok); // only its last 7
});

test('the birth date as YYYYMMDD, YYYY-MM-DD or YYMMDD is refused', (t) => {
  for (const password of ['born19491231', 'born1949-12-31', 'zz491231zz']) {
    t.deepEqual(checkPassword(password, { birthDate: '1949-12-31' }), { ok: false, reason: 'contains_personal_data' }, password);
  }
  t.true(checkPassword('born1949/12/31', { birthDate: '1949-12-31' }).ok);
});

test('the birth date inside the ID number counts even when not given separately', (t) => {
  t.deepEqual(checkPassword('zz491231zz', { idNumber: person.idNumber }), { ok: false, reason: 'contains_personal_data' });
  t.deepEqual(checkPassword('born19491231', { idNumber: person.idNumber }), { ok: false, reason: 'contains_personal_data' });
});

test('personal data is only checked when it is given', (t) => {
  for (const password of ['11010519491231002X', 'call13800138000', 'born19491231']) t.true(checkPassword(password).ok, password);
});

test('empty or tiny context values do not refuse every password', (t) => {
  t.true(checkPassword('correct horse battery staple', { idNumber: '', phone: '', birthDate: '' }).ok);
  t.true(checkPassword('correct horse battery staple 12', { idNumber: '  ', phone: '12', birthDate: 'nonsense' }).ok);
  t.true(checkPassword('correct horse battery 2X', { idNumber: '2X' }).ok);
});
