import { z } from 'zod';
import { editAccountFormCard } from '../../cards/editAccountForm';
import { refuse } from '../../provisioning/result';
import { refusalReply } from '../accountRequests';
import type { CardAction } from '../scope';
import { id } from './fields';

const Data = z.object({ accountId: id });

/** The account card's Edit button: the form, prefilled with the account as it is now. */
export const openEditForm: CardAction<z.infer<typeof Data>> = {
  verb: 'openEditForm',
  requires: 'admin',
  data: Data,
  async handle(scope, data) {
    const account = await scope.services.provisioning.getAccount(data.accountId);
    if (!account) return refusalReply(scope, refuse('ACCOUNT_GONE'));
    return editAccountFormCard(account, scope.locale);
  },
};
