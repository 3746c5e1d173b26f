import { z } from 'zod';
import { addAccountFormCard } from '../../cards/addAccountForm';
import type { CardAction } from '../scope';

export const openAddForm: CardAction<Record<string, never>> = {
  verb: 'openAddForm',
  requires: 'admin',
  data: z.object({}).transform(() => ({})),
  async handle(scope) {
    return addAccountFormCard(await scope.services.provisioning.tenantFacts(), scope.locale);
  },
};
