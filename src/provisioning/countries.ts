import countries from 'i18n-iso-countries';
import en from 'i18n-iso-countries/langs/en.json';
import fr from 'i18n-iso-countries/langs/fr.json';

countries.registerLocale(en);
countries.registerLocale(fr);

export type CountryLanguage = 'en' | 'fr';

/** ISO 3166-1 alpha-2, as Graph user.usageLocation requires. */
export function isIsoCountry(code: string): boolean {
  return /^[A-Z]{2}$/.test(code) && countries.isValid(code);
}

export function countryName(code: string, language: CountryLanguage = 'en'): string {
  return countries.getName(code, language) ?? code;
}

/** All countries, sorted by name in the given language. */
export function countryList(language: CountryLanguage = 'en'): { code: string; name: string }[] {
  const names = countries.getNames(language, { select: 'official' });
  return Object.entries(names)
    .map(([code, name]) => ({ code, name }))
    .sort((a, b) => a.name.localeCompare(b.name, language));
}

/** A country as people write it in a file: its ISO code, or its English or French name ("France", "Allemagne"). */
export function countryCodeOf(text: string): string | null {
  const trimmed = text.trim();
  if (/^[A-Za-z]{2}$/.test(trimmed)) return trimmed.toUpperCase();
  return countries.getAlpha2Code(trimmed, 'en') ?? countries.getAlpha2Code(trimmed, 'fr') ?? null;
}
