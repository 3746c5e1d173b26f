import { z } from 'zod';
import { StoredInstant } from '../store/instant';
import { AccountTypeSchema, LicenseKindSchema, NumberTypeSchema } from './model';
import type { WorkflowTx } from '../store/workflow';
import { ok, REASON_CODES, refuse, type Result } from './result';

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
  /**
   * Hybrid tenants: the account is created on Skype for Business Server 2019 by an admin (the plan card
   * shows the command) and synchronised to Entra ID; this step waits until it arrives (DOMAIN.md §7).
   */
  z.object({
    kind: z.literal('awaitOnPremisesAccount'),
    userPrincipalName: z.string(),
    displayName: z.string(),
    accountType: AccountTypeSchema,
    lineUri: z.string().optional(),
    ou: z.string().optional(),
  }),
  // ifMissing: only when the account has none by the time the step runs (licensing an existing account:
  // a usage location someone set after the plan was made is theirs to keep).
  z.object({ kind: z.literal('setUsageLocation'), usageLocation: z.string().length(2), ifMissing: z.literal(true).optional() }),
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
  finishedAt: StoredInstant.optional(),
  /**
   * Written before the step acts on the tenant (write-ahead): a step found already done after a
   * restart acted in the run that crashed, and is audited as such (issue 9 item 16).
   */
  startedAt: StoredInstant.optional(),
  /**
   * The step's change may already have been made, though the step is not done: a run stopped mid-step
   * (afterRestart), or a call of the step failed (afterFailedCall: its answer lost, or the tenant then
   * showed the change on its way). Kept while it waits, fails and is retried; found done, it is audited.
   */
  mayHaveActed: z.enum(['afterRestart', 'afterFailedCall']).optional(),
});
export type StepState = z.infer<typeof StepStateSchema>;

/** The steps that only watch the tenant: nothing of theirs can have been made by a call that failed. */
export const WATCHING_STEPS: ReadonlySet<StepKind> = new Set<StepKind>(['awaitLicense', 'awaitOnPremisesAccount']);

/** A failed step made pending again (Retry, a hold for approval): what it may already have made is kept. */
export function reopened(state: StepState): StepState {
  return state.status === 'failed' ? { status: 'pending', ...(state.mayHaveActed ? { mayHaveActed: state.mayHaveActed } : {}) } : state;
}

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
  // Bulk import (src/provisioning/batch.ts).
  'importAccounts',
]);
export type PlanKind = z.infer<typeof PlanKindSchema>;

export const PlanStatusSchema = z.enum(['awaitingConfirmation', 'running', 'waiting', 'failed', 'done', 'cancelled']);
export type PlanStatus = z.infer<typeof PlanStatusSchema>;

/** Who runs a plan now (one runner per plan, also across instances) and until when, unless renewed. */
export const LeaseSchema = z.object({ owner: z.string(), until: StoredInstant });
export type Lease = z.infer<typeof LeaseSchema>;

export const ActorSchema = z.object({ aadObjectId: z.string(), name: z.string() });

/** Bulk import (src/provisioning/import.ts): at most this many rows in one batch, as the import card says. */
export const MAX_BATCH_ROWS = 500;

/** A row of an import that passed every rule: it becomes one addAccount plan of the batch. */
export const BatchRowSchema = z.object({
  /** The line of the CSV text the row starts on, as the admin's editor shows it. */
  line: z.number().int().positive(),
  displayName: z.string(),
  userPrincipalName: z.string(),
  accountType: AccountTypeSchema,
  usageLocation: z.string().length(2).nullable(),
  license: LicenseKindSchema.nullable(),
  numberType: NumberTypeSchema.optional(),
  telephoneNumber: z.string().optional(),
});
export type BatchRow = z.infer<typeof BatchRowSchema>;

/** A row the preview refused, with its cells as given (for the download) and every reason. */
export const RefusedRowSchema = z.object({
  line: z.number().int().positive(),
  /** displayName, username, domain, type, usageLocation, license, numberType, number. */
  cells: z.array(z.string().max(400)).max(8),
  reasons: z.array(NoteSchema).min(1).max(8),
});
export type RefusedRow = z.infer<typeof RefusedRowSchema>;

/**
 * What an importAccounts plan carries instead of steps: the rows to create, each run as a child
 * addAccount plan (`parentId`) with at most `concurrency` running at a time, and the rows the preview
 * refused. The batch record is written when it is proposed and when its status changes, not per row:
 * a row's progress lives in its own child plan.
 */
export const BatchSchema = z.object({
  source: z.enum(['paste', 'file']),
  fileName: z.string().max(200).optional(),
  /** Data rows in the CSV (ready + refused). */
  total: z.number().int().nonnegative(),
  rows: z.array(BatchRowSchema).max(MAX_BATCH_ROWS),
  refused: z.array(RefusedRowSchema).max(MAX_BATCH_ROWS),
  concurrency: z.number().int().min(1).max(16),
});
export type Batch = z.infer<typeof BatchSchema>;

/** The id of the child plan that runs row `index` of a batch: derived, so the batch needs no write per row. */
export function batchChildId(batchId: string, index: number): string {
  return `${batchId}:${index}`;
}

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
  createdAt: StoredInstant,
  updatedAt: StoredInstant,
  steps: z.array(z.object({ step: StepSchema, state: StepStateSchema })),
  /**
   * Why the runner held the plan back instead of running it (no approval on record for a kind the
   * policy names): its card says so until an approver lets it carry on. Absent on older records.
   */
  held: NoteSchema.extend({ at: StoredInstant }).optional(),
  /** When a waiting plan looks again. */
  nextRunAt: StoredInstant.optional(),
  lease: LeaseSchema.optional(),
  /** A row of an import batch: the batch's id (the batch was confirmed and approved as a whole). */
  parentId: z.string().optional(),
  /** An importAccounts plan: its rows (src/provisioning/batch.ts runs them). */
  batch: BatchSchema.optional(),
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

/**
 * Every account a plan acts on, lower-cased and sorted (a fixed order for per-account locks): its own,
 * and each other one its steps name (replacing a broken account unlinks and deletes the old one).
 */
export function accountsOf(plan: { account: Pick<Plan['account'], 'userPrincipalName'>; steps: readonly (Step | { step: Step })[] }): string[] {
  const upns = new Set([plan.account.userPrincipalName.toLowerCase()]);
  for (const item of plan.steps) {
    const step = 'step' in item ? item.step : item;
    if ('of' in step && step.of) upns.add(step.of.userPrincipalName.toLowerCase());
  }
  return [...upns].sort();
}

/**
 * A change request that waits for an approver holds every account its plan acts on: the approver judges
 * them as the request found them, and a second request approved after the first (a number released
 * from an account deleted meanwhile) would run against a tenant nobody looked at. Expired requests do
 * not count (their expiry is written lazily).
 */
export async function requestWaitingOn(tx: WorkflowTx, upns: readonly string[], exceptPlanId: string, at: Date): Promise<Result<void>> {
  for (const upn of upns) {
    const [waiting] = await tx.pendingRequestsOn(upn, exceptPlanId, at);
    if (!waiting) continue;
    return refuse('REQUEST_WAITING_ON_ACCOUNT', {
      upn,
      change: waiting.kind,
      subject: waiting.account.userPrincipalName,
      name: waiting.requestedBy.name || waiting.requestedBy.aadObjectId,
      at: waiting.createdAt,
    });
  }
  return ok(undefined);
}
