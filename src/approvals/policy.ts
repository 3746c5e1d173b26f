import { PlanKindSchema, type PlanKind } from '../provisioning/plans';

/**
 * Which requests need a second person (four-eyes). By default the destructive and license-changing
 * ones (DOMAIN.md "Every destructive or licence-changing step goes through confirmation and, by
 * policy, approval"). Replacing a broken account (a doctor fix) deletes the old one.
 */
export const DEFAULT_APPROVAL_KINDS: readonly PlanKind[] = ['deleteAccount', 'switchLicense', 'unassignNumber', 'replaceAccount'];

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
 * An approver never approves a change they asked for: neither the proposer nor the one who confirmed
 * it may decide (four-eyes binds both, issue 9 item 13).
 */
export function mayDecide(policy: ApprovalPolicy, deciderId: string, requesterIds: readonly string[]): 'ok' | 'notApprover' | 'ownRequest' {
  if (!isApprover(policy, deciderId)) return 'notApprover';
  const id = deciderId.toLowerCase();
  if (requesterIds.some((r) => r.toLowerCase() === id)) return 'ownRequest';
  return 'ok';
}

/** The approvers who may decide a request of these requesters. */
export function decidersFor(policy: ApprovalPolicy, requesterIds: readonly string[]): string[] {
  const excluded = new Set(requesterIds.map((r) => r.toLowerCase()));
  return [...new Set(policy.approverIds.map((a) => a.toLowerCase()))].filter((a) => !excluded.has(a));
}
