import { addAccountFormCard } from '../../cards/addAccountForm';
import type { Command } from '../scope';

export const add: Command = {
  name: 'add',
  requires: 'admin',
  async handle(scope) {
    return addAccountFormCard(await scope.services.provisioning.tenantFacts(), scope.locale);
  },
};
