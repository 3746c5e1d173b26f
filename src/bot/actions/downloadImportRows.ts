import { PlanData, afterTransition } from './planTransition';
import { importLink, noUrlCard } from '../importFlow';
import type { CardAction } from '../scope';

/**
 * "Download rows not imported" on a batch card: the batch card again, with a one-time link to the
 * refused and failed rows (with their reasons) as CSV in the import format. The card stays the batch's
 * card, so its progress keeps updating in place.
 */
export const downloadImportRows: CardAction<PlanData> = {
  verb: 'downloadImportRows',
  requires: 'admin',
  data: PlanData,
  async handle(scope, data) {
    const plan = await scope.services.provisioning.plans.get(data.planId);
    if (!plan?.batch) return afterTransition(scope, data.planId, { ok: false, reason: 'PLAN_NOT_FOUND', params: {} });
    const download = await importLink(scope, `switchboard-import-${plan.account.userPrincipalName}-not-imported.csv`, { kind: 'importRows', subject: plan.id });
    return download ? scope.services.views.plan(plan, scope.locale, download) : noUrlCard(scope);
  },
};
