import type { AccountSummary, PhoneNumber, ResourceAccount } from '../../provisioning/model';
import { numberMatches, numberNeedle, type AccountQuery, type NumberQuery, type Page, type TenantScan } from '../../provisioning/directory';
import { own, type StoredAccount, type TenantState, toAccountSummary, toResourceAccount } from './state';
import { listVoiceApplications } from './voiceApps';

const byName = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

function page<T>(matches: T[], offset: number, limit: number): Page<T> {
  const start = Math.max(0, offset);
  return { items: matches.slice(start, start + Math.max(0, limit)), total: matches.length, offset, limit };
}

/** One account as the index saw it: the sort keys are copies, so a rename is noticed. */
interface Entry {
  id: string;
  account: StoredAccount;
  displayName: string;
  userPrincipalName: string;
  /** Lower-case copies for the text filter. */
  nameLower: string;
  upnLower: string;
}

function entryOf(account: StoredAccount): Entry {
  return {
    id: account.id,
    account,
    displayName: account.displayName,
    userPrincipalName: account.userPrincipalName,
    nameLower: account.displayName.toLowerCase(),
    upnLower: account.userPrincipalName.toLowerCase(),
  };
}

/** The list order: display name, then UPN (collated, case-insensitive, numeric), then id. */
function compare(a: Entry, b: Entry): number {
  return byName.compare(a.displayName, b.displayName) || byName.compare(a.userPrincipalName, b.userPrincipalName) || a.id.localeCompare(b.id);
}

function hasAny(ids: readonly string[], wanted: ReadonlySet<string>): boolean {
  for (const id of ids) if (wanted.has(id)) return true;
  return false;
}

/** Above this many changed accounts in one sync, a full sort is cheaper than inserting one by one. */
const RESORT_ABOVE = 256;

/**
 * The accounts in list order and by lower-case UPN, kept in memory beside the document so that a
 * page of 10 out of 10,000 is a walk over a sorted array (no sort per page) and a UPN lookup is one
 * map access (no scan). The index follows the document by itself: after any change (the caller
 * says so with `generation`), sync() compares each entry with the document — one cheap pass — and
 * moves only the accounts that were added, removed, renamed or replaced.
 */
export class AccountIndex {
  private entries: Entry[] = [];
  private readonly byUpn = new Map<string, Entry>();
  private syncedGeneration: number | undefined;

  /** Brings the index up to date with `state` unless it already saw `generation`. */
  sync(state: TenantState, generation: number): void {
    if (this.syncedGeneration === generation) return;
    if (this.syncedGeneration === undefined) this.rebuild(state);
    else this.catchUp(state);
    this.syncedGeneration = generation;
  }

  /** Accounts matching the query, in list order; one page of them as list items (no associations). */
  list(query: AccountQuery, skuIds: ReadonlySet<string>): Page<AccountSummary> {
    const needle = query.text?.trim().toLowerCase();
    const digits = numberNeedle(query.text);
    const filtered = query.accountType !== undefined || query.licensed !== undefined || query.hasNumber !== undefined || !!needle;
    const start = Math.max(0, query.offset);
    const end = start + Math.max(0, query.limit);
    if (!filtered) {
      const items = this.entries.slice(start, end).map((e) => toAccountSummary(e.account));
      return { items, total: this.entries.length, offset: query.offset, limit: query.limit };
    }
    const items: AccountSummary[] = [];
    let total = 0;
    for (const entry of this.entries) {
      const account = entry.account;
      if (query.accountType !== undefined && account.accountType !== query.accountType) continue;
      if (query.hasNumber !== undefined && (account.phoneNumber !== null) !== query.hasNumber) continue;
      if (needle && !entry.nameLower.includes(needle) && !entry.upnLower.includes(needle) && !(digits !== null && numberMatches(account.phoneNumber, digits))) continue;
      if (query.licensed !== undefined && hasAny(account.assignedLicenses, skuIds) !== query.licensed) continue;
      if (total >= start && total < end) items.push(toAccountSummary(account));
      total += 1;
    }
    return { items, total, offset: query.offset, limit: query.limit };
  }

  /**
   * Every account in list order as the port gives an account, associations included (the tenant
   * doctor's scan: a list item has none, TenantDirectory.listAccounts).
   */
  accounts(): ResourceAccount[] {
    return this.entries.map((e) => toResourceAccount(e.account));
  }

  /** The account with this UPN, compared case-insensitively. */
  findByUpn(userPrincipalName: string): StoredAccount | undefined {
    return this.byUpn.get(userPrincipalName.toLowerCase())?.account;
  }

  private rebuild(state: TenantState): void {
    const entries = Object.values(state.accounts).map(entryOf);
    this.byUpn.clear();
    // The first account in document order wins, as a scan of the document would find it.
    for (const entry of entries) if (!this.byUpn.has(entry.upnLower)) this.byUpn.set(entry.upnLower, entry);
    this.entries = entries.sort(compare);
  }

  private catchUp(state: TenantState): void {
    const kept: Entry[] = [];
    const moved: StoredAccount[] = [];
    const forgotten: string[] = [];
    let present = 0;
    for (const entry of this.entries) {
      const account = own(state.accounts, entry.id);
      if (account) present += 1;
      if (account === entry.account && account.displayName === entry.displayName && account.userPrincipalName === entry.userPrincipalName) {
        kept.push(entry);
        continue;
      }
      if (this.byUpn.get(entry.upnLower) === entry) {
        this.byUpn.delete(entry.upnLower);
        forgotten.push(entry.upnLower);
      }
      if (account) moved.push(account);
    }
    // Accounts the index has not seen yet (created since the last sync).
    if (present !== Object.keys(state.accounts).length) {
      const known = new Set(this.entries.map((e) => e.id));
      for (const account of Object.values(state.accounts)) if (!known.has(account.id)) moved.push(account);
    }
    if (moved.length === 0 && kept.length === this.entries.length) return;
    const added = moved.map(entryOf);
    if (added.length > RESORT_ABOVE) {
      this.entries = [...kept, ...added].sort(compare);
    } else {
      this.entries = kept;
      for (const entry of added) this.entries.splice(this.insertionPoint(entry), 0, entry);
    }
    for (const entry of added) if (!this.byUpn.has(entry.upnLower)) this.byUpn.set(entry.upnLower, entry);
    // A UPN given up by one account may still belong to another (only a hand-edited file has twins).
    for (const key of forgotten) {
      if (this.byUpn.has(key)) continue;
      const twin = this.entries.find((e) => e.upnLower === key);
      if (twin) this.byUpn.set(key, twin);
    }
  }

  /** Binary search: the first position whose entry sorts after `entry`. */
  private insertionPoint(entry: Entry): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compare(this.entries[mid]!, entry) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

/**
 * A page of accounts. With the tenant's index this is a walk over the sorted accounts (O(n) with a
 * cheap test per account when filtered, O(limit) when not); without one, the index is built for this
 * call (one sort, O(n log n)).
 */
export function listAccounts(state: TenantState, query: AccountQuery, index?: AccountIndex): Page<AccountSummary> {
  const teamsPhoneSkus = new Set(state.skus.map((s) => s.skuId));
  return indexFor(state, index).list(query, teamsPhoneSkus);
}

/** The given index (kept in sync by its owner), or one built for this call. */
function indexFor(state: TenantState, index?: AccountIndex): AccountIndex {
  if (index) return index;
  const built = new AccountIndex();
  built.sync(state, 0);
  return built;
}

/** Assignable to a resource account (teams-apis.md §4, "Number eligibility"). */
function isAssignable(n: PhoneNumber): boolean {
  return (
    n.capabilities.includes('voiceApplicationAssignment') &&
    n.assignmentStatus === 'unassigned' &&
    n.assignmentTargetId === null &&
    n.activationState === 'activated' &&
    !n.assignmentBlocked
  );
}

// One pass to filter, one sort of the matches and one slice: O(n log n) in the tenant's numbers.
export function listPhoneNumbers(state: TenantState, query: NumberQuery): Page<PhoneNumber> {
  const country = query.isoCountryCode?.toUpperCase();
  const prefix = query.prefix?.replace(/^\+/, '');
  const matches = (n: PhoneNumber): boolean =>
    (query.numberType === undefined || n.numberType === query.numberType) &&
    (country === undefined || n.isoCountryCode === country) &&
    (!prefix || n.telephoneNumber.startsWith(prefix, 1)) &&
    (!query.assignableOnly || isAssignable(n)) &&
    (query.assignmentTargetId === undefined || n.assignmentTargetId === query.assignmentTargetId);
  const sorted = Object.values(state.numbers)
    .filter(matches)
    .sort((a, b) => (a.telephoneNumber < b.telephoneNumber ? -1 : a.telephoneNumber > b.telephoneNumber ? 1 : 0));
  const result = page(sorted, query.offset, query.limit);
  return { ...result, items: result.items.map((n) => structuredClone(n)) };
}

/**
 * What the tenant doctor reads (TenantDirectory.scanTenant): every account in list order, the numbers
 * assigned to voice applications (those on deleted accounts included, F1), the AA/CQs, and the users
 * that hold a Resource Account license without being resource accounts. Copies, never the document.
 */
export function scanOf(state: TenantState, index?: AccountIndex): TenantScan {
  // With their associations, which list items do not carry: the doctor reads them.
  const accounts = indexFor(state, index).accounts();
  const numbers = Object.values(state.numbers)
    .filter((n) => n.assignmentTargetId !== null && n.assignmentStatus === 'voiceApplicationAssigned')
    .sort((a, b) => (a.telephoneNumber < b.telephoneNumber ? -1 : a.telephoneNumber > b.telephoneNumber ? 1 : 0))
    .map((n) => structuredClone(n));
  const resourceAccountSkus = new Set(state.skus.filter((s) => s.kind === 'resourceAccount').map((s) => s.skuId));
  const usersWithResourceAccountLicense = Object.values(state.users)
    .filter((u) => u.assignedLicenses.some((id) => resourceAccountSkus.has(id)))
    .sort((a, b) => a.userPrincipalName.localeCompare(b.userPrincipalName))
    .map(({ id, userPrincipalName, displayName, assignedLicenses }) => ({ id, userPrincipalName, displayName, assignedLicenses: [...assignedLicenses] }));
  return { accounts, numbers, voiceApplications: structuredClone(listVoiceApplications(state)), usersWithResourceAccountLicense };
}
