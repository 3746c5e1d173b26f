import { randomUUID } from 'node:crypto';
import type { AccountChange, NewAccount } from '../../provisioning/directory';
import { DirectoryRefusal } from '../../provisioning/result';
import { strandNumbersOf } from './numbers';
import type { StoredAccount, TenantState } from './state';

/** Graph refuses an empty display name: it is required and cannot be cleared (teams-apis.md §4). */
function refuseIfNoDisplayName(displayName: string): void {
  if (displayName.trim() === '') throw new DirectoryRefusal('DISPLAY_NAME_REQUIRED', {}, 'displayName');
}

/**
 * New-CsOnlineApplicationInstance (teams-apis.md §3.2). `existing` finds an account by UPN
 * (case-insensitive); the tenant passes its index, so that a creation does not scan every account.
 */
export function createAccount(
  state: TenantState,
  input: NewAccount,
  now: Date,
  existing: (userPrincipalName: string) => StoredAccount | undefined = (upn) => findByUpn(state, upn),
): StoredAccount {
  const upn = input.userPrincipalName;
  const domainName = upn.slice(upn.lastIndexOf('@') + 1).toLowerCase();
  const domain = state.domains.find((d) => d.name.toLowerCase() === domainName);
  // The UPN becomes the SIP URI: a verified, online domain of the tenant (teams-apis.md §4).
  if (!upn.includes('@') || !domain) {
    throw new DirectoryRefusal('UPN_DOMAIN_NOT_VERIFIED', { domain: domainName }, 'domain');
  }
  if (!domain.isOnline) throw new DirectoryRefusal('UPN_DOMAIN_NOT_ONLINE', { domain: domain.name }, 'domain');
  if (existing(upn)) {
    throw new DirectoryRefusal('UPN_IN_USE', { upn }, 'username');
  }
  refuseIfNoDisplayName(input.displayName);

  return addAccount(state, { ...input, userPrincipalName: upn }, now, false);
}

/** "User not found" for a while after creation (DOMAIN.md F13, teams-apis.md §4). */
export function refuseIfNotYetVisible(account: StoredAccount, now: Date, propagationMs: number): void {
  if (now.getTime() < Date.parse(account.createdAt) + propagationMs) {
    throw new DirectoryRefusal('ACCOUNT_NOT_YET_VISIBLE', { upn: account.userPrincipalName });
  }
}

/** Set-CsOnlineApplicationInstance -DisplayName / -ApplicationId (teams-apis.md §3.2). */
export function updateAccount(account: StoredAccount, change: AccountChange): void {
  refuseIfOnPremises(account, 'Set-CsHybridApplicationEndpoint');
  if (change.displayName !== undefined) refuseIfNoDisplayName(change.displayName);
  const association = account.associations[0];
  // The type may not change under an AA/CQ that uses the account (teams-apis.md §3.2, DOMAIN.md F6).
  if (change.accountType !== undefined && change.accountType !== account.accountType && association) {
    throw new DirectoryRefusal('EDIT_TYPE_WHILE_ASSOCIATED', { upn: account.userPrincipalName, voiceApp: association.name }, 'accountType');
  }

  if (change.displayName !== undefined) account.displayName = change.displayName.trim();
  if (change.accountType !== undefined) account.accountType = change.accountType;
}

/** PATCH /users/{id} {usageLocation}: ISO 3166-1 alpha-2 (teams-apis.md §1.3). */
export function setUsageLocation(account: StoredAccount, usageLocation: string): void {
  const code = usageLocation.toUpperCase();
  if (!/^[A-Z]{2}$/.test(code)) {
    throw new DirectoryRefusal('USAGE_LOCATION_INVALID', { usageLocation }, 'usageLocation');
  }
  account.usageLocation = code;
}

/**
 * DELETE /users/{id}: seats come free at once (teams-apis.md §1.6); a number still on the account is
 * left stuck (DOMAIN.md F1). Associations go with the account.
 */
export function deleteAccount(state: TenantState, account: StoredAccount): void {
  refuseIfOnPremises(account, 'Remove-CsHybridApplicationEndpoint');
  for (const skuId of account.assignedLicenses) {
    const sku = state.skus.find((s) => s.skuId === skuId);
    if (sku) sku.consumed = Math.max(0, sku.consumed - 1);
  }
  strandNumbersOf(state, account.id);
  delete state.accounts[account.id];
}

export function findByUpn(state: TenantState, userPrincipalName: string): StoredAccount | undefined {
  const lower = userPrincipalName.toLowerCase();
  return Object.values(state.accounts).find((a) => a.userPrincipalName.toLowerCase() === lower);
}

/**
 * Entra ID refuses online changes to what an on-premises directory masters ("Unable to update the
 * specified properties for on-premises mastered Directory Sync objects"): name, type and existence of
 * a synced hybrid endpoint are changed on Skype for Business Server.
 */
function refuseIfOnPremises(account: StoredAccount, cmdlet: string): void {
  if (account.onPremisesSynced) throw new DirectoryRefusal('ACCOUNT_ON_PREMISES', { upn: account.userPrincipalName, cmdlet });
}

/**
 * Entra Connect bringing an endpoint made with New-CsHybridApplicationEndpoint into Entra ID: a
 * disabled user, synced, of the type its ApplicationId says. Tests and the demo call it in place of
 * an on-premises server.
 */
export function syncFromOnPremises(state: TenantState, input: NewAccount, now: Date): StoredAccount {
  const existing = findByUpn(state, input.userPrincipalName);
  if (existing) throw new DirectoryRefusal('UPN_IN_USE', { upn: input.userPrincipalName }, 'username');
  refuseIfNoDisplayName(input.displayName);
  return addAccount(state, input, now, true);
}

/** A new resource account as the tenant stores it: a disabled user, unlicensed, without a number. */
function addAccount(state: TenantState, input: NewAccount, now: Date, onPremisesSynced: boolean): StoredAccount {
  const account: StoredAccount = {
    id: randomUUID(),
    userPrincipalName: input.userPrincipalName,
    displayName: input.displayName.trim(),
    accountType: input.accountType,
    accountEnabled: false,
    usageLocation: null,
    assignedLicenses: [],
    phoneNumber: null,
    associations: [],
    broken: false,
    ...(onPremisesSynced ? { onPremisesSynced: true } : {}),
    createdAt: now.toISOString(),
    licensedAt: null,
  };
  state.accounts[account.id] = account;
  return account;
}
