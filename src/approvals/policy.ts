import type { PlanKind } from '../provisioning/plans';

/**
 * Which requests need a second person (four-eyes). By default the destructive and license-changing
 * ones (DOMAIN.md "Every destructive or licence-changing step goes through confirmation and, by
 * policy, approval").
 */
export const DEFAULT_APPROVAL_KINDS: readonly PlanKind[] = ['deleteAccount', 'switchLicense', 'unassignNumber'];

export interface ApprovalPolicy {
  kinds: ReadonlySet<PlanKind>;
  /** Pending requests expire after this long. */
  expiresAfterMs: number;
  approverIds: readonly string[];
}

export function needsApproval(policy: ApprovalPolicy, kind: PlanKind): boolean {
  return policy.kinds.has(kind);
}

/** An approver never approves their own request. */
export function mayDecide(policy: ApprovalPolicy, deciderId: string, requesterId: string): 'ok' | 'notApprover' | 'ownRequest' {
  const id = deciderId.toLowerCase();
  if (!policy.approverIds.some((a) => a.toLowerCase() === id)) return 'notApprover';
  if (id === requesterId.toLowerCase()) return 'ownRequest';
  return 'ok';
}
