import { refusalReply, resolveAccountId } from '../accountRequests';
import { numberUsageCard, startNumberFlow } from '../numberFlow';
import type { Command } from '../scope';

/** "number <username>": the same start as the account card's "Assign number" button. */
export const numberCommand: Command = {
  name: 'number',
  requires: 'admin',
  async handle(scope, args) {
    if (!args.trim()) return numberUsageCard(scope);
    const accountId = await resolveAccountId(scope, args);
    if (!accountId.ok) return refusalReply(scope, accountId);
    return startNumberFlow(scope, accountId.value);
  },
};
