import { format, strings, type Locale } from '../i18n';
import { countryList } from '../provisioning/countries';
import type { Page } from '../provisioning/directory';
import type { LicenseSku, PhoneNumber, ResourceAccount } from '../provisioning/model';
import { numberAccountView, type NumberAccountView } from './numberText';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

/** Only these types come from the tenant's inventory; Direct Routing numbers are typed in. */
export type SearchableNumberType = 'callingPlan' | 'operatorConnect';

/** The filters a search card carries from one click to the next (values only, never state). */
export interface NumberFilter {
  /** ISO 3166 alpha-2, or '' for any country. */
  country: string;
  /** Digits after "+". */
  prefix: string;
  offset: number;
}

export interface NumberSearchInput {
  account: ResourceAccount;
  skus: readonly LicenseSku[];
  numberType: SearchableNumberType;
  filter: NumberFilter;
  /** null when a filter was refused: nothing was searched. */
  page: Page<PhoneNumber> | null;
  /** The number the admin selected, kept after a refusal. */
  picked?: string;
  errors?: { country?: string; prefix?: string; telephoneNumber?: string };
}

/** What number-search.json expands. */
export interface NumberSearchCardData {
  s: ReturnType<typeof strings>['number'];
  title: string;
  intro: string;
  account: NumberAccountView;
  numberType: SearchableNumberType;
  filter: NumberFilter;
  countries: { code: string; name: string }[];
  results: { title: string; value: string }[];
  picked: string;
  summary: string;
  empty: string;
  errors: { country: string; prefix: string; telephoneNumber: string };
  hasErrors: boolean;
  hasPrevious: boolean;
  hasNext: boolean;
  previousOffset: number;
  nextOffset: number;
}

/**
 * Filters on top, one page of free service numbers below as radio buttons: a Teams dropdown shows
 * at most 15 options (teams-platform.md §5), so the admin searches and pages rather than scrolls.
 */
export function numberSearchCard(input: NumberSearchInput, locale: Locale): CardJson {
  const s = strings(locale).number;
  const account = numberAccountView(input.account, input.skus, locale);
  const { filter, page } = input;
  const items = page?.items ?? [];
  const results = items.map((n) => ({ title: resultLabel(n, filter.country === '', locale), value: n.telephoneNumber }));
  const errors = { country: input.errors?.country ?? '', prefix: input.errors?.prefix ?? '', telephoneNumber: input.errors?.telephoneNumber ?? '' };
  const typeName = strings(locale).numberType[input.numberType];
  const data: NumberSearchCardData = {
    s,
    title: format(s.searchTitle, { type: typeName, upn: plainText(input.account.userPrincipalName) }),
    intro: format(s.searchIntro, { country: account.usageLocation }),
    account,
    numberType: input.numberType,
    filter,
    countries: countryList(locale),
    results,
    picked: input.picked ?? '',
    summary: page && items.length > 0 ? format(s.summary, { from: page.offset + 1, to: page.offset + items.length, total: page.total }) : '',
    // Empty results say so plainly and say how to widen the search.
    empty: page && items.length === 0 ? `${format(s.empty, { type: typeName })} ${filter.prefix ? s.widenPrefix : s.widenCountry}` : '',
    errors,
    hasErrors: Boolean(errors.country || errors.prefix || errors.telephoneNumber),
    hasPrevious: page !== null && filter.offset > 0,
    hasNext: page !== null && filter.offset + items.length < page.total,
    previousOffset: Math.max(0, filter.offset - (page?.limit ?? 0)),
    nextOffset: filter.offset + items.length,
  };
  return renderCard('number-search', data);
}

/** "+14255550101 · Redmond · toll-free"; the country is added when the search spans all countries. */
function resultLabel(n: PhoneNumber, showCountry: boolean, locale: Locale): string {
  const parts = [n.telephoneNumber, n.city, showCountry ? n.isoCountryCode : undefined, n.tollFree ? strings(locale).number.tollFree : undefined];
  return parts.filter((p): p is string => Boolean(p)).join(' · ');
}
