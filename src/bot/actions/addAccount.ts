import { z } from 'zod';
import { addAccountFormCard } from '../../cards/addAccountForm';
import { settledPlanReply } from '../planView';
import type { CardAction } from '../scope';
import { input } from './fields';

const AddAccountData = z.object({
  displayName: input(2000),
  username: input(500),
  domain: input(500),
  accountType: input(100),
  usageLocation: input(100),
  license: input(100),
  // Shown in hybrid tenants only; Teams leaves out an input the card did not show.
  telephoneNumber: input(100),
  // The form's id, which becomes its plan's (a double click makes one plan); missing on forms sent before it existed.
  formId: z.string().uuid().optional(),
});

/** Submit of the add form: refusal → same form with messages and values kept; else the plan runs. */
export const addAccount: CardAction<z.infer<typeof AddAccountData>> = {
  verb: 'addAccount',
  requires: 'admin',
  data: AddAccountData,
  async handle(scope, { formId, ...form }) {
    const { provisioning } = scope.services;
    const result = await provisioning.addAccount(scope.actor, form, formId);
    if (!result.ok) return addAccountFormCard(await provisioning.tenantFacts(), scope.locale, form, result.refusals, formId);
    return settledPlanReply(scope.services, result.value, scope.locale);
  },
};
