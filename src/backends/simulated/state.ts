import { z } from 'zod';
import { StoredInstant } from '../../store/instant';
import {
  AssociationSchema,
  LicenseSkuSchema,
  NumberTypeSchema,
  PhoneNumberSchema,
  ResourceAccountSchema,
  VerifiedDomainSchema,
  type AccountSummary,
  type ResourceAccount,
} from '../../provisioning/model';
import type { NumberOperation } from '../../provisioning/directory';
import { DirectoryRefusal, REASON_CODES } from '../../provisioning/result';

/**
 * The whole simulated tenant as one document, stored as a snapshot plus a journal (storage.ts).
 * Collections are keyed by id (accounts, voice applications, operations) or by telephone number, so
 * lookups stay O(1) at 10,000 accounts and the journal can record a change entry by entry.
 */

export const StoredAccountSchema = ResourceAccountSchema.extend({
  /**
   * When the account went from no Teams Phone license to one; provisioning is measured from here
   * (DOMAIN.md F14). Not part of the port's ResourceAccount.
   */
  licensedAt: StoredInstant.nullable().default(null),
});
export type StoredAccount = z.infer<typeof StoredAccountSchema>;

export const StoredOperationSchema = z.object({
  id: z.string(),
  kind: z.enum(['assign', 'unassign']),
  status: z.enum(['notStarted', 'running', 'succeeded', 'failed']),
  telephoneNumber: z.string(),
  numberType: NumberTypeSchema,
  /** The account the number goes to (assign) or came from (unassign). */
  targetId: z.string().nullable(),
  statusDetail: z.string().optional(),
  /** Our reading of statusDetail (the port's NumberOperation.reason). */
  reason: z.enum(REASON_CODES).optional(),
  createdAt: StoredInstant,
  /** When the tenant finishes the work; applied the first time the tenant is observed after it. */
  dueAt: StoredInstant,
});
export type StoredOperation = z.infer<typeof StoredOperationSchema>;

/**
 * An auto attendant or call queue. `staleAccountIds` are accounts it still lists that no longer exist
 * (deleted elsewhere while it used them): Get-CsAutoAttendant / Get-CsCallQueue keep listing their ids
 * in ApplicationInstances, and the tenant doctor reports them.
 */
export const StoredVoiceAppSchema = AssociationSchema.extend({
  staleAccountIds: z.array(z.string()).default([]),
});
export type StoredVoiceApp = z.infer<typeof StoredVoiceAppSchema>;

/**
 * A user that is not a resource account (a person, a device account). The simulation holds only those
 * that matter to resource accounts: ones with a Teams Phone license, for the doctor. Never changed.
 */
export const StoredUserSchema = z.object({
  id: z.string(),
  userPrincipalName: z.string(),
  displayName: z.string(),
  usageLocation: z.string().length(2).nullable(),
  assignedLicenses: z.array(z.string()),
});
export type StoredUser = z.infer<typeof StoredUserSchema>;

/** The tenant's small top-level members ("parts" to the journal: stored whole). */
export const TenantPartsSchema = z.object({
  schemaVersion: z.literal(1),
  tenantId: z.string().min(1),
  displayName: z.string(),
  domains: z.array(VerifiedDomainSchema),
  skus: z.array(LicenseSkuSchema),
  /** Hybrid with Skype for Business Server 2019: resource accounts arrive from on-premises (DOMAIN.md §7). */
  hybrid: z.boolean().optional(),
  /** The organization's country (Graph organization.countryLetterCode); files from before it have none. */
  countryLetterCode: z.string().length(2).nullable().default(null),
});

/**
 * The keyed collections, each entry with the member that must equal its key. The journal checks and
 * stores them entry by entry (storage.ts).
 */
export const TENANT_COLLECTIONS: Readonly<Record<'accounts' | 'numbers' | 'voiceApps' | 'operations' | 'users', { schema: z.ZodType; keyField: string }>> = {
  accounts: { schema: StoredAccountSchema, keyField: 'id' },
  numbers: { schema: PhoneNumberSchema, keyField: 'telephoneNumber' },
  voiceApps: { schema: StoredVoiceAppSchema, keyField: 'configurationId' },
  operations: { schema: StoredOperationSchema, keyField: 'id' },
  users: { schema: StoredUserSchema, keyField: 'id' },
};

export const TenantStateSchema = TenantPartsSchema.extend({
  accounts: z.record(z.string(), StoredAccountSchema),
  numbers: z.record(z.string(), PhoneNumberSchema),
  voiceApps: z.record(z.string(), StoredVoiceAppSchema),
  operations: z.record(z.string(), StoredOperationSchema),
  /** Files from before the doctor have none. */
  users: z.record(z.string(), StoredUserSchema).default({}),
}).superRefine((state, ctx) => {
  const misfiled = (collection: string, key: string) =>
    ctx.addIssue({ code: 'custom', path: [collection, key], message: 'key does not match the record it holds' });
  for (const [key, a] of Object.entries(state.accounts)) if (a.id !== key) misfiled('accounts', key);
  for (const [key, n] of Object.entries(state.numbers)) if (n.telephoneNumber !== key) misfiled('numbers', key);
  for (const [key, v] of Object.entries(state.voiceApps)) if (v.configurationId !== key) misfiled('voiceApps', key);
  for (const [key, o] of Object.entries(state.operations)) if (o.id !== key) misfiled('operations', key);
  for (const [key, u] of Object.entries(state.users)) if (u.id !== key) misfiled('users', key);
});
export type TenantState = z.infer<typeof TenantStateSchema>;

/** The simulated tenant's latency knobs (DOMAIN.md F13/F14); each defaults to 0 = answers at once. */
export interface Slowness {
  licenseProvisioningMs?: number;
  numberOperationMs?: number;
  accountPropagationMs?: number;
}

export function own<T>(collection: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(collection, key) ? collection[key] : undefined;
}

/** Graph answers 404 for an unknown user. */
export function accountOrRefuse(state: TenantState, id: string): StoredAccount {
  const account = own(state.accounts, id);
  if (!account) throw new DirectoryRefusal('ACCOUNT_NOT_FOUND', { id });
  return account;
}

/**
 * A deep copy of tenant data (JSON-shaped: what the tenant file holds), so that nothing a caller does
 * to a result reaches the tenant; `omit` leaves one top-level key out. For records of a dozen fields
 * this is several times cheaper than structuredClone, which serializes and deserializes; reads of an
 * account and of the tenant's facts happen on every card action (bench/results.md, issue 13).
 * Anything else is left to structuredClone.
 */
export function copyOf<T>(value: T, omit?: ReadonlySet<string>): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => copyOf(item)) as T;
  if (Object.getPrototypeOf(value) !== Object.prototype || Object.hasOwn(value, '__proto__')) {
    const copy = structuredClone(value) as Record<string, unknown>;
    for (const key of omit ?? []) delete copy[key];
    return copy as T;
  }
  const out: Record<string, unknown> = {};
  // for…in rather than Object.keys: the same own keys in the same order, without an array per object.
  for (const key in value) if (!omit?.has(key) && Object.hasOwn(value, key)) out[key] = copyOf((value as Record<string, unknown>)[key]);
  return out as T;
}

const BOOKKEEPING: ReadonlySet<keyof StoredAccount> = new Set(['licensedAt']);
const NOT_LISTED: ReadonlySet<keyof StoredAccount> = new Set(['licensedAt', 'associations']);

/** The account as the port gives it: a copy, without the simulator's own bookkeeping. */
export function toResourceAccount(stored: StoredAccount): ResourceAccount {
  return copyOf(stored, BOOKKEEPING) as ResourceAccount;
}

/** The account as a list gives it: the same, without its associations (TenantDirectory.listAccounts). */
export function toAccountSummary(stored: StoredAccount): AccountSummary {
  return copyOf(stored, NOT_LISTED) as AccountSummary;
}

export function toNumberOperation(stored: StoredOperation): NumberOperation {
  const { id, status, telephoneNumber, statusDetail, reason } = stored;
  return { id, status, telephoneNumber, ...(statusDetail !== undefined ? { statusDetail } : {}), ...(reason ? { reason } : {}) };
}

export function addMs(at: Date, ms: number): string {
  return new Date(at.getTime() + ms).toISOString();
}
