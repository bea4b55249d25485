import test from 'ava';
import { normalisePhone } from '../../src/identity/phone.js';

test('a bare mobile number is returned as it is', (t) => {
  t.is(normalisePhone('13800138000'), '13800138000');
  t.is(normalisePhone('19912345678'), '19912345678');
});

test('spaces, dashes and surrounding whitespace are removed', (t) => {
  t.is(normalisePhone(' 138 0013 8000 '), '13800138000');
  t.is(normalisePhone('138-0013-8000'), '13800138000');
  t.is(normalisePhone('138 - 0013 - 8000'), '13800138000');
});

test('the country code is removed in each of its forms', (t) => {
  t.is(normalisePhone('+8613800138000'), '13800138000');
  t.is(normalisePhone('+86 138 0013 8000'), '13800138000');
  t.is(normalisePhone('8613800138000'), '13800138000');
  t.is(normalisePhone('86-138-0013-8000'), '13800138000');
  t.is(normalisePhone('008613800138000'), '13800138000');
  t.is(normalisePhone('0086 13800138000'), '13800138000');
});

test('full-width digits and plus sign are accepted', (t) => {
  t.is(normalisePhone('＋８６　１３８００１３８０００'), '13800138000');
});

test('numbers that are not mainland mobiles are refused', (t) => {
  for (const input of [
    '',
    '1380013800', // 10 digits
    '138001380001', // 12 digits
    '12800138000', // second digit 2
    '10800138000',
    '23800138000',
    '010-12345678', // a Beijing landline
    '+85213800138000', // Hong Kong code
    '+8612800138000',
    '86138001380', // 86 followed by only 9 digits: not a number with a prefix
    '+86+8613800138000',
    '138OO138000', // letters O for zeros
    '13800138000x',
    '(138)00138000',
  ]) {
    t.is(normalisePhone(input), null, input);
  }
});

test('an 11-digit number that starts with 86 is not mistaken for a prefixed one', (t) => {
  t.is(normalisePhone('86138001380'), null);
  t.is(normalisePhone('+86138001380'), null);
});
