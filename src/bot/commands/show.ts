import { accountDetailsCard } from '../../cards/accountDetails';
import { describeRefusal } from '../../cards/describe';
import { messageCard } from '../../cards/message';
import { format, strings } from '../../i18n';
import type { Command } from '../scope';

export const show: Command = {
  name: 'show',
  requires: 'reader',
  async handle(scope, args) {
    const s = strings(scope.locale).errors;
    const username = args.trim().split(/\s+/)[0] ?? '';
    if (!username) return messageCard(s.refusedTitle, format(s.accountUsage, { command: 'show' }), 'attention');
    const { provisioning } = scope.services;
    const found = await provisioning.findAccount(username.slice(0, 200));
    if (!found.ok) return messageCard(s.refusedTitle, describeRefusal(found, scope.locale), 'attention');
    const facts = await provisioning.tenantFacts();
    return accountDetailsCard(found.value, facts.skus, scope.locale, false, scope.roles.admin);
  },
};
