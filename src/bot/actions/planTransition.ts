import { z } from 'zod';
import { describeRefusal } from '../../cards/describe';
import { messageCard } from '../../cards/message';
import { strings } from '../../i18n';
import type { Plan } from '../../provisioning/plans';
import type { Result } from '../../provisioning/result';
import { planView, settledPlanReply } from '../planView';
import { PlanReply, type Reply, type TurnScope } from '../scope';
import { id } from './fields';

export const PlanData = z.object({ planId: id });
export type PlanData = z.infer<typeof PlanData>;

/**
 * A plan button's answer: the plan as it now stands. A double click or a stale card finds the plan
 * already moved on and simply shows its current state (the transition is a compare-and-set).
 */
export async function afterTransition(scope: TurnScope, planId: string, moved: Result<Plan>): Promise<Reply> {
  const { provisioning } = scope.services;
  const plan = provisioning.plans.get(planId);
  if (!plan) {
    const s = strings(scope.locale).errors;
    return messageCard(s.refusedTitle, describeRefusal(moved.ok ? { ok: false, reason: 'PLAN_NOT_FOUND', params: {} } : moved, scope.locale), 'attention');
  }
  if (!moved.ok && moved.reason === 'PLAN_ACCOUNT_BUSY') {
    const s = strings(scope.locale).errors;
    return messageCard(s.refusedTitle, describeRefusal(moved, scope.locale), 'attention');
  }
  return moved.ok ? settledPlanReply(scope.services, moved.value, scope.locale) : new PlanReply(await planView(scope.services, plan, scope.locale), plan.id);
}

