import { PlanKindSchema, type Plan, type PlanKind } from '../provisioning/plans';
import { bound, confirmers, requesters, type ChangeRequest, type RequestStatus } from './requests';

/**
 * Which requests need a second person (four-eyes). By default the destructive and license-changing
 * ones (DOMAIN.md "Every destructive or licence-changing step goes through confirmation and, by
 * policy, approval").
 */
export const DEFAULT_APPROVAL_KINDS: readonly PlanKind[] = ['deleteAccount', 'switchLicense', 'unassignNumber'];

/**
 * Every kind the approval policy can name is enforced by the plan runner: a plan of such a kind waits
 * for confirmation and approval whatever path proposes it (issue 9 item 2). A kind added to plans
 * later is enforceable as soon as it is a plan kind; the configuration accepts nothing else.
 */
export const ENFORCEABLE_APPROVAL_KINDS: readonly PlanKind[] = PlanKindSchema.options;

export interface ApprovalPolicy {
  kinds: ReadonlySet<PlanKind>;
  /** Pending requests expire after this long. */
  expiresAfterMs: number;
  approverIds: readonly string[];
}

export function needsApproval(policy: ApprovalPolicy, kind: PlanKind): boolean {
  return policy.kinds.has(kind);
}

export function isApprover(policy: ApprovalPolicy, aadObjectId: string): boolean {
  const id = aadObjectId.toLowerCase();
  return policy.approverIds.some((a) => a.toLowerCase() === id);
}

/**
 * An approver never decides a change they asked for: neither the proposer nor anyone who confirmed it
 * (four-eyes binds them all, issue 9 item 13) — also an admin-approver whose Confirm only re-sent a
 * pending request.
 */
export function mayDecide(policy: ApprovalPolicy, deciderId: string, request: ChangeRequest): 'ok' | 'notApprover' | 'ownRequest' | 'ownConfirmation' {
  if (!isApprover(policy, deciderId)) return 'notApprover';
  const id = deciderId.toLowerCase();
  if (requesters(request).includes(id)) return 'ownRequest';
  if (confirmers(request).includes(id)) return 'ownConfirmation';
  return 'ok';
}

/** Request statuses that say an approver let the plan run (the request then follows its plan). */
const APPROVED: readonly RequestStatus[] = ['approved', 'executing', 'done', 'failed'];

/**
 * Whether an approval of this plan is on record: its request was approved and names who decided, and
 * that person is neither the proposer nor a confirmer of the plan or of the request. The plan runner
 * runs no step of a plan the policy names without one (README "No bypass of the approval policy").
 */
export function approvalOnRecord(plan: Pick<Plan, 'requestedBy' | 'confirmedBy'>, request: ChangeRequest | undefined): boolean {
  if (!request || !APPROVED.includes(request.status) || !request.decision) return false;
  const decider = request.decision.aadObjectId.toLowerCase();
  if (!decider) return false;
  const askers = [...bound(request), plan.requestedBy.aadObjectId.toLowerCase(), ...(plan.confirmedBy ? [plan.confirmedBy.aadObjectId.toLowerCase()] : [])];
  return !askers.includes(decider);
}

/** The approvers who may decide a request of these requesters. */
export function decidersFor(policy: ApprovalPolicy, requesterIds: readonly string[]): string[] {
  const excluded = new Set(requesterIds.map((r) => r.toLowerCase()));
  return [...new Set(policy.approverIds.map((a) => a.toLowerCase()))].filter((a) => !excluded.has(a));
}
