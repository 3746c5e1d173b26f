import { z } from 'zod';
import { PlanKindSchema } from '../provisioning/plans';

/**
 * A change request: a plan that needs an approver's decision. Status moves
 * pending → approved → executing → done | failed, or pending → rejected | cancelled | expired;
 * every transition is a compare-and-set on `version` (ARCHITECTURE.md "Security baseline").
 */
export const RequestStatusSchema = z.enum(['pending', 'approved', 'executing', 'done', 'failed', 'rejected', 'cancelled', 'expired']);
export type RequestStatus = z.infer<typeof RequestStatusSchema>;

const PersonSchema = z.object({ aadObjectId: z.string(), name: z.string() });

/** A copy of the request's card somewhere in Teams, to update in place after each transition. */
export const SentCardSchema = z.object({
  /** The approver it was sent to, or null for the approvals channel / the requester's own card. */
  audience: z.enum(['approver', 'channel', 'requester']),
  aadObjectId: z.string().nullable(),
  name: z.string().default(''),
  conversation: z.record(z.string(), z.unknown()),
  activityId: z.string(),
  locale: z.enum(['en', 'fr']),
});
export type SentCard = z.infer<typeof SentCardSchema>;

export const ChangeRequestSchema = z.object({
  /** The plan's id: one request per plan, and the audit log ties everything to it. */
  id: z.string(),
  kind: PlanKindSchema,
  account: z.object({ id: z.string().nullable(), userPrincipalName: z.string(), displayName: z.string() }),
  requestedBy: PersonSchema.extend({ userId: z.string().optional() }),
  status: RequestStatusSchema,
  version: z.number().int().nonnegative(),
  createdAt: z.string(),
  expiresAt: z.string(),
  decision: PersonSchema.extend({ at: z.string(), reason: z.string().optional() }).optional(),
  cards: z.array(SentCardSchema).default([]),
  /** Approvers the bot could not reach (not installed for them), told to the requester. */
  unreachable: z.array(PersonSchema).default([]),
});
export type ChangeRequest = z.infer<typeof ChangeRequestSchema>;

export function isOpen(status: RequestStatus): boolean {
  return status === 'pending';
}

export function isFinalRequest(status: RequestStatus): boolean {
  return ['done', 'failed', 'rejected', 'cancelled', 'expired'].includes(status);
}
