import { aroundCalls, TENANT_CHANGES, type NumberOperation, type TenantDirectory } from './directory';
import { freeSeats, licenseKindsOf, type ResourceAccount, type TenantFacts } from './model';
import { checkNumberAssignable, checkNumberCountry, countryOfCallingCode } from './numbers';
import { checkOwnedOnline } from './hybrid';
import type { Step, StepNote, StepState } from './plans';
import { DirectoryRefusal, type MessageParams, type ReasonCode } from './result';
import { checkFreeSeat, checkUsageLocationBeforeLicense, findSku } from './rules';

export interface StepContext {
  directory: TenantDirectory;
  /** The runner's clock (tests move it). */
  now?: () => Date;
  facts: TenantFacts;
  /** The plan's account, null until the createAccount step made it. */
  accountId: string | null;
  userPrincipalName: string;
  /** The accounts (lower-case UPNs) the plan itself deletes: one of them gone may be the plan's own doing. */
  deletes?: readonly string[];
}

/**
 * `mayHaveActed`: a call of this step failed, and the step was then found done or on its way (the
 * change may be this run's own, whose answer was lost, or a concurrent run's), or a fault stopped it
 * after it started. Either way the change was made for this plan, and is audited once found done.
 */
export type StepOutcome =
  | { status: 'done'; accountId?: string; acted: boolean; mayHaveActed?: true }
  | { status: 'waiting'; operationId?: string; note: StepNote; mayHaveActed?: true }
  | { status: 'failed'; note: StepNote; mayHaveActed?: true };

/** How long a hybrid add waits for its account to arrive from on-premises before it fails (retryable). */
export const HYBRID_SYNC_WAIT_MS = 48 * 3_600_000;

const done = (acted: boolean, accountId?: string): StepOutcome => (accountId ? { status: 'done', acted, accountId } : { status: 'done', acted });
const fail = (reason: ReasonCode, params: MessageParams = {}): StepOutcome => ({ status: 'failed', note: { reason, params } });
const wait = (reason: ReasonCode, params: MessageParams, operationId?: string): StepOutcome =>
  operationId ? { status: 'waiting', operationId, note: { reason, params } } : { status: 'waiting', note: { reason, params } };

/**
 * Runs one step: observe the tenant → decide (already done? still allowed?) → act → verify. Re-running
 * a done step is a no-op, so a plan can resume after a failure or a crash (DOMAIN.md, teams-apis.md §5.3).
 */
export async function executeStep(ctx: StepContext, step: Step, state: StepState): Promise<StepOutcome> {
  // A step on another account (replacing a broken one) observes and acts on that account only.
  const on = 'of' in step && step.of ? { ...ctx, accountId: step.of.id, userPrincipalName: step.of.userPrincipalName } : ctx;
  let actFailed = false;
  const directory = withActs(on.directory, async (act) => {
    try {
      return await act();
    } catch (error) {
      actFailed = true;
      throw error;
    }
  });
  try {
    return await STEPS[step.kind]({ ...on, directory }, step as never, state);
  } catch (e) {
    // "User not found" right after creation is propagation delay, not a refusal (F13): wait and retry.
    if (e instanceof DirectoryRefusal && e.reason === 'ACCOUNT_NOT_YET_VISIBLE') return wait(e.reason, e.params);
    // The same step may run twice at once: a runner that stalled past its lease still finishes the
    // step it started while the instance that took the plan over runs it too. Both observe before
    // either acts, and the tenant refuses the second act (the name is taken, the number assigned, the
    // account gone), with a refusal we know or with an error we do not (Microsoft documents none for
    // these). A failed act is therefore looked at again, acting on nothing: if the tenant now shows
    // the step done, or on its way, that is the outcome, whoever acted. Otherwise the act's own error
    // stands: the tenant's refusal, or a fault that parks the plan with Retry.
    const again = actFailed ? await lookAgain(on, step, state) : null;
    if (again) return again;
    if (!(e instanceof DirectoryRefusal)) throw e;
    return fail(e.reason, e.params);
  }
}

/** Thrown instead of changing the tenant while a step only looks again. */
class WouldAct extends Error {}

/**
 * The step's own observation and decision with its acts stopped: done, or on its way; null when it
 * would act again, fails, or the tenant cannot be read (the act's own error then stands).
 */
async function lookAgain(ctx: StepContext, step: Step, state: StepState): Promise<StepOutcome | null> {
  const observing = withActs(ctx.directory, () => Promise.reject(new WouldAct()));
  try {
    const outcome = await STEPS[step.kind]({ ...ctx, directory: observing }, step as never, state);
    if (outcome.status === 'done') return { status: 'done', acted: false, mayHaveActed: true, ...(outcome.accountId ? { accountId: outcome.accountId } : {}) };
    if (outcome.status === 'waiting') return { ...outcome, mayHaveActed: true };
    return null;
  } catch {
    return null;
  }
}

/** The directory with every call that changes the tenant passed through `act`; reads go straight through. */
function withActs(directory: TenantDirectory, act: (call: () => Promise<unknown>) => Promise<unknown>): TenantDirectory {
  return aroundCalls(directory, act, TENANT_CHANGES);
}

type Executor<K extends Step['kind']> = (ctx: StepContext, step: Extract<Step, { kind: K }>, state: StepState) => Promise<StepOutcome>;

async function account(ctx: StepContext): Promise<ResourceAccount | null> {
  return ctx.accountId ? ctx.directory.getAccount(ctx.accountId) : ctx.directory.findAccountByUpn(ctx.userPrincipalName);
}

async function requireAccount(ctx: StepContext): Promise<ResourceAccount> {
  const found = await account(ctx);
  if (!found) throw new DirectoryRefusal('ACCOUNT_NOT_FOUND', { username: ctx.userPrincipalName });
  return found;
}

/** Our own earlier attempt (a crash after the tenant created it, or a second run of the step) counts as done; anyone else's account is a clash. */
function ownOrClash(existing: ResourceAccount, step: Extract<Step, { kind: 'createAccount' }>): StepOutcome {
  if (existing.accountType === step.accountType && existing.displayName === step.displayName) return done(false, existing.id);
  return fail('UPN_IN_USE', { upn: existing.userPrincipalName });
}

/** A broken account cannot be cured, only replaced (teams-apis.md §1.4): nothing more is done to it. */
async function requireWorkingAccount(ctx: StepContext): Promise<ResourceAccount> {
  const found = await requireAccount(ctx);
  if (found.broken) throw new DirectoryRefusal('ACCOUNT_BROKEN', { upn: found.userPrincipalName });
  return found;
}

const STEPS: { [K in Step['kind']]: Executor<K> } = {
  async createAccount(ctx, step) {
    const existing = await ctx.directory.findAccountByUpn(step.userPrincipalName);
    if (existing) return ownOrClash(existing, step);
    const created = await ctx.directory.createAccount(step);
    return done(true, created.id);
  },

  async awaitOnPremisesAccount(ctx, step, state) {
    const found = await ctx.directory.findAccountByUpn(step.userPrincipalName);
    if (!found) {
      // Entra Connect syncs every 30 minutes by default; an admin may take a day to run the command.
      // Past that the plan fails, so that it can be cancelled or retried rather than wait for ever.
      const since = state.startedAt ? Date.parse(state.startedAt) : NaN;
      const now = (ctx.now?.() ?? new Date()).getTime();
      if (Number.isFinite(since) && now - since > HYBRID_SYNC_WAIT_MS) return fail('HYBRID_SYNC_TIMEOUT', { upn: step.userPrincipalName, hours: HYBRID_SYNC_WAIT_MS / 3_600_000 });
      return wait('HYBRID_AWAITING_SYNC', { upn: step.userPrincipalName });
    }
    // An account made online under that name is not the one the admin was asked to create on-premises.
    if (!found.onPremisesSynced) return fail('HYBRID_NOT_SYNCED', { upn: found.userPrincipalName });
    if (found.accountType !== step.accountType) return fail('HYBRID_TYPE_MISMATCH', { upn: found.userPrincipalName, accountType: found.accountType, expected: step.accountType });
    // Not a change of ours, but the moment the plan could go on: audited as this step's outcome.
    return done(true, found.id);
  },

  async setUsageLocation(ctx, step) {
    const current = await requireAccount(ctx);
    if (current.usageLocation === step.usageLocation || (step.ifMissing && current.usageLocation)) return done(false);
    await ctx.directory.setUsageLocation(current.id, step.usageLocation);
    return done(true);
  },

  async assignLicense(ctx, step) {
    const current = await requireWorkingAccount(ctx);
    const sku = findSku(ctx.facts, step.license);
    if (!sku.ok) return fail(sku.reason, sku.params);
    if (current.assignedLicenses.includes(sku.value.skuId)) return done(false);
    // An account that got Phone System since the plan was made is switched, in one operation (F2).
    if (step.license === 'resourceAccount' && licenseKindsOf(current, ctx.facts.skus).includes('phoneSystem')) return fail('LICENSE_USE_SWITCH', { upn: current.userPrincipalName });
    const refusal = checkUsageLocationBeforeLicense(current.usageLocation) ?? checkFreeSeat(sku.value);
    if (refusal) return fail(refusal.reason, refusal.params);
    await ctx.directory.assignLicense(current.id, { addSkuIds: [sku.value.skuId], removeSkuIds: [] });
    return done(true);
  },

  async switchLicense(ctx) {
    const current = await requireWorkingAccount(ctx);
    const target = findSku(ctx.facts, 'resourceAccount');
    if (!target.ok) return fail(target.reason, target.params);
    const phoneSystem = ctx.facts.skus.filter((s) => s.kind === 'phoneSystem' && current.assignedLicenses.includes(s.skuId));
    const hasTarget = current.assignedLicenses.includes(target.value.skuId);
    if (hasTarget && phoneSystem.length === 0) return done(false);
    if (phoneSystem.length === 0) return fail('LICENSE_SWITCH_NOT_APPLICABLE', { upn: current.userPrincipalName });
    if (!hasTarget && freeSeats(target.value) === 0) {
      return fail('LICENSE_NO_FREE_SEAT', { sku: target.value.skuPartNumber, enabled: target.value.enabled, free: 0 });
    }
    // One assignLicense call with both lists: removing Phone System first can break the account (F2).
    await ctx.directory.assignLicense(current.id, {
      addSkuIds: hasTarget ? [] : [target.value.skuId],
      removeSkuIds: phoneSystem.map((s) => s.skuId),
    });
    return done(true);
  },

  async awaitLicense(ctx) {
    const current = await requireAccount(ctx);
    if (licenseKindsOf(current, ctx.facts.skus).length === 0) return fail('NUMBER_ACCOUNT_NOT_LICENSED', { upn: current.userPrincipalName });
    const provisioning = await ctx.directory.getLicenseProvisioning(current.id);
    if (provisioning === 'success') return done(false);
    if (provisioning === 'pending') return wait('LICENSE_PROVISIONING_PENDING', { upn: current.userPrincipalName });
    if (provisioning === 'error') return fail('ACCOUNT_BROKEN', { upn: current.userPrincipalName });
    return fail('NUMBER_ACCOUNT_NOT_LICENSED', { upn: current.userPrincipalName });
  },

  async assignNumber(ctx, step, state) {
    const current = await requireWorkingAccount(ctx);
    const params = { number: step.telephoneNumber, upn: current.userPrincipalName };
    if (state.operationId) {
      const operation = await ctx.directory.getNumberOperation(state.operationId);
      if (operation && (operation.status === 'running' || operation.status === 'notStarted')) {
        return wait('NUMBER_PENDING', { ...params, state: operation.status }, state.operationId);
      }
      // "User not found" right after creation is propagation delay (F13): assign again below.
      if (operation?.status === 'failed' && operation.reason !== 'ACCOUNT_NOT_YET_VISIBLE') return operationFailed(operation, params);
    }
    const number = await ctx.directory.getPhoneNumber(step.telephoneNumber);
    if (number && number.assignmentTargetId === current.id) {
      if (number.activationState === 'activated') return done(false);
      return wait('NUMBER_PENDING', { ...params, state: number.activationState }, state.operationId);
    }
    if (current.phoneNumber) return fail('NUMBER_ACCOUNT_HAS_NUMBER', { upn: current.userPrincipalName, number: current.phoneNumber });
    if (number) {
      const refusal = checkNumberAssignable(number, step.numberType, current, (id) => id);
      if (refusal) return fail(refusal.reason, refusal.params);
    } else if (step.numberType !== 'directRouting') {
      return fail('NUMBER_NOT_FOUND', { number: step.telephoneNumber });
    } else {
      const country = countryOfCallingCode(step.telephoneNumber);
      const mismatch = country ? checkNumberCountry(step.telephoneNumber, country, current) : null;
      if (mismatch) return fail(mismatch.reason, mismatch.params);
    }
    if (licenseKindsOf(current, ctx.facts.skus).length === 0) return fail('NUMBER_ACCOUNT_NOT_LICENSED', { upn: current.userPrincipalName });
    const operation = await ctx.directory.assignNumber({ telephoneNumber: step.telephoneNumber, numberType: step.numberType, assignmentTargetId: current.id });
    if (operation.status === 'failed') return operationFailed(operation, params);
    if (operation.status === 'succeeded') return verifyAssigned(ctx, step.telephoneNumber, current.id, operation.id);
    return wait('NUMBER_PENDING', { ...params, state: operation.status }, operation.id);
  },

  async unassignNumber(ctx, step, state) {
    const current = await account(ctx);
    if (!current) return vanished(ctx);
    const params = { number: step.telephoneNumber, upn: ctx.userPrincipalName };
    const number = await ctx.directory.getPhoneNumber(step.telephoneNumber);
    const stillOurs = number !== null && number.assignmentTargetId === current.id;
    if (!stillOurs) return done(false);
    // Wait until it is really unassigned, not pending: deleting earlier strands the number (F1).
    if (number.activationState !== 'activated') return wait('NUMBER_PENDING', { ...params, state: number.activationState }, state.operationId);
    if (state.operationId) {
      const operation = await ctx.directory.getNumberOperation(state.operationId);
      if (operation?.status === 'failed') return operationFailed(operation, params);
    }
    const operation = await ctx.directory.unassignNumber({ telephoneNumber: step.telephoneNumber, numberType: step.numberType });
    if (operation.status === 'failed') return operationFailed(operation, params);
    const after = await ctx.directory.getPhoneNumber(step.telephoneNumber);
    if (!after || after.assignmentTargetId !== current.id) return done(true);
    return wait('NUMBER_PENDING', { ...params, state: after.activationState }, operation.id);
  },

  async associate(ctx, step) {
    const current = await requireAccount(ctx);
    if (current.associations.some((a) => a.configurationId === step.configurationId)) return done(false);
    // The tenant may have moved since the plan was made (DOMAIN.md F15): the same rules as the proposal.
    if (current.broken) return fail('ACCOUNT_BROKEN', { upn: current.userPrincipalName });
    const app = (await ctx.directory.listVoiceApplications()).find((a) => a.configurationId === step.configurationId);
    if (!app) return fail('VOICE_APP_NOT_FOUND', { name: step.name });
    const other = current.associations[0];
    if (other) return fail('ACCOUNT_ALREADY_ASSOCIATED', { upn: current.userPrincipalName, voiceApp: other.name });
    if (app.configurationType !== current.accountType) {
      return fail('ASSOCIATION_TYPE_MISMATCH', { upn: current.userPrincipalName, accountType: current.accountType, voiceApp: app.name });
    }
    await ctx.directory.associate(current.id, step.configurationId);
    return done(true);
  },

  async dissociate(ctx, step) {
    const current = await account(ctx);
    if (!current) return vanished(ctx);
    if (!current.associations.some((a) => a.configurationId === step.configurationId)) return done(false);
    await ctx.directory.dissociate(current.id, step.configurationId);
    return done(true);
  },

  async updateAccount(ctx, step) {
    const current = await requireWorkingAccount(ctx);
    const onPremises = checkOwnedOnline(current, 'edit');
    if (onPremises) return fail(onPremises.reason, onPremises.params);
    const change: { displayName?: string; accountType?: typeof current.accountType } = {};
    if (step.displayName !== undefined && step.displayName !== current.displayName) change.displayName = step.displayName;
    if (step.accountType !== undefined && step.accountType !== current.accountType) {
      // A type change is refused while the account serves an AA/CQ (DOMAIN.md F6).
      const association = current.associations[0];
      if (association) return fail('EDIT_TYPE_WHILE_ASSOCIATED', { upn: current.userPrincipalName, voiceApp: association.name });
      change.accountType = step.accountType;
    }
    if (Object.keys(change).length === 0) return done(false);
    await ctx.directory.updateAccount(current.id, change);
    return done(true);
  },

  async blockSignIn(ctx) {
    const current = await requireAccount(ctx);
    if (!current.accountEnabled) return done(false);
    await ctx.directory.blockSignIn(current.id);
    return done(true);
  },

  async deleteAccount(ctx) {
    const current = await account(ctx);
    if (!current) return done(false);
    const onPremises = checkOwnedOnline(current, 'delete');
    if (onPremises) return fail(onPremises.reason, onPremises.params);
    // Never delete while a number is attached, or on its way to or from the account: it would be
    // stuck "pending" (F1).
    if (current.phoneNumber) return fail('DELETE_NUMBER_STILL_ASSIGNED', { upn: current.userPrincipalName, number: current.phoneNumber });
    const inFlight = (await ctx.directory.listPhoneNumbers({ offset: 0, limit: 1, assignmentTargetId: current.id })).items[0];
    if (inFlight) return fail('DELETE_NUMBER_STILL_ASSIGNED', { upn: current.userPrincipalName, number: inFlight.telephoneNumber });
    // Never delete an account an auto attendant or call queue started using after the plan was made
    // (F15): its callers would reach nothing. The plan's own dissociate steps ran before this one.
    const use = current.associations[0];
    if (use) return fail('DELETE_ACCOUNT_IN_USE', { upn: current.userPrincipalName, voiceApp: use.name });
    await ctx.directory.deleteAccount(current.id);
    return done(true);
  },
};

/**
 * The account a release or an unlink acts on is gone. When the plan deletes it itself (a deletion, a
 * replacement) that may be its own earlier run, and what the step wanted holds. Otherwise someone else
 * deleted it: the step did nothing, and saying "Done" (a number "released" from an account that no
 * longer exists, after another approved deletion) would tell the approver something that never happened.
 */
function vanished(ctx: StepContext): StepOutcome {
  return ctx.deletes?.includes(ctx.userPrincipalName.toLowerCase()) ? done(false) : fail('ACCOUNT_GONE');
}

/** A failed tenant operation: our reason when the backend recognised the tenant's words, else the words. */
function operationFailed(operation: NumberOperation, params: { number: string; upn: string }): StepOutcome {
  return operation.reason ? fail(operation.reason, params) : fail('TENANT_OPERATION_FAILED', { ...params, detail: operation.statusDetail ?? '' });
}

async function verifyAssigned(ctx: StepContext, telephoneNumber: string, accountId: string, operationId: string): Promise<StepOutcome> {
  const number = await ctx.directory.getPhoneNumber(telephoneNumber);
  if (number?.assignmentTargetId === accountId && number.activationState === 'activated') return done(true);
  return wait('NUMBER_PENDING', { number: telephoneNumber, state: number?.activationState ?? 'unknown' }, operationId);
}
