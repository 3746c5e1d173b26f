import { z } from 'zod';
import { AccountTypeSchema, LicenseKindSchema, NumberTypeSchema } from './model';
import { REASON_CODES } from './result';

/**
 * A user request becomes a plan: ordered steps, each validated against current tenant state, acted,
 * then verified; each idempotent so that a plan can resume after a failure or a crash (DOMAIN.md
 * "Plans and steps", teams-apis.md §5.3).
 */
/**
 * A step that acts on another account than the plan's own: replacing a broken account creates the new
 * one (the plan's account) and then takes the old one out of service (DOMAIN.md F2: "the only cure is a
 * new account").
 */
const OtherAccountSchema = z.object({ id: z.string(), userPrincipalName: z.string() });
export type OtherAccount = z.infer<typeof OtherAccountSchema>;

export const StepSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('createAccount'), userPrincipalName: z.string(), displayName: z.string(), accountType: AccountTypeSchema }),
  z.object({ kind: z.literal('setUsageLocation'), usageLocation: z.string().length(2) }),
  z.object({ kind: z.literal('assignLicense'), license: LicenseKindSchema }),
  /** Phone System → Resource Account in ONE license operation (DOMAIN.md F2). */
  z.object({ kind: z.literal('switchLicense') }),
  /** License provisioning takes minutes to hours before a number can be assigned (F14). */
  z.object({ kind: z.literal('awaitLicense') }),
  z.object({ kind: z.literal('assignNumber'), telephoneNumber: z.string(), numberType: NumberTypeSchema }),
  z.object({ kind: z.literal('unassignNumber'), telephoneNumber: z.string(), numberType: NumberTypeSchema, of: OtherAccountSchema.optional() }),
  z.object({ kind: z.literal('associate'), configurationId: z.string(), configurationType: AccountTypeSchema, name: z.string() }),
  z.object({ kind: z.literal('dissociate'), configurationId: z.string(), name: z.string(), of: OtherAccountSchema.optional() }),
  z.object({ kind: z.literal('updateAccount'), displayName: z.string().optional(), accountType: AccountTypeSchema.optional() }),
  z.object({ kind: z.literal('deleteAccount'), of: OtherAccountSchema.optional() }),
  /** A resource account is a disabled user object and must stay one (teams-apis.md §1.1). */
  z.object({ kind: z.literal('blockSignIn') }),
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
  /**
   * Written before the step acts on the tenant (write-ahead): a step found already done after a
   * restart acted in the run that crashed, and is audited as such (issue 9 item 16).
   */
  startedAt: z.string().optional(),
});
export type StepState = z.infer<typeof StepStateSchema>;

export const PlanKindSchema = z.enum([
  'addAccount',
  'assignNumber',
  'unassignNumber',
  'switchLicense',
  'editAccount',
  'associate',
  'dissociate',
  'deleteAccount',
  // Fixes the tenant doctor proposes (src/provisioning/doctorFixes.ts).
  'setUsageLocation',
  'assignLicense',
  'blockSignIn',
  'replaceAccount',
]);
export type PlanKind = z.infer<typeof PlanKindSchema>;

export const PlanStatusSchema = z.enum(['awaitingConfirmation', 'running', 'waiting', 'failed', 'done', 'cancelled']);
export type PlanStatus = z.infer<typeof PlanStatusSchema>;

/** Who runs a plan now (one runner per plan, also across instances) and until when, unless renewed. */
export const LeaseSchema = z.object({ owner: z.string(), until: z.string() });
export type Lease = z.infer<typeof LeaseSchema>;

export const ActorSchema = z.object({ aadObjectId: z.string(), name: z.string() });

export const PlanSchema = z.object({
  id: z.string(),
  kind: PlanKindSchema,
  /** Every transition is a compare-and-set on this version. */
  version: z.number().int().nonnegative(),
  status: PlanStatusSchema,
  account: z.object({ id: z.string().nullable(), userPrincipalName: z.string(), displayName: z.string() }),
  requestedBy: ActorSchema,
  /**
   * Set when the plan was proposed and the approval policy named its kind: it runs only through an
   * approved change request, whatever path tries to start it (issue 9 item 2).
   */
  needsApproval: z.boolean().default(false),
  /** Who confirmed it (the proposer, or another admin): neither may approve it (four-eyes). */
  confirmedBy: ActorSchema.optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  steps: z.array(z.object({ step: StepSchema, state: StepStateSchema })),
  /** When a waiting plan looks again. */
  nextRunAt: z.string().optional(),
  lease: LeaseSchema.optional(),
});
export type Plan = z.infer<typeof PlanSchema>;

/** Plans that a runner owns (running now, or waiting to look at the tenant again). */
export function isActive(status: PlanStatus): boolean {
  return status === 'running' || status === 'waiting';
}

/** Plans that will not change any more. */
export function isFinished(status: PlanStatus): boolean {
  return status === 'done' || status === 'cancelled';
}

/** The step that failed, if any. */
export function failedStep(plan: Plan): { index: number; note?: StepNote } | null {
  const index = plan.steps.findIndex((s) => s.state.status === 'failed');
  if (index < 0) return null;
  const note = plan.steps[index]!.state.note;
  return note ? { index, note } : { index };
}

/** The account a step acts on: its own `of` when it names one, else the plan's. */
export function stepAccount(step: Step, plan: Pick<Plan, 'account'>): { id: string | null; userPrincipalName: string } {
  return 'of' in step && step.of ? step.of : plan.account;
}
