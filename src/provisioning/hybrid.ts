import { z } from 'zod';
import type { TenantDirectory } from './directory';
import { ACCOUNT_TYPES, type AccountType, type ResourceAccount } from './model';
import { refuse, type Refusal } from './result';

/**
 * Hybrid tenants (Skype for Business Server 2019). Microsoft's "Manage resource accounts" page: "When
 * DNS SRV records for sipfederationtls resolve to Skype for Business Server 2019, then resource accounts
 * must be created on Skype for Business Server 2019 using SfB Management shell and synchronized to
 * Azure AD", with New-CsHybridApplicationEndpoint (DOMAIN.md §7); hybrid numbers are Direct Routing.
 * Switchboard does not run on-premises servers: it writes the command and waits for the account.
 */
export const HybridModeSchema = z.enum(['auto', 'on', 'off']);
export type HybridMode = z.infer<typeof HybridModeSchema>;

export interface HybridSettings {
  /** on / off: said by the operator (SWITCHBOARD_HYBRID); auto: detected where the backend can. */
  mode: HybridMode;
  /** The Active Directory OU that New-CsHybridApplicationEndpoint creates the endpoint in (-OU). */
  ou?: string;
}

/** What the backend found: hybrid or not, and on what evidence (shown to the admin). */
export interface HybridDetection {
  hybrid: boolean;
  evidence: string;
}

export const NOT_HYBRID: HybridDetection = { hybrid: false, evidence: 'SWITCHBOARD_HYBRID=off' };

/** Settings first; in auto mode the backend's detection, and none where the backend cannot tell. */
export async function detectHybrid(settings: HybridSettings, directory: TenantDirectory): Promise<HybridDetection> {
  if (settings.mode === 'on') return { hybrid: true, evidence: 'SWITCHBOARD_HYBRID=on' };
  if (settings.mode === 'off') return NOT_HYBRID;
  return (await directory.detectHybrid?.()) ?? { hybrid: false, evidence: 'not detectable by this backend' };
}

/** The OU placeholder when the operator has not set SWITCHBOARD_HYBRID_OU: visibly something to fill in. */
export const OU_PLACEHOLDER = '<OU for resource accounts, e.g. OU=Resource Accounts,DC=contoso,DC=com>';

export interface OnPremisesAccount {
  userPrincipalName: string;
  displayName: string;
  accountType: AccountType;
  /** Direct Routing number (E.164, optional ;ext=) for -LineUri, when the form gave one. */
  lineUri?: string;
}

/**
 * The Skype for Business Management Shell lines that create the endpoint, and the Entra Connect line
 * that syncs it now rather than at the next 30-minute cycle. `quote` is the PowerShell quoting the
 * plan card uses for every value (src/provisioning/equivalents.ts).
 */
export function onPremisesCommands(account: OnPremisesAccount, ou: string | undefined, quote: (value: string) => string): string[] {
  const parts = [
    'New-CsHybridApplicationEndpoint',
    `-ApplicationId ${ACCOUNT_TYPES[account.accountType].applicationId}`,
    `-DisplayName ${quote(account.displayName)}`,
    `-SipAddress ${quote(`sip:${account.userPrincipalName}`)}`,
    `-OU ${quote(ou ?? OU_PLACEHOLDER)}`,
  ];
  if (account.lineUri) parts.push(`-LineUri ${quote(`tel:${account.lineUri}`)}`);
  return [parts.join(' '), 'Start-ADSyncSyncCycle -PolicyType Delta  (on the Entra Connect server)'];
}

/**
 * Name, type and existence of an account synchronised from on-premises are owned there: an online
 * change would be overwritten by the next sync, or refused by Entra ID for a synced object (the seed
 * page: such accounts are created, and so changed, with the Skype for Business Management Shell).
 */
export function checkOwnedOnline(account: ResourceAccount, change: 'edit' | 'delete'): Refusal | null {
  if (!account.onPremisesSynced) return null;
  return refuse('ACCOUNT_ON_PREMISES', {
    upn: account.userPrincipalName,
    cmdlet: change === 'edit' ? 'Set-CsHybridApplicationEndpoint' : 'Remove-CsHybridApplicationEndpoint',
  });
}
