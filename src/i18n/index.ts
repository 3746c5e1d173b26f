import { en, type Strings } from './en';
import { fr } from './fr';

export type Locale = 'en' | 'fr';
export type { Strings };

/**
 * Cards render their text as Markdown, where "<username>" reads as an HTML tag and vanishes ("Say which
 * account: "show "", seen in a Playground walk). A word joiner (U+2060, invisible, as src/cards/text.ts
 * uses for tenant data) after "<" keeps the tables' placeholders like "<username>" visible.
 */
function noTags<T>(table: T): T {
  if (typeof table === 'string') return table.replace(/<(?=\p{L})/gu, '<\u2060') as T;
  if (table && typeof table === 'object') {
    return Object.fromEntries(Object.entries(table).map(([key, value]) => [key, noTags(value)])) as T;
  }
  return table;
}

const tables: Record<Locale, Strings> = { en: noTags(en), fr: noTags(fr) };

/** Teams sends the client's locale on every activity (e.g. "fr-FR"); fr and fr-* get French, anything else English. */
export function localeOf(activityLocale: string | undefined): Locale {
  return /^fr(?:[-_]|$)/i.test(activityLocale ?? '') ? 'fr' : 'en';
}

export function strings(locale: Locale): Strings {
  return tables[locale];
}

/** Fills {name} placeholders; unknown ones stay visible rather than vanish. */
export function format(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in params ? String(params[key]) : whole));
}
