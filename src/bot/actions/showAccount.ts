import { z } from 'zod';
import { accountDetailsCard } from '../../cards/accountDetails';
import { describeRefusal } from '../../cards/describe';
import { messageCard } from '../../cards/message';
import { strings } from '../../i18n';
import { refuse } from '../../provisioning/result';
import type { CardAction } from '../scope';
import { id } from './fields';

const ShowData = z.object({ accountId: id });

export const showAccount: CardAction<z.infer<typeof ShowData>> = {
  verb: 'showAccount',
  requires: 'reader',
  data: ShowData,
  async handle(scope, data) {
    const { provisioning } = scope.services;
    const [account, facts] = await Promise.all([provisioning.getAccount(data.accountId), provisioning.tenantFacts()]);
    if (!account) {
      const refusal = refuse('ACCOUNT_GONE');
      return messageCard(strings(scope.locale).errors.refusedTitle, describeRefusal(refusal, scope.locale), 'attention');
    }
    return accountDetailsCard(account, facts.skus, scope.locale, false, scope.roles.admin);
  },
};
