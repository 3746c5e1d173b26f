import { z } from 'zod';
import { describeRefusal } from '../../cards/describe';
import { messageCard } from '../../cards/message';
import { strings } from '../../i18n';
import type { Plan } from '../../provisioning/plans';
import type { ReasonCode, Result } from '../../provisioning/result';
import { settledPlanReply } from '../planView';
import type { Reply, TurnScope } from '../scope';
import { id } from './fields';

export const PlanData = z.object({ planId: id });
export type PlanData = z.infer<typeof PlanData>;

/** Refusals that are about the clicker or the account, not the plan's state: said in words. */
const SAID: ReadonlySet<ReasonCode> = new Set(['PLAN_ACCOUNT_BUSY', 'PLAN_NOT_REQUESTER', 'REQUEST_NOT_REQUESTER', 'REQUEST_NO_APPROVER', 'PLAN_NEEDS_APPROVAL', 'REQUEST_WAITING_ON_ACCOUNT']);

/**
 * A plan button's answer: the plan as it now stands. A double click or a stale card finds the plan
 * already moved on and simply shows its current state (the transition is a compare-and-set).
 */
export async function afterTransition(scope: TurnScope, planId: string, moved: Result<Plan>): Promise<Reply> {
  const { provisioning } = scope.services;
  const plan = await provisioning.plans.get(planId);
  const s = strings(scope.locale).errors;
  if (!plan) {
    return messageCard(s.refusedTitle, describeRefusal(moved.ok ? { ok: false, reason: 'PLAN_NOT_FOUND', params: {} } : moved, scope.locale), 'attention');
  }
  if (!moved.ok && SAID.has(moved.reason)) return messageCard(s.refusedTitle, describeRefusal(moved, scope.locale), 'attention');
  return moved.ok ? settledPlanReply(scope.services, moved.value, scope.locale) : scope.services.views.plan(plan, scope.locale);
}
