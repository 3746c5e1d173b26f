import { messageCard } from '../../cards/message';
import { strings } from '../../i18n';
import { refusalReply, resolveAccountId } from '../accountRequests';
import { associateForm } from '../actions/openAssociate';
import type { Command } from '../scope';

/** "associate <username> [part of a voice application name]": the same picker as the account card's button. */
export const associateCommand: Command = {
  name: 'associate',
  requires: 'admin',
  async handle(scope, args) {
    const s = strings(scope.locale);
    const [username = '', ...rest] = args.trim().split(/\s+/);
    if (!username) return messageCard(s.errors.refusedTitle, s.associate.usage, 'attention');
    const accountId = await resolveAccountId(scope, username);
    if (!accountId.ok) return refusalReply(scope, accountId);
    return associateForm(scope, accountId.value, rest.join(' ').slice(0, 100));
  },
};
