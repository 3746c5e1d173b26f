import { format, strings, type Locale } from '../i18n';
import type { AccountQuery, Page } from '../provisioning/directory';
import type { AccountSummary, LicenseSku } from '../provisioning/model';
import { accountRow } from './describe';
import { renderCard, type CardJson } from './render';

/** The list card's filter inputs and the values each can take; the first value means "no filter". */
export const ACCOUNT_TYPE_FILTERS = ['all', 'autoAttendant', 'callQueue'] as const;
export const LICENSE_FILTERS = ['all', 'licensed', 'unlicensed'] as const;
export const NUMBER_FILTERS = ['all', 'with', 'without'] as const;
export const SEARCH_MAX = 200;

/**
 * What the list shows: the card's inputs, and the data its Previous / Next buttons carry. Those
 * buttons send no inputs (associatedInputs "none"), so that paging keeps the filters that were
 * applied, not a half-edited search; Apply sends the inputs and starts again at the first page.
 */
export interface ListFilters {
  accountType: (typeof ACCOUNT_TYPE_FILTERS)[number];
  license: (typeof LICENSE_FILTERS)[number];
  number: (typeof NUMBER_FILTERS)[number];
  text: string;
}

export const NO_FILTERS: ListFilters = { accountType: 'all', license: 'all', number: 'all', text: '' };

/** The directory query for one page of the filtered list. */
export function accountQuery(filters: ListFilters, offset: number, limit: number): AccountQuery {
  const text = filters.text.trim();
  return {
    offset,
    limit,
    ...(filters.accountType !== 'all' ? { accountType: filters.accountType } : {}),
    ...(filters.license !== 'all' ? { licensed: filters.license === 'licensed' } : {}),
    ...(filters.number !== 'all' ? { hasNumber: filters.number === 'with' } : {}),
    ...(text ? { text } : {}),
  };
}

/**
 * "11–20 of 10,000": tenants can hold thousands of accounts, so the counts get digit grouping. One
 * formatter per language, made once: building an Intl.NumberFormat took longer than the rest of a
 * list page's card (bench/results.md, issue 13).
 */
const COUNT_FORMATS: Record<Locale, Intl.NumberFormat> = { en: new Intl.NumberFormat('en'), fr: new Intl.NumberFormat('fr') };

export function accountListCard(page: Page<AccountSummary>, skus: readonly LicenseSku[], locale: Locale, filters: ListFilters = NO_FILTERS): CardJson {
  const all = strings(locale);
  const s = all.list;
  const rows = page.items.map((a) => accountRow(a, skus, locale));
  const count = COUNT_FORMATS[locale];
  const from = page.total === 0 ? 0 : page.offset + 1;
  return renderCard('account-list', {
    s,
    rows,
    filters,
    typeChoices: [
      { title: s.allTypes, value: 'all' },
      { title: all.accountType.autoAttendant, value: 'autoAttendant' },
      { title: all.accountType.callQueue, value: 'callQueue' },
    ],
    licenseChoices: [
      { title: s.anyLicense, value: 'all' },
      { title: s.licensed, value: 'licensed' },
      { title: s.unlicensed, value: 'unlicensed' },
    ],
    numberChoices: [
      { title: s.anyNumber, value: 'all' },
      { title: s.withNumber, value: 'with' },
      { title: s.withoutNumber, value: 'without' },
    ],
    // An empty page says "No resource accounts match" alone, not "0–0 of 0" above it.
    summary: rows.length === 0 ? '' : format(s.summary, { from: count.format(from), to: count.format(page.offset + rows.length), total: count.format(page.total) }),
    hasPrevious: page.offset > 0,
    hasNext: page.offset + rows.length < page.total,
    previousOffset: Math.max(0, page.offset - page.limit),
    nextOffset: page.offset + page.limit,
  });
}
