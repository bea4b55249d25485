import test from 'ava';
import { en } from '../../src/i18n/en.js';
import { DEFAULT_LOCALE, LOCALES, pickLocale, translate, type MessageKey } from '../../src/i18n/messages.js';
import { zhCN } from '../../src/i18n/zh-CN.js';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('the zh-CN and en catalogues have exactly the same keys', (t) => {
  t.deepEqual(Object.keys(en).sort(), Object.keys(zhCN).sort());
});

test('no message is empty and each language uses the same placeholders', (t) => {
  for (const key of Object.keys(zhCN) as MessageKey[]) {
    t.true(zhCN[key].trim().length > 0, `zh-CN ${key} is empty`);
    t.true(en[key].trim().length > 0, `en ${key} is empty`);
    t.deepEqual(placeholders(en[key]), placeholders(zhCN[key]), `placeholders differ for ${key}`);
  }
});

test('the English catalogue is in English', (t) => {
  const untranslated = (Object.keys(en) as MessageKey[]).filter((key) => en[key] === zhCN[key] && /[\u4e00-\u9fff]/.test(en[key]) && key !== 'lang.switch');
  t.deepEqual(untranslated, []);
});

test('zh-CN is the default locale', (t) => {
  t.is(DEFAULT_LOCALE, 'zh-CN');
  t.deepEqual([...LOCALES], ['zh-CN', 'en']);
  t.is(pickLocale(), 'zh-CN');
  t.is(pickLocale(undefined, null, ''), 'zh-CN');
  t.is(pickLocale('fr de-DE'), 'zh-CN');
});

test('pickLocale reads BCP 47 lists case-insensitively', (t) => {
  t.is(pickLocale('en'), 'en');
  t.is(pickLocale('en-US'), 'en');
  t.is(pickLocale('EN-gb'), 'en');
  t.is(pickLocale('zh'), 'zh-CN');
  t.is(pickLocale('zh-Hans-CN'), 'zh-CN');
  t.is(pickLocale('fr en'), 'en', 'ui_locales is space-separated');
  t.is(pickLocale('fr-FR,fr;q=0.9,en;q=0.8'), 'en', 'Accept-Language style lists work too');
  t.is(pickLocale('english'), 'zh-CN', 'a mere prefix is not a language tag');
});

test('pickLocale takes the first candidate that names a supported language', (t) => {
  t.is(pickLocale(undefined, 'en'), 'en');
  t.is(pickLocale('fr', 'en', 'zh'), 'en');
  t.is(pickLocale('zh-CN', 'en'), 'zh-CN');
  t.is(pickLocale('en', 'zh-CN'), 'en');
});

test('translate fills named parameters', (t) => {
  t.is(translate('en', 'login.client', { client: 'Tax Portal' }), 'You are signing in to: Tax Portal');
  t.is(translate('zh-CN', 'login.client', { client: '电子税务局' }), '您正在登录：电子税务局');
  t.is(translate('en', 'site.name'), en['site.name']);
  t.is(translate('zh-CN', 'site.name'), zhCN['site.name']);
});

test('translate leaves an unknown placeholder visible and formats numbers', (t) => {
  t.is(translate('en', 'login.client'), 'You are signing in to: {client}');
  t.is(translate('en', 'login.client', { other: 'x' }), 'You are signing in to: {client}');
  t.is(translate('en', 'login.client', { client: 42 }), 'You are signing in to: 42');
});

test('a parameter value is inserted literally, never re-expanded', (t) => {
  t.is(translate('en', 'login.client', { client: '{client} $& $1' }), 'You are signing in to: {client} $& $1');
});
