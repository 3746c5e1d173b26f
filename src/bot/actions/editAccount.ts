import { z } from 'zod';
import { editAccountFormCard } from '../../cards/editAccountForm';
import { refuse } from '../../provisioning/result';
import { refusalReply } from '../accountRequests';
import { settledPlanReply } from '../planView';
import type { CardAction } from '../scope';
import { id, input } from './fields';

const EditData = z.object({
  accountId: id,
  displayName: input(2000),
  accountType: input(100),
});

/** Submit of the edit form: refusal → same form with messages and values kept; else the plan runs. */
export const editAccount: CardAction<z.infer<typeof EditData>> = {
  verb: 'editAccount',
  requires: 'admin',
  data: EditData,
  async handle(scope, data) {
    const { provisioning } = scope.services;
    const { accountId, ...form } = data;
    const result = await provisioning.editAccount(scope.actor, accountId, form);
    if (result.ok) return settledPlanReply(scope.services, result.value, scope.locale);
    // The form shows the account as it is now (it may have moved on since the form was sent).
    const account = await provisioning.getAccount(accountId);
    if (!account) return refusalReply(scope, result.refusals[0] ?? refuse('ACCOUNT_GONE'));
    return editAccountFormCard(account, scope.locale, form, result.refusals);
  },
};
