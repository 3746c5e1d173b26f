import { exportHistory } from '../history';
import { exportAccounts } from '../importFlow';
import type { Command } from '../scope';
import { messageCard } from '../../cards/message';
import { strings } from '../../i18n';

/** "export history [username]": the audit log as CSV; "export accounts": every resource account, in the import format. */
export const exportCommand: Command = {
  name: 'export',
  requires: 'reader',
  async handle(scope, args) {
    const [what = '', username = ''] = args.trim().split(/\s+/);
    if (what.toLowerCase() === 'accounts' && !username) return exportAccounts(scope);
    if (what.toLowerCase() !== 'history') {
      const s = strings(scope.locale);
      return messageCard(s.errors.refusedTitle, s.errors.exportUsage, 'attention');
    }
    return exportHistory(scope, username.slice(0, 200));
  },
};
