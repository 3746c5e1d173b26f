import { editAccountFormCard } from '../../cards/editAccountForm';
import { messageCard } from '../../cards/message';
import { strings } from '../../i18n';
import { refusalReply } from '../accountRequests';
import type { Command } from '../scope';

/** "edit <username>": the same form as the account card's Edit button. */
export const editCommand: Command = {
  name: 'edit',
  requires: 'admin',
  async handle(scope, args) {
    const s = strings(scope.locale);
    const username = args.trim().split(/\s+/)[0] ?? '';
    if (!username) return messageCard(s.errors.refusedTitle, s.edit.usage, 'attention');
    const found = await scope.services.provisioning.findAccount(username.slice(0, 200));
    if (!found.ok) return refusalReply(scope, found);
    return editAccountFormCard(found.value, scope.locale);
  },
};
