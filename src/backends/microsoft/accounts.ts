import { z } from 'zod';
import { numberMatches, numberNeedle, type AccountQuery, type Page } from '../../provisioning/directory';
import { DirectoryRefusal } from '../../provisioning/result';
import type { AccountSummary, Association, PhoneNumber, ResourceAccount } from '../../provisioning/model';
import { isObjectId, odataString, path, type Tenant } from './context';
import { toPhoneNumber } from './graph/mapping';
import { all, allBySkip, one } from './graph/http';
import { GraphUserSchema, NumberAssignmentSchema, USER_SELECT, type GraphUser, type NumberAssignmentRecord } from './graph/schemas';
import type { ApplicationInstance, VoiceAppRecord } from './powershell/cmdlets';

/**
 * How the backend tells a resource account from a user, and its type: the application instance.
 * Get-CsOnlineApplicationInstance (Teams PowerShell) is the authority on which objects are resource
 * accounts and on their ApplicationId (AA or CQ); Graph has no such API (teams-apis.md §0.1, §2) and
 * user.isResourceAccount is "reserved". Graph then enriches each instance with what Entra holds
 * (usage location, licenses, creation date), the number comes from numberAssignments and the
 * associations from the AA/CQ listings. A Graph user without an AA/CQ instance is not ours: the
 * backend never reads, changes or deletes it.
 */

/** Resource accounts carry this department (teams-apis.md §1.1); used only to list them in bulk. */
const RESOURCE_ACCOUNT_DEPARTMENT = 'Microsoft Communication Application Instance';

export interface Observed {
  account: ResourceAccount;
  /** False while Teams knows the new account and Entra/Graph does not show it yet (DOMAIN.md F13). */
  inGraph: boolean;
  /** Every number held by the account or on its way to or from it (read with the user, in one batch). */
  numbers: PhoneNumber[];
}

const NUMBERS = '/admin/teams/telephoneNumberManagement/numberAssignments';
const targeting = (id: string) => allBySkip(NUMBERS, NumberAssignmentSchema, { $filter: `assignmentTargetId eq ${odataString(id)}` });

/** The instance, from the cached listing or, when missing there, asked for directly. */
async function instanceOf(tenant: Tenant, id: string): Promise<ApplicationInstance | null> {
  const cached = (await tenant.instances.get()).get(id.toLowerCase());
  if (cached) return cached;
  return tenant.recent.get(id)?.instance ?? (await tenant.teams.getInstance(id));
}

/** The number on the account: assigned and settled, or being unassigned (as the simulated tenant shows it). */
function numberOnAccount(numbers: readonly PhoneNumber[]): string | null {
  const onIt = numbers.find((n) => n.activationState !== 'assignmentPending' && n.activationState !== 'assignmentFailed');
  return onIt?.telephoneNumber ?? null;
}

/** The voice apps (AA/CQ listing records, or the port's VoiceApplications) an account serves. */
function associationsOf(id: string, apps: readonly Pick<VoiceAppRecord, 'configurationId' | 'configurationType' | 'name' | 'accountIds'>[]): Association[] {
  // The listing's account ids are lower case (powershell/cmdlets.ts voiceApps).
  return apps
    .filter((a) => a.accountIds.includes(id.toLowerCase()))
    .map(({ configurationId, configurationType, name }) => ({ configurationId, configurationType, name }));
}

type TypedInstance = ApplicationInstance & { accountType: NonNullable<ApplicationInstance['accountType']> };

function toSummary(instance: TypedInstance, user: GraphUser | null, phoneNumber: string | null, createdAt: string): AccountSummary {
  return {
    id: user?.id ?? instance.objectId,
    userPrincipalName: user?.userPrincipalName ?? instance.userPrincipalName,
    displayName: user?.displayName ?? instance.displayName,
    accountType: instance.accountType,
    // Resource accounts are disabled for sign-in and must stay so (teams-apis.md §1.1); one made by hand
    // may not be (the doctor reports it). Graph returns accountEnabled only when selected (§1.2).
    accountEnabled: user?.accountEnabled ?? false,
    usageLocation: user?.usageLocation ?? null,
    assignedLicenses: (user?.assignedLicenses ?? []).map((l) => l.skuId),
    phoneNumber,
    broken: false,
    ...(user?.onPremisesSyncEnabled === true ? { onPremisesSynced: true } : {}),
    createdAt: user?.createdDateTime ?? createdAt,
  };
}

/** A list item with its associations: the account as getAccount gives it. */
function withAssociations(summary: AccountSummary, associations: Association[]): ResourceAccount {
  // The keys in the order the account always had them (associations after the number).
  const { broken, onPremisesSynced, createdAt, ...head } = summary;
  return { ...head, associations, broken, ...(onPremisesSynced ? { onPremisesSynced } : {}), createdAt };
}

function toAccount(instance: TypedInstance, user: GraphUser | null, phoneNumber: string | null, associations: Association[], createdAt: string): ResourceAccount {
  return withAssociations(toSummary(instance, user, phoneNumber, createdAt), associations);
}

/**
 * Every resource account with its associations, in list order, joined from a listing of all of them
 * and the AA/CQ listing the caller already read (the tenant doctor's scan reads both anyway): no
 * read of its own.
 */
export function accountsWithAssociations(
  summaries: readonly AccountSummary[],
  apps: readonly Pick<VoiceAppRecord, 'configurationId' | 'configurationType' | 'name' | 'accountIds'>[],
): ResourceAccount[] {
  return summaries.map((summary) => withAssociations(summary, associationsOf(summary.id, apps)));
}

/** Numbers held by (or on their way to or from) an account. */
export async function numbersTargeting(tenant: Tenant, id: string): Promise<PhoneNumber[]> {
  const { numbers } = await tenant.graph.readMany({ numbers: targeting(id) });
  return numbers.flatMap((r) => toPhoneNumber(r) ?? []);
}

/**
 * One account: its user and its numbers in ONE Graph round trip ($batch), beside the instance (cached
 * listing, or one cmdlet) and the AA/CQ list (cached).
 */
export async function observeAccount(tenant: Tenant, id: string): Promise<Observed | null> {
  if (!isObjectId(id)) return null;
  const [{ user, numbers: records }, instance] = await Promise.all([
    tenant.graph.readMany({ user: one(path('users', id), GraphUserSchema, { $select: USER_SELECT }, true), numbers: targeting(id) }),
    instanceOf(tenant, id),
  ]);
  if (!instance?.accountType) return null;
  const recent = tenant.recent.get(id);
  if (!user && !recent) return null;
  const typed = { ...instance, accountType: instance.accountType };
  const createdAt = new Date(recent?.at ?? tenant.now().getTime()).toISOString();
  if (!user) return { account: toAccount(typed, null, null, [], createdAt), inGraph: false, numbers: [] };
  const numbers = records.flatMap((r) => toPhoneNumber(r) ?? []);
  const apps = await tenant.voiceApps.get();
  return { account: toAccount(typed, user, numberOnAccount(numbers), associationsOf(user.id, apps), createdAt), inGraph: true, numbers };
}

/** The account, or ACCOUNT_NOT_FOUND; with `visible`, ACCOUNT_NOT_YET_VISIBLE while Graph lags (F13). */
export async function accountOrRefuse(tenant: Tenant, id: string, visible = false): Promise<ResourceAccount> {
  return (await observedOrRefuse(tenant, id, visible)).account;
}

export async function observedOrRefuse(tenant: Tenant, id: string, visible = false): Promise<Observed> {
  const observed = await observeAccount(tenant, id);
  if (!observed) throw new DirectoryRefusal('ACCOUNT_NOT_FOUND', { username: id });
  if (visible && !observed.inGraph) {
    throw new DirectoryRefusal('ACCOUNT_NOT_YET_VISIBLE', { upn: observed.account.userPrincipalName });
  }
  return observed;
}

export async function findAccountByUpn(tenant: Tenant, userPrincipalName: string): Promise<ResourceAccount | null> {
  const upn = userPrincipalName.trim();
  if (!upn.includes('@') || upn.length > 113) return null;
  const lower = upn.toLowerCase();
  // An instance of the cached listing names its object id: one round trip fewer. It also knows an
  // account Teams just created that Graph does not show yet (F13).
  const known = [...(await tenant.instances.get()).values()].find((i) => i.userPrincipalName.toLowerCase() === lower)?.objectId;
  const id = known ?? (await tenant.graph.getOrNull(path('users', upn), IdOnlySchema, { $select: 'id' }))?.id;
  return id ? ((await observeAccount(tenant, id))?.account ?? null) : null;
}

const IdOnlySchema = z.object({ id: z.string() });

/** Users and numbers page for page in the same $batch: 1,000 accounts are two round trips. */
export async function readListing(tenant: Pick<Tenant, 'graph'>): Promise<{ users: GraphUser[]; numbers: NumberAssignmentRecord[] }> {
  return tenant.graph.readMany({
    users: all('/users', GraphUserSchema, { $filter: `department eq ${odataString(RESOURCE_ACCOUNT_DEPARTMENT)}`, $select: USER_SELECT, $top: 999 }),
    numbers: allBySkip(NUMBERS, NumberAssignmentSchema, { $filter: "assignmentStatus eq 'voiceApplicationAssigned'" }),
  });
}

const byName = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

/**
 * Every resource account joined once (instances + users in pages of 999 + assigned numbers), then
 * filtered, sorted and paged here: Graph cannot filter on what Teams knows. List items carry no
 * associations (TenantDirectory.listAccounts): those come from the AA and CQ listings, two more
 * cmdlets, which only an account itself (observeAccount) reads. A cold list is one cmdlet.
 */
export async function listAccounts(tenant: Tenant, query: AccountQuery): Promise<Page<AccountSummary>> {
  // The Graph half and the Teams listing at once: from the caches, or from Graph and the pool.
  const [instances, { users, numbers }, facts] = await Promise.all([tenant.instances.get(), tenant.listing.get(), tenant.facts.get()]);
  const usersById = new Map(users.map((u) => [u.id.toLowerCase(), u]));
  // An admin may have changed the department of some: those are read too, all in one batch.
  const missing = [...instances.values()].filter((i) => i.accountType && !usersById.has(i.objectId));
  if (missing.length > 0) {
    const reads = Object.fromEntries(missing.map((i) => [i.objectId, one(path('users', i.objectId), GraphUserSchema, { $select: USER_SELECT }, true)]));
    for (const user of Object.values(await tenant.graph.readMany(reads))) if (user) usersById.set(user.id.toLowerCase(), user);
  }
  const numbersByTarget = new Map<string, PhoneNumber[]>();
  for (const number of numbers.flatMap((r) => toPhoneNumber(r) ?? [])) {
    const target = number.assignmentTargetId?.toLowerCase();
    if (target) numbersByTarget.set(target, [...(numbersByTarget.get(target) ?? []), number]);
  }
  const accounts: AccountSummary[] = [];
  for (const instance of instances.values()) {
    if (!instance.accountType) continue;
    const user = usersById.get(instance.objectId) ?? null;
    if (!user && !tenant.recent.has(instance.objectId)) continue;
    const typed = { ...instance, accountType: instance.accountType };
    const number = numberOnAccount(numbersByTarget.get(instance.objectId) ?? []);
    accounts.push(toSummary(typed, user, number, tenant.now().toISOString()));
  }
  const teamsPhone = new Set(facts.skus.map((s) => s.skuId.toLowerCase()));
  const needle = query.text?.trim().toLowerCase();
  const digits = numberNeedle(query.text);
  const matches = (a: AccountSummary): boolean =>
    (query.accountType === undefined || a.accountType === query.accountType) &&
    (query.licensed === undefined || a.assignedLicenses.some((id) => teamsPhone.has(id.toLowerCase())) === query.licensed) &&
    (query.hasNumber === undefined || (a.phoneNumber !== null) === query.hasNumber) &&
    (!needle || a.displayName.toLowerCase().includes(needle) || a.userPrincipalName.toLowerCase().includes(needle) || (digits !== null && numberMatches(a.phoneNumber, digits)));
  const sorted = accounts
    .filter(matches)
    .sort(
      (a, b) =>
        byName.compare(a.displayName, b.displayName) || byName.compare(a.userPrincipalName, b.userPrincipalName) || a.id.localeCompare(b.id),
    );
  const start = Math.max(0, query.offset);
  return { items: sorted.slice(start, start + Math.max(0, query.limit)), total: sorted.length, offset: query.offset, limit: query.limit };
}
