import { z } from 'zod';
import { AccountTypeSchema, LicenseKindSchema, NumberTypeSchema } from './model';
import { REASON_CODES } from './result';

/**
 * A user request becomes a plan: ordered steps, each validated against current tenant state, acted,
 * then verified; each idempotent so that a plan can resume after a failure or a crash (DOMAIN.md
 * "Plans and steps", teams-apis.md §5.3).
 */
export const StepSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('createAccount'), userPrincipalName: z.string(), displayName: z.string(), accountType: AccountTypeSchema }),
  z.object({ kind: z.literal('setUsageLocation'), usageLocation: z.string().length(2) }),
  z.object({ kind: z.literal('assignLicense'), license: LicenseKindSchema }),
  /** Phone System → Resource Account in ONE license operation (DOMAIN.md F2). */
  z.object({ kind: z.literal('switchLicense') }),
  /** License provisioning takes minutes to hours before a number can be assigned (F14). */
  z.object({ kind: z.literal('awaitLicense') }),
  z.object({ kind: z.literal('assignNumber'), telephoneNumber: z.string(), numberType: NumberTypeSchema }),
  z.object({ kind: z.literal('unassignNumber'), telephoneNumber: z.string(), numberType: NumberTypeSchema }),
  z.object({ kind: z.literal('associate'), configurationId: z.string(), configurationType: AccountTypeSchema, name: z.string() }),
  z.object({ kind: z.literal('dissociate'), configurationId: z.string(), name: z.string() }),
  z.object({ kind: z.literal('updateAccount'), displayName: z.string().optional(), accountType: AccountTypeSchema.optional() }),
  z.object({ kind: z.literal('deleteAccount') }),
]);
export type Step = z.infer<typeof StepSchema>;
export type StepKind = Step['kind'];

const NoteSchema = z.object({ reason: z.enum(REASON_CODES), params: z.record(z.string(), z.union([z.string(), z.number()])) });
export type StepNote = z.infer<typeof NoteSchema>;

export const StepStateSchema = z.object({
  status: z.enum(['pending', 'waiting', 'done', 'failed']),
  /** A tenant operation started by this step (Graph 202 + Location), saved before it is polled. */
  operationId: z.string().optional(),
  /** How many times the step found the tenant not ready yet (drives the back-off). */
  waits: z.number().int().nonnegative().optional(),
  /** Why the step waits or failed. */
  note: NoteSchema.optional(),
  finishedAt: z.string().optional(),
});
export type StepState = z.infer<typeof StepStateSchema>;

export const PlanKindSchema = z.enum(['addAccount', 'assignNumber', 'unassignNumber', 'switchLicense', 'editAccount', 'associate', 'dissociate', 'deleteAccount']);
export type PlanKind = z.infer<typeof PlanKindSchema>;

export const PlanStatusSchema = z.enum(['awaitingConfirmation', 'running', 'waiting', 'failed', 'done', 'cancelled']);
export type PlanStatus = z.infer<typeof PlanStatusSchema>;

/** Where the plan's card lives, so that it can be updated in place when the plan moves on. */
export const CardRefSchema = z.object({
  /** An opaque conversation reference saved from an authenticated activity (bot layer). */
  conversation: z.record(z.string(), z.unknown()),
  activityId: z.string().optional(),
  locale: z.enum(['en', 'fr']),
  /** The plan status the card shows now, so that an update never repeats (or undoes) what is shown. */
  shownStatus: PlanStatusSchema.optional(),
});
export type CardRef = z.infer<typeof CardRefSchema>;

export const PlanSchema = z.object({
  id: z.string(),
  kind: PlanKindSchema,
  /** Every transition is a compare-and-set on this version. */
  version: z.number().int().nonnegative(),
  status: PlanStatusSchema,
  account: z.object({ id: z.string().nullable(), userPrincipalName: z.string(), displayName: z.string() }),
  requestedBy: z.object({ aadObjectId: z.string(), name: z.string() }),
  createdAt: z.string(),
  updatedAt: z.string(),
  steps: z.array(z.object({ step: StepSchema, state: StepStateSchema })),
  /** When a waiting plan looks again. */
  nextRunAt: z.string().optional(),
  card: CardRefSchema.optional(),
});
export type Plan = z.infer<typeof PlanSchema>;

/** The step that failed, if any. */
export function failedStep(plan: Plan): { index: number; note?: StepNote } | null {
  const index = plan.steps.findIndex((s) => s.state.status === 'failed');
  if (index < 0) return null;
  const note = plan.steps[index]!.state.note;
  return note ? { index, note } : { index };
}
