import { accountDetailsCard } from '../cards/accountDetails';
import { describeRefusal } from '../cards/describe';
import { messageCard } from '../cards/message';
import { format, strings } from '../i18n';
import type { Plan } from '../provisioning/plans';
import type { Result } from '../provisioning/result';
import type { Reply, TurnScope } from './scope';

/** How an account is named in a command: "show aa-main" or "show aa-main@contoso.com". */
export async function resolveAccountId(scope: TurnScope, args: string): Promise<Result<string>> {
  const username = args.trim().split(/\s+/)[0] ?? '';
  const found = await scope.services.provisioning.findAccount(username.slice(0, 200));
  return found.ok ? { ok: true, value: found.value.id } : found;
}

export function refusalReply(scope: TurnScope, refusal: Extract<Result<unknown>, { ok: false }>): Reply {
  return messageCard(strings(scope.locale).errors.refusedTitle, describeRefusal(refusal, scope.locale), 'attention');
}

/** A proposed plan answers with its card (Confirm / Cancel); a refusal says why and changes nothing. */
export async function proposalReply(scope: TurnScope, proposed: Result<Plan>): Promise<Reply> {
  if (!proposed.ok) return refusalReply(scope, proposed);
  return scope.services.views.plan(proposed.value, scope.locale);
}

/**
 * A button of an account's card (or of a number card about it): a refusal shows the account as it now
 * stands with why, so the card clicked is not replaced by a bare "Not done" that loses what it showed,
 * and its buttons are the ones that apply now. An account gone, or a tenant that cannot be read, leaves
 * the refusal alone.
 */
export async function accountButtonReply(scope: TurnScope, accountId: string, proposed: Result<Plan>): Promise<Reply> {
  if (proposed.ok || proposed.reason === 'ACCOUNT_GONE') return proposalReply(scope, proposed);
  const { provisioning } = scope.services;
  const [account, facts] = await Promise.all([provisioning.getAccount(accountId).catch(() => null), provisioning.tenantFacts().catch(() => null)]);
  if (!account || !facts) return refusalReply(scope, proposed);
  return accountDetailsCard(account, facts.skus, scope.locale, false, scope.roles.admin, describeRefusal(proposed, scope.locale));
}

export type AccountRequest = (scope: TurnScope, accountId: string) => Promise<Result<Plan>>;

/** The confirmable requests on one account, by command and by button. */
export const ACCOUNT_REQUESTS = {
  delete: (scope, accountId) => scope.services.provisioning.planDelete(scope.actor, accountId),
  unassign: (scope, accountId) => scope.services.provisioning.planUnassignNumber(scope.actor, accountId),
  switch: (scope, accountId) => scope.services.provisioning.planSwitchLicense(scope.actor, accountId),
  license: (scope, accountId) => scope.services.provisioning.planAssignLicense(scope.actor, accountId),
  dissociate: (scope, accountId) => scope.services.provisioning.planDissociate(scope.actor, accountId),
} satisfies Record<string, AccountRequest>;

export async function requestByCommand(scope: TurnScope, command: string, args: string, request: AccountRequest): Promise<Reply> {
  const s = strings(scope.locale).errors;
  if (!args.trim()) return messageCard(s.refusedTitle, format(s.accountUsage, { command }), 'attention');
  const accountId = await resolveAccountId(scope, args);
  if (!accountId.ok) return refusalReply(scope, accountId);
  return proposalReply(scope, await request(scope, accountId.value));
}
