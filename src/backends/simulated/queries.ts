import type { PhoneNumber, ResourceAccount } from '../../provisioning/model';
import type { AccountQuery, NumberQuery, Page } from '../../provisioning/directory';
import { type StoredAccount, type TenantState, toResourceAccount } from './state';

// Each query is one pass to filter, one sort of the matches and one slice: O(n log n) at 10,000 accounts.

const byName = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

function page<T>(matches: T[], offset: number, limit: number): Page<T> {
  const start = Math.max(0, offset);
  return { items: matches.slice(start, start + Math.max(0, limit)), total: matches.length, offset, limit };
}

export function listAccounts(state: TenantState, query: AccountQuery): Page<ResourceAccount> {
  const teamsPhoneSkus = new Set(state.skus.map((s) => s.skuId));
  const needle = query.text?.trim().toLowerCase();
  const matches = (account: StoredAccount): boolean =>
    (query.accountType === undefined || account.accountType === query.accountType) &&
    (query.licensed === undefined ||
      account.assignedLicenses.some((id) => teamsPhoneSkus.has(id)) === query.licensed) &&
    (query.hasNumber === undefined || (account.phoneNumber !== null) === query.hasNumber) &&
    (!needle ||
      account.displayName.toLowerCase().includes(needle) ||
      account.userPrincipalName.toLowerCase().includes(needle));
  const sorted = Object.values(state.accounts)
    .filter(matches)
    .sort(
      (a, b) =>
        byName.compare(a.displayName, b.displayName) ||
        byName.compare(a.userPrincipalName, b.userPrincipalName) ||
        a.id.localeCompare(b.id),
    );
  const result = page(sorted, query.offset, query.limit);
  return { ...result, items: result.items.map(toResourceAccount) };
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
