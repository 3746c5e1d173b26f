import { z } from 'zod';
import { accountListCard, accountQuery, ACCOUNT_TYPE_FILTERS, LICENSE_FILTERS, NUMBER_FILTERS, SEARCH_MAX, type ListFilters } from '../../cards/accountList';
import type { CardAction } from '../scope';
import { input } from './fields';

export const LIST_PAGE_SIZE = 10;

/** A filter input: one of its values; empty or absent (Playground omits empty inputs) means "all". */
const filter = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess((raw) => (raw === undefined || raw === '' ? values[0] : raw), z.enum(values));

const ListData = z.object({
  // Large tenants hold thousands of accounts: an offset far beyond them is clamped, not refused.
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
  accountType: filter(ACCOUNT_TYPE_FILTERS),
  license: filter(LICENSE_FILTERS),
  number: filter(NUMBER_FILTERS),
  text: input(SEARCH_MAX),
});

export type ListRequest = ListFilters & { offset: number };

/** One page of the filtered list; Previous / Next / Apply all come back here. */
export const listAccounts: CardAction<ListRequest> = {
  verb: 'listAccounts',
  requires: 'reader',
  data: ListData,
  async handle(scope, data) {
    const { provisioning } = scope.services;
    const { offset, ...filters } = data;
    const [first, facts] = await Promise.all([provisioning.listAccounts(accountQuery(filters, offset, LIST_PAGE_SIZE)), provisioning.tenantFacts()]);
    // A stale card (accounts deleted since, or a filter that now matches fewer) lands on the last page.
    const page =
      first.items.length === 0 && first.total > 0
        ? await provisioning.listAccounts(accountQuery(filters, Math.floor((first.total - 1) / LIST_PAGE_SIZE) * LIST_PAGE_SIZE, LIST_PAGE_SIZE))
        : first;
    return accountListCard(page, facts.skus, scope.locale, { ...filters, text: filters.text.trim() });
  },
};
