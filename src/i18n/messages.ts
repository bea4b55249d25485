import { en } from './en.js';
import { zhCN } from './zh-CN.js';

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'zh-CN';

/** The zh-CN catalogue is the reference: every other language must have the same keys. */
export type Catalogue = { readonly [K in keyof typeof zhCN]: string };

const CATALOGUES: Record<Locale, Catalogue> = { 'zh-CN': zhCN, en };

export type MessageKey = keyof typeof zhCN;

export function translate(locale: Locale, key: MessageKey, params: Record<string, string | number> = {}): string {
  const template = CATALOGUES[locale][key] ?? zhCN[key];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

export function isMessageKey(key: string): key is MessageKey {
  return key in zhCN;
}

/**
 * Parameters whose values have names in the catalogue: a form field (`field.<name>`), a
 * register status (`registry_status.<value>`). A field with no label is never shown by its
 * code: a reader sees "a value" rather than `confirm`.
 */
const PARAMETER_VOCABULARIES: Record<string, { prefix: string; unnamed?: MessageKey }> = {
  field: { prefix: 'field', unnamed: 'field.unnamed' },
  status: { prefix: 'registry_status' },
};

/** Translates parameters that name a catalogue entry (`reason.<value>` and the vocabularies above), leaving others as they are. */
export function translateParams(locale: Locale, params: Record<string, unknown>): Record<string, string | number> {
  return Object.fromEntries(Object.entries(params).map(([name, value]) => {
    const vocabulary = PARAMETER_VOCABULARIES[name];
    if (vocabulary) {
      const named = `${vocabulary.prefix}.${String(value)}`;
      if (isMessageKey(named)) return [name, translate(locale, named)];
      if (vocabulary.unnamed) return [name, translate(locale, vocabulary.unnamed)];
    }
    const key = `reason.${String(value)}`;
    return [name, isMessageKey(key) ? translate(locale, key) : typeof value === 'number' ? value : String(value)];
  }));
}

/** Picks the first supported language of a BCP 47 list such as `ui_locales` or a cookie. */
export function pickLocale(...candidates: (string | undefined | null)[]): Locale {
  for (const candidate of candidates) {
    if (!candidate) continue;
    for (const tag of candidate.split(/[\s,]+/)) {
      const lower = tag.split(';')[0]!.trim().toLowerCase();
      if (lower === 'en' || lower.startsWith('en-')) return 'en';
      if (lower === 'zh' || lower.startsWith('zh-')) return 'zh-CN';
    }
  }
  return DEFAULT_LOCALE;
}
