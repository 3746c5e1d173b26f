import { z } from 'zod';
import { associateFormCard } from '../../cards/associateForm';
import { refuse } from '../../provisioning/result';
import { refusalReply } from '../accountRequests';
import type { CardAction, Reply, TurnScope } from '../scope';
import { id } from './fields';

const Data = z.object({ accountId: id });

/** The picker of voice applications for one account; also what "associate <username> [text]" shows. */
export async function associateForm(scope: TurnScope, accountId: string, text = ''): Promise<Reply> {
  const { provisioning } = scope.services;
  const [account, apps] = await Promise.all([provisioning.getAccount(accountId), provisioning.listVoiceApplications()]);
  if (!account) return refusalReply(scope, refuse('ACCOUNT_GONE'));
  return associateFormCard(account, apps, scope.locale, { text });
}

/** The account card's "Use with AA / CQ" button. */
export const openAssociate: CardAction<z.infer<typeof Data>> = {
  verb: 'openAssociate',
  requires: 'admin',
  data: Data,
  handle: (scope, data) => associateForm(scope, data.accountId),
};
