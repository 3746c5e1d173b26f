import type { ChangeRequest } from '../approvals/requests';
import { isFinalRequest } from '../approvals/requests';
import { format, strings, type Locale } from '../i18n';
import type { ResourceAccount } from '../provisioning/model';
import type { Plan } from '../provisioning/plans';
import { failedStep } from '../provisioning/plans';
import { REASON_CODES, type ReasonCode } from '../provisioning/result';
import { describeRefusal, when } from './describe';
import { batchSummaryLines } from './importBatch';
import type { Tone } from './message';
import { impactOf, stepText } from './planCard';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

export type Viewer = 'approver' | 'requester' | 'other';

export { when } from './describe';

const TONE: Record<ChangeRequest['status'], Tone> = {
  pending: 'warning',
  approved: 'default',
  executing: 'default',
  done: 'good',
  failed: 'attention',
  rejected: 'attention',
  cancelled: 'default',
  expired: 'default',
};

function isReasonCode(reason: string): reason is ReasonCode {
  return (REASON_CODES as readonly string[]).includes(reason);
}

export function approvalStatusLine(request: ChangeRequest, plan: Plan | undefined, locale: Locale): string {
  const s = strings(locale).approval.status;
  const by = request.decision ? { name: plainText(request.decision.name || request.decision.aadObjectId), at: when(request.decision.at) } : { name: '', at: '' };
  switch (request.status) {
    case 'pending':
      return format(s.pending, { expires: when(request.expiresAt) });
    case 'rejected':
      return format(s.rejected, { ...by, reason: plainText(request.decision?.reason ?? '') });
    case 'expired':
      return format(s.expired, { at: when(request.expiresAt) });
    case 'failed': {
      // Failed before anyone decided (its plan vanished, or ran without an approval): say that, not "Approved by".
      if (request.failure && !request.decision && isReasonCode(request.failure.reason)) {
        return describeRefusal({ ok: false, reason: request.failure.reason, params: request.failure.params }, locale);
      }
      const failure = plan ? failedStep(plan) : null;
      const detail = failure?.note ? describeRefusal({ ok: false, reason: failure.note.reason, params: failure.note.params }, locale) : '';
      return format(s.failed, { ...by, detail });
    }
    default:
      return format(s[request.status], by);
  }
}

/**
 * The approval card, as one viewer sees it (Universal Actions user-specific views): approvers get
 * Approve / Reject, the requester Cancel, anyone else a read-only view; once decided, everyone sees
 * the final state (who, when, why). Buttons carry the request id only.
 */
export function approvalRequestCard(
  request: ChangeRequest,
  plan: Plan | undefined,
  viewer: Viewer,
  locale: Locale,
  refreshUserIds: string[],
  unreachable: string[] = [],
  account: ResourceAccount | null = null,
): CardJson {
  const s = strings(locale);
  const what = format(s.plan.title[request.kind], { upn: plainText(request.account.userPrincipalName) });
  const pending = request.status === 'pending';
  const note =
    !pending ? '' : viewer === 'other' ? s.approval.readOnly : viewer === 'requester' && unreachable.length ? format(s.approval.unreachable, { names: unreachable.map(plainText).join(', ') }) : '';
  const card = renderCard('approval-request', {
    s: s.plan,
    a: s.approval,
    title: format(pending ? s.approval.title : s.approval.titleDecided, { what }),
    statusLine: approvalStatusLine(request, plan, locale),
    tone: TONE[request.status],
    facts: [
      { title: s.account.upn, value: plainText(request.account.userPrincipalName) },
      { title: s.approval.requestedBy, value: plainText(request.requestedBy.name || request.requestedBy.aadObjectId) },
      { title: s.approval.requestedAt, value: when(request.createdAt) },
    ],
    // What callers will notice, for the approver to weigh (an AA/CQ losing its number or account).
    impact: pending && plan ? impactOf(plan, account, locale) : '',
    steps: plan?.batch ? batchSummaryLines(plan, locale).map((line, i) => `${i + 1}. ${line}`) : plan ? plan.steps.map(({ step }, i) => `${i + 1}. ${stepText(step, plan, locale)}`) : [],
    note,
    canDecide: viewer === 'approver' && pending,
    canCancel: viewer === 'requester' && pending,
    requestId: request.id,
  });
  // Universal Actions: each listed user's client asks for its own view (≤ 60 ids); none once final.
  card.refresh = {
    action: { type: 'Action.Execute', verb: 'refreshRequest', data: { requestId: request.id } },
    userIds: isFinalRequest(request.status) ? [] : refreshUserIds.slice(0, 60),
  };
  return card;
}
