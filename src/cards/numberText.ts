import { strings, type Locale } from '../i18n';
import { licenseKindsOf, NumberTypeSchema, type LicenseSku, type ResourceAccount } from '../provisioning/model';
import type { Refusal } from '../provisioning/result';
import { countryText, describeRefusal } from './describe';
import { plainText } from './text';

/** "France (FR)": a usage location or number country as an admin reads it. */
export function countryLabel(code: string | null, locale: Locale): string {
  return code ? countryText(code, locale) : strings(locale).number.notSet;
}

/**
 * A number refusal in the viewer's words: the service gives raw codes (numberType "operatorConnect",
 * country "FR"), shown here as "Operator Connect" and "France (FR)" so that both sides of a
 * mismatch are named plainly (DOMAIN.md F4).
 */
export function describeNumberRefusal(refusal: Refusal, locale: Locale): string {
  const s = strings(locale);
  const params = { ...refusal.params };
  for (const key of ['actual', 'expected'] as const) {
    const type = NumberTypeSchema.safeParse(params[key]);
    if (type.success) params[key] = s.numberType[type.data];
  }
  for (const key of ['numberCountry', 'usageLocation'] as const) {
    const code = params[key];
    if (typeof code === 'string' && /^[A-Z]{2}$/.test(code)) params[key] = countryLabel(code, locale);
  }
  return describeRefusal({ ...refusal, params }, locale);
}

/** The account facts every number card starts with. */
export interface NumberAccountView {
  id: string;
  upn: string;
  usageLocation: string;
  facts: { title: string; value: string }[];
}

export function numberAccountView(account: ResourceAccount, skus: readonly LicenseSku[], locale: Locale): NumberAccountView {
  const s = strings(locale);
  const kinds = licenseKindsOf(account, skus);
  const usageLocation = countryLabel(account.usageLocation, locale);
  return {
    id: account.id,
    upn: plainText(account.userPrincipalName),
    usageLocation,
    facts: [
      { title: s.number.upn, value: plainText(account.userPrincipalName) },
      { title: s.number.usageLocation, value: usageLocation },
      { title: s.number.license, value: kinds.length ? kinds.map((k) => s.license[k]).join(', ') : s.license.unlicensed },
    ],
  };
}
