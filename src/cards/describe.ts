import { format, strings, type Locale } from '../i18n';
import type { Refusal } from '../provisioning/result';
import { countryName } from '../provisioning/countries';
import { licenseKindsOf, type AccountSummary, type LicenseSku, type ResourceAccount } from '../provisioning/model';
import { plainText } from './text';

/** "MCOEV" → "Phone System (MCOEV)": admins know the product names, the part numbers less so. */
function skuLabel(skuPartNumber: string, locale: Locale): string {
  const kind = skuPartNumber.startsWith('PHONESYSTEM_VIRTUALUSER') ? 'resourceAccount' : skuPartNumber.startsWith('MCOEV') ? 'phoneSystem' : null;
  return kind ? `${strings(locale).license[kind]} (${skuPartNumber})` : skuPartNumber;
}

/** "and 1,234 more": counts of accounts get digit grouping, as the list card's do. */
const COUNTS: Record<Locale, Intl.NumberFormat> = { en: new Intl.NumberFormat('en'), fr: new Intl.NumberFormat('fr') };

/** Times are shown in UTC: approvers and requesters may sit in different time zones. */
export function when(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * The human message of a refusal, in the viewer's language; type codes read as words. Its params come
 * from users and the tenant (a UPN, a display name, a voice application, a tenant's error text), so each
 * is plain text (./text.ts) before it goes into the strings table's Markdown.
 */
export function describeRefusal(refusal: Refusal, locale: Locale): string {
  const s = strings(locale);
  const params: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(refusal.params)) {
    const text = String(value);
    params[key] = plainText(
      key === 'sku'
        ? skuLabel(text, locale)
        : (key === 'accountType' || key === 'expected') && (text === 'autoAttendant' || text === 'callQueue')
        ? s.accountType[text]
        : (key === 'actual' || key === 'expected') && (text === 'callingPlan' || text === 'operatorConnect' || text === 'directRouting')
          ? s.numberType[text]
          : key === 'status' && Object.hasOwn(s.plan.state, text)
            ? s.plan.state[text as keyof typeof s.plan.state]
            : key === 'characters'
              ? characterList(text, s.characterNames)
              : key === 'change' && Object.hasOwn(s.plan.title, text)
                ? format(s.plan.title[text as keyof typeof s.plan.title], { upn: plainText(String(refusal.params.subject ?? refusal.params.upn ?? '')) })
                : key === 'at' && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(text)
                  ? when(text)
                  : key === 'more' && typeof value === 'number'
                    ? COUNTS[locale].format(value)
                    : text,
    );
  }
  return format(s.reasons[refusal.reason], params);
}

/**
 * Characters as an admin can read them: a space or an invisible character written as it is showed as
 * nothing ("Not allowed here: "), and a lone combining mark (an accent typed apart, as macOS pastes it)
 * as nothing much either: those are named by their code point.
 */
function characterList(characters: string, names: { space: string }): string {
  return [...characters]
    .map((c) => (c === ' ' ? names.space : /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(c) && !/\p{Cf}/u.test(c) ? c : `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`))
    .join(' ');
}

/** "United States of America (US)": a country as an admin reads it. The code comes from the tenant (or a card), so both parts are plain text. */
export function countryText(code: string, locale: Locale): string {
  return `${plainText(countryName(code, locale))} (${plainText(code)})`;
}

/** How an account reads in a card: localized, and every text from the tenant made plain text (./text.ts). */
export interface AccountView {
  id: string;
  displayName: string;
  userPrincipalName: string;
  type: string;
  usageLocation: string;
  license: string;
  number: string;
  associations: string;
  broken: boolean;
}

export function accountView(account: ResourceAccount, skus: readonly LicenseSku[], locale: Locale): AccountView {
  const s = strings(locale);
  const row = accountRow(account, skus, locale);
  return {
    id: row.id,
    displayName: row.displayName,
    userPrincipalName: row.upn,
    type: row.type,
    usageLocation: account.usageLocation ? countryText(account.usageLocation, locale) : s.account.notSet,
    license: row.license,
    number: row.number,
    associations: account.associations.length ? account.associations.map((a) => plainText(a.name)).join(', ') : s.account.none,
    broken: account.broken,
  };
}

/** What a row of the account list shows: the part of AccountView it needs, and nothing more per row. */
export interface AccountRow {
  id: string;
  displayName: string;
  upn: string;
  type: string;
  license: string;
  number: string;
}

export function accountRow(account: AccountSummary, skus: readonly LicenseSku[], locale: Locale): AccountRow {
  const s = strings(locale);
  const kinds = licenseKindsOf(account, skus);
  return {
    id: account.id,
    displayName: plainText(account.displayName),
    upn: plainText(account.userPrincipalName),
    type: s.accountType[account.accountType],
    license: kinds.length ? kinds.map((k) => s.license[k]).join(', ') : s.license.unlicensed,
    number: account.phoneNumber === null ? s.account.noNumber : plainText(account.phoneNumber),
  };
}
