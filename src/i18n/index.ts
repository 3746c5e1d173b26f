import { en, type Strings } from './en';
import { fr } from './fr';

export type Locale = 'en' | 'fr';
export type { Strings };

const tables: Record<Locale, Strings> = { en, fr };

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
