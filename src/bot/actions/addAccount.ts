import { z } from 'zod';
import { accountDetailsCard } from '../../cards/accountDetails';
import { addAccountFormCard } from '../../cards/addAccountForm';
import type { CardAction } from '../scope';
import { input } from './fields';

const AddAccountData = z.object({
  displayName: input(2000),
  username: input(500),
  domain: input(500),
  accountType: input(100),
  usageLocation: input(100),
  license: input(100),
});

/** Submit of the add form: refusal → same form with messages and values kept; success → the account. */
export const addAccount: CardAction<z.infer<typeof AddAccountData>> = {
  verb: 'addAccount',
  requires: 'admin',
  data: AddAccountData,
  async handle(scope, form) {
    const { provisioning } = scope.services;
    const result = await provisioning.createAccount(scope.actor, form);
    const facts = await provisioning.tenantFacts();
    if (!result.ok) return addAccountFormCard(facts, scope.locale, form, result.refusals);
    return accountDetailsCard(result.value.account, facts.skus, scope.locale, true);
  },
};
