import { accountDetailsCard } from '../cards/accountDetails';
import { planCard } from '../cards/planCard';
import type { CardJson } from '../cards/render';
import type { Locale } from '../i18n';
import type { Plan } from '../provisioning/plans';
import type { ProvisioningService } from '../provisioning/service';
import { PlanReply } from './scope';

/** A click is answered within ~2 s (teams-platform.md §3.6): longer plans answer "working" and update later. */
export const CLICK_BUDGET_MS = 1_500;

/** The card for a plan as it stands: a finished add shows the new account, anything else the plan. */
export async function planView(provisioning: ProvisioningService, plan: Plan, locale: Locale): Promise<CardJson> {
  const [facts, account] = await Promise.all([
    provisioning.tenantFacts(),
    plan.account.id && plan.status !== 'done' ? provisioning.getAccount(plan.account.id) : Promise.resolve(null),
  ]);
  if (plan.status === 'done' && plan.kind === 'addAccount' && plan.account.id) {
    const created = await provisioning.getAccount(plan.account.id);
    if (created) return accountDetailsCard(created, facts.skus, locale, true);
  }
  return planCard(plan, facts, locale, account);
}

/** Lets a started plan run for up to the click budget, then shows where it stands. */
export async function settledPlanReply(provisioning: ProvisioningService, plan: Plan, locale: Locale): Promise<PlanReply> {
  const settled = plan.status === 'running' ? ((await provisioning.plans.settle(plan.id, CLICK_BUDGET_MS)) ?? plan) : plan;
  return new PlanReply(await planView(provisioning, settled, locale), plan.id);
}
