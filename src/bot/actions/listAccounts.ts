import { z } from 'zod';
import { accountListCard } from '../../cards/accountList';
import type { CardAction } from '../scope';

export const LIST_PAGE_SIZE = 10;

const ListData = z.object({
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
  text: z.string().max(200).optional(),
});

export const listAccounts: CardAction<z.infer<typeof ListData>> = {
  verb: 'listAccounts',
  requires: 'reader',
  data: ListData,
  async handle(scope, data) {
    const { provisioning } = scope.services;
    const [page, facts] = await Promise.all([
      provisioning.listAccounts({ offset: data.offset, limit: LIST_PAGE_SIZE, ...(data.text ? { text: data.text } : {}) }),
      provisioning.tenantFacts(),
    ]);
    return accountListCard(page, facts.skus, scope.locale);
  },
};
