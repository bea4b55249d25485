import test from 'ava';
import {
  maskAccountNumber,
  maskCardNumber,
  maskIdNumber,
  maskName,
  maskPhone,
  maskUscc,
} from '../../src/identity/masking.js';

/** No lone surrogate: what String#isWellFormed checks (ES2024, newer than our lib setting). */
const isWellFormed = (value: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value);

test('ID numbers show the region code and the last four', (t) => {
  t.is(maskIdNumber('11010519491231002X'), '110105********002X');
  t.is(maskIdNumber('440300198511110020'), '440300********0020');
});

test('phones show the first three and the last four', (t) => {
  // The last four of 13800138000 are 8000; DESIGN.md's "138****0000" is a different number.
  t.is(maskPhone('13800138000'), '138****8000');
  t.is(maskPhone('13812340000'), '138****0000');
  t.is(maskPhone('19912345678'), '199****5678');
});

test('card numbers show the first four and the last four, grouped, whatever their length', (t) => {
  t.is(maskCardNumber('6222020200112233445'), '6222 **** **** 3445');
  t.is(maskCardNumber('6222 0202 0011 2233'), '6222 **** **** 2233');
  t.is(maskCardNumber('6222-0202-0011-2233'), '6222 **** **** 2233');
});

test('USCCs show the first four and the last four', (t) => {
  t.is(maskUscc('91350100M000100Y43'), '9135**********0Y43');
});

test('account numbers show only the last four', (t) => {
  t.is(maskAccountNumber('6222020200112233445'), '**** 3445');
  t.is(maskAccountNumber('3100 1234 5678 9012'), '**** 9012');
});

test('Chinese names show only the last character', (t) => {
  t.is(maskName('张三'), '*三');
  t.is(maskName('欧阳娜娜'), '***娜');
  t.is(maskName('阿卜杜·艾力'), '*****力');
  t.is(maskName(' 李四 '), '*四');
});

test('ASCII names show only the first letter', (t) => {
  t.is(maskName('Smith'), 'S****');
  t.is(maskName('John Smith'), 'J*********');
});

test('names are masked by code point: a character outside the BMP is one character, never split', (t) => {
  t.is(maskName('王𠮷'), '*𠮷');
  t.is(maskName('𠮷野家'), '**家');
  t.is(maskName('𠮷𠮷三'), '**三');
  t.is(maskName('李𠀋𠀋'), '**𠀋');
  // No lone surrogate survives in any output.
  for (const masked of [maskName('王𠮷'), maskName('𠮷野家')]) t.true(isWellFormed(masked), masked);
});

test('Latin names with accents are treated as Latin names, and a combining accent stays with its letter', (t) => {
  t.is(maskName('José'), 'J***');
  t.is(maskName('Müller'), 'M*****');
  t.is(maskName('Zoe\u0301'), 'Z**'); // Zoé typed with a combining acute: three letters after NFC
});

test('values too short for their shape are masked entirely', (t) => {
  t.is(maskName('李'), '*');
  t.is(maskName('A'), '*');
  t.is(maskName(''), '*');
  t.is(maskPhone('1380013'), '*******');
  t.is(maskIdNumber('1101051949'), '**********');
  t.is(maskCardNumber('62220202'), '********');
  t.is(maskAccountNumber('12345'), '*****');
  t.is(maskUscc('9135'), '****');
});

test('the surrogate check itself catches a split pair', (t) => {
  t.false(isWellFormed('𠮷'.slice(0, 1)));
  t.false(isWellFormed('*' + '𠮷'.slice(1)));
  t.true(isWellFormed('𠮷'));
});

test('an ID number with a character outside the BMP is not cut through a surrogate pair', (t) => {
  const masked = maskIdNumber('110105𠮷𠮷𠮷𠮷𠮷𠮷𠮷𠮷002X');
  t.is(masked, '110105********002X');
  t.true(isWellFormed(masked));
});
