import { z } from 'zod';
import { StoredInstant } from '../store/instant';
import { ActorSchema, PlanKindSchema } from '../provisioning/plans';

/**
 * A change request: a plan that needs an approver's decision. Status moves
 * pending → approved → executing → done | failed, or pending → rejected | cancelled | expired.
 * The request and its plan change together, in one transaction of the workflow store, so that an
 * approved request always has a running plan and a rejected one a cancelled plan (DOMAIN.md F16).
 */
export const RequestStatusSchema = z.enum(['pending', 'approved', 'executing', 'done', 'failed', 'rejected', 'cancelled', 'expired']);
export type RequestStatus = z.infer<typeof RequestStatusSchema>;

export const ChangeRequestSchema = z.object({
  /** The plan's id: one request per plan, and the audit log ties everything to it. */
  id: z.string(),
  kind: PlanKindSchema,
  account: z.object({ id: z.string().nullable(), userPrincipalName: z.string(), displayName: z.string() }),
  /** Who clicked Confirm (and may withdraw it); `userId` is their Teams id for Universal Actions refresh. */
  requestedBy: ActorSchema.extend({ userId: z.string().optional() }),
  /** Who proposed the plan; may differ from the confirmer. Neither may approve (four-eyes, issue 9 item 13). */
  proposedBy: ActorSchema,
  /**
   * Everyone who clicked Confirm on the plan, in order: the first is `requestedBy`, the others confirmed
   * the pending request again (which re-sends it). None of them may decide it. Records written before
   * this field existed lack it; their only confirmer is `requestedBy`.
   */
  confirmedBy: z.array(ActorSchema).optional(),
  status: RequestStatusSchema,
  version: z.number().int().nonnegative(),
  createdAt: StoredInstant,
  expiresAt: StoredInstant,
  decision: ActorSchema.extend({ at: StoredInstant, reason: z.string().optional() }).optional(),
  /** Why a request failed before its plan ran (e.g. another change on the account was running). */
  failure: z.object({ reason: z.string(), params: z.record(z.string(), z.union([z.string(), z.number()])) }).optional(),
});
export type ChangeRequest = z.infer<typeof ChangeRequestSchema>;

export function isOpen(status: RequestStatus): boolean {
  return status === 'pending';
}

export function isFinalRequest(status: RequestStatus): boolean {
  return ['done', 'failed', 'rejected', 'cancelled', 'expired'].includes(status);
}

/**
 * The people who asked for the change: the proposer and the first confirmer (often the same person).
 * They see the requester's view and may withdraw it.
 */
export function requesters(request: ChangeRequest): string[] {
  return [request.requestedBy.aadObjectId.toLowerCase(), request.proposedBy.aadObjectId.toLowerCase()];
}

/** Everyone who confirmed the change, the first confirmer included (lower-case object ids). */
export function confirmers(request: ChangeRequest): string[] {
  return [...new Set([request.requestedBy, ...(request.confirmedBy ?? [])].map((a) => a.aadObjectId.toLowerCase()))];
}

/** Who may not decide the request (four-eyes): the proposer and every confirmer. */
export function bound(request: ChangeRequest): string[] {
  return [...new Set([...requesters(request), ...confirmers(request)])];
}
