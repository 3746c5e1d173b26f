import { DEMO, demoTenant } from '../../../src/backends/simulated/seed';
import type { TenantState } from '../../../src/backends/simulated/state';
import type { ResourceAccount } from '../../../src/provisioning/model';

/**
 * What the kill -9 test's child does (crash-child.ts) and what the parent expects afterwards: each
 * step the child acknowledged, applied in order, gives the account as it must be after a restart.
 */

export const CRASH_TENANT_ID = '7d3f0c2e-5b1a-4c8e-9f60-2a7b9c1d4e5f';

export const crashSeed = {
  resourceAccountSku: DEMO.skus.resourceAccount.skuId,
  /** The demo tenant with enough Resource Account seats for every account the workers create. */
  state(tenantId: string, now: Date): TenantState {
    const state = demoTenant(tenantId, now);
    for (const sku of state.skus) if (sku.skuId === DEMO.skus.resourceAccount.skuId) sku.enabled = 1_000_000;
    return state;
  },
};

export type CrashStep =
  | { op: 'create'; worker: number; upn: string; id?: string }
  | { op: 'rename'; worker: number; id: string; displayName: string }
  | { op: 'location'; worker: number; id: string; usageLocation: string }
  | { op: 'license' | 'unlicense' | 'delete'; worker: number; id: string }
  | { op: 'assign' | 'unassign'; worker: number; id: string; number: string };

export interface Expected {
  upn: string;
  displayName: string;
  usageLocation: string | null;
  licensed: boolean;
  phoneNumber: string | null;
  deleted: boolean;
}

/** The account after `step` (steps of one account come from one worker, in order). */
export function after(expected: Expected | undefined, step: CrashStep): Expected | undefined {
  if (step.op === 'create') {
    return { upn: step.upn, displayName: 'New', usageLocation: null, licensed: false, phoneNumber: null, deleted: false };
  }
  if (!expected) return undefined;
  switch (step.op) {
    case 'rename':
      return { ...expected, displayName: step.displayName };
    case 'location':
      return { ...expected, usageLocation: step.usageLocation };
    case 'license':
      return { ...expected, licensed: true };
    // Removing the only Teams Phone license releases the number (teams-apis.md §0.4).
    case 'unlicense':
      return { ...expected, licensed: false, phoneNumber: null };
    // Operations take 3 ms; the parent reads after they are due, so they have finished.
    case 'assign':
      return { ...expected, phoneNumber: step.number };
    case 'unassign':
      return { ...expected, phoneNumber: null };
    case 'delete':
      return { ...expected, deleted: true };
  }
}

export function observed(account: ResourceAccount | null, upn: string): Expected {
  if (!account) return { upn, displayName: '', usageLocation: null, licensed: false, phoneNumber: null, deleted: true };
  return {
    upn: account.userPrincipalName,
    displayName: account.displayName,
    usageLocation: account.usageLocation,
    licensed: account.assignedLicenses.includes(crashSeed.resourceAccountSku),
    phoneNumber: account.phoneNumber,
    deleted: false,
  };
}

/** A deleted account is gone whatever it held; otherwise every field counts. */
export function same(want: Expected, got: Expected): boolean {
  if (want.deleted || got.deleted) return want.deleted === got.deleted;
  return JSON.stringify(want) === JSON.stringify(got);
}

/** Seats held outside the simulation, per SKU: consumed minus the accounts holding it, at seed time. */
export function seatsOutside(state: TenantState): Map<string, number> {
  const held = new Map<string, number>();
  for (const sku of state.skus) {
    const holders = Object.values(state.accounts).filter((a) => a.assignedLicenses.includes(sku.skuId)).length;
    held.set(sku.skuId, sku.consumed - holders);
  }
  return held;
}

/** Every way the stored tenant can contradict itself that these steps could cause. */
export function inconsistencies(state: TenantState, outside: Map<string, number>): string[] {
  const problems: string[] = [];
  for (const account of Object.values(state.accounts)) {
    if (account.phoneNumber === null) continue;
    const number = state.numbers[account.phoneNumber];
    if (number?.assignmentTargetId !== account.id || number.activationState !== 'activated') {
      problems.push(`${account.userPrincipalName} holds ${account.phoneNumber}, which says ${JSON.stringify(number ?? null)}`);
    }
  }
  for (const number of Object.values(state.numbers)) {
    const holder = number.assignmentTargetId === null ? undefined : state.accounts[number.assignmentTargetId];
    if (holder && number.activationState === 'activated' && holder.phoneNumber !== number.telephoneNumber) {
      problems.push(`${number.telephoneNumber} is assigned to ${holder.userPrincipalName}, which holds ${String(holder.phoneNumber)}`);
    }
  }
  for (const [skuId, count] of seatsOutside(state)) {
    if (count !== outside.get(skuId)) problems.push(`SKU ${skuId}: consumed ≠ licenses held (+ ${outside.get(skuId)} outside): ${count}`);
  }
  return problems;
}
