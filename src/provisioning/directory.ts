import type { HybridDetection } from './hybrid';
import type {
  AccountSummary,
  AccountType,
  Association,
  NumberType,
  PhoneNumber,
  ResourceAccount,
  TenantFacts,
} from './model';
import type { ReasonCode } from './result';

/**
 * The port through which the domain sees a tenant. Two backends implement it: the simulated tenant
 * (lowdb, default) and Microsoft 365 (Graph + Teams PowerShell).
 *
 * A backend enforces the tenant's own rules the way a real tenant does: it throws DirectoryRefusal
 * (src/provisioning/result.ts) for what the tenant would answer with a 4xx (duplicate UPN, license
 * without usage location, number already assigned, …). Any other exception is a fault.
 */
export interface TenantDirectory {
  /** Verified domains and license SKUs with their seat counts. */
  getTenantFacts(): Promise<TenantFacts>;

  // --- accounts --------------------------------------------------------------------------------
  /** Case-insensitive UPN lookup; null when no such user exists. */
  findAccountByUpn(userPrincipalName: string): Promise<ResourceAccount | null>;
  getAccount(id: string): Promise<ResourceAccount | null>;
  /**
   * Accounts sorted by display name then UPN, without their associations (getAccount has them);
   * `total` counts all matches of the query.
   */
  listAccounts(query: AccountQuery): Promise<Page<AccountSummary>>;
  /** New-CsOnlineApplicationInstance: the account is created disabled for sign-in. */
  createAccount(input: NewAccount): Promise<ResourceAccount>;
  /** Set-CsOnlineApplicationInstance -DisplayName / -ApplicationId. */
  updateAccount(id: string, change: AccountChange): Promise<ResourceAccount>;
  /** PATCH /users/{id} {usageLocation}. */
  setUsageLocation(id: string, usageLocation: string): Promise<ResourceAccount>;
  /**
   * POST /users/{id}/assignLicense with addLicenses and removeLicenses in ONE call: a switch done
   * as two operations can break the account (DOMAIN.md F2).
   */
  assignLicense(id: string, change: LicenseChange): Promise<ResourceAccount>;
  /**
   * PATCH /users/{id} {accountEnabled:false}: a resource account is a disabled user object and must
   * stay one (teams-apis.md §1.1). Only for resource accounts; blocking one already blocked is a no-op.
   */
  blockSignIn(id: string): Promise<ResourceAccount>;
  /** GET /users/{id}/licenseDetails: provisioning status of the Teams Phone service plan. */
  getLicenseProvisioning(id: string): Promise<LicenseProvisioning>;
  /** DELETE /users/{id}. */
  deleteAccount(id: string): Promise<void>;

  // --- numbers ---------------------------------------------------------------------------------
  getPhoneNumber(telephoneNumber: string): Promise<PhoneNumber | null>;
  listPhoneNumbers(query: NumberQuery): Promise<Page<PhoneNumber>>;
  /** Asynchronous, as Graph assignNumber (202 + operation to poll). */
  assignNumber(request: NumberAssignment): Promise<NumberOperation>;
  unassignNumber(request: NumberUnassignment): Promise<NumberOperation>;
  getNumberOperation(id: string): Promise<NumberOperation | null>;

  // --- voice applications (AA / CQ) ------------------------------------------------------------
  listVoiceApplications(): Promise<VoiceApplication[]>;
  /** New-CsOnlineApplicationInstanceAssociation */
  associate(accountId: string, configurationId: string): Promise<ResourceAccount>;
  /** Remove-CsOnlineApplicationInstanceAssociation */
  dissociate(accountId: string, configurationId: string): Promise<ResourceAccount>;

  /**
   * Whether the tenant is hybrid with Skype for Business Server (resource accounts made on-premises),
   * where the backend can tell; a backend that cannot leaves it out (SWITCHBOARD_HYBRID decides).
   */
  detectHybrid?(): Promise<HybridDetection>;
  // --- the tenant doctor ------------------------------------------------------------------------
  /**
   * Everything the tenant doctor looks at (src/provisioning/doctor.ts), read in as few round trips as
   * the backend can: a read only, nothing changes.
   */
  scanTenant(): Promise<TenantScan>;

  /** Backend status for /healthz. */
  health(): Promise<{ ok: boolean; detail: string }>;
}

/**
 * Every call of the port, and whether it changes the tenant (the "act" of a plan step: observe →
 * decide → act → verify) or only reads. The compiler checks the list is whole: a method added to the
 * port must be added here.
 */
const PORT_CALLS: Record<keyof TenantDirectory, 'reads' | 'changes'> = {
  getTenantFacts: 'reads',
  findAccountByUpn: 'reads',
  getAccount: 'reads',
  listAccounts: 'reads',
  createAccount: 'changes',
  updateAccount: 'changes',
  setUsageLocation: 'changes',
  assignLicense: 'changes',
  blockSignIn: 'changes',
  getLicenseProvisioning: 'reads',
  deleteAccount: 'changes',
  getPhoneNumber: 'reads',
  listPhoneNumbers: 'reads',
  assignNumber: 'changes',
  unassignNumber: 'changes',
  getNumberOperation: 'reads',
  listVoiceApplications: 'reads',
  associate: 'changes',
  dissociate: 'changes',
  detectHybrid: 'reads',
  scanTenant: 'reads',
  health: 'reads',
};

/** The port's calls that change the tenant. */
export const TENANT_CHANGES: ReadonlySet<PropertyKey> = new Set(Object.keys(PORT_CALLS).filter((name) => PORT_CALLS[name as keyof TenantDirectory] === 'changes'));

/** Every call of the port. */
const TENANT_CALLS: ReadonlySet<PropertyKey> = new Set(Object.keys(PORT_CALLS));

/**
 * The directory with its port calls (those `which` names, or every one) passed through `around`. What
 * is not a port call (a backend's own methods, some of them not async) goes straight through.
 */
export function aroundCalls(
  directory: TenantDirectory,
  around: (call: () => Promise<unknown>, name: string) => Promise<unknown>,
  which: ReadonlySet<PropertyKey> = TENANT_CALLS,
): TenantDirectory {
  return new Proxy(directory, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      if (!which.has(key)) return method.bind(target);
      return async (...args: unknown[]) => around(() => method.apply(target, args), String(key));
    },
  });
}

export interface Page<T> {
  items: T[];
  total: number;
  offset: number;
  limit: number;
}

export interface AccountQuery {
  offset: number;
  limit: number;
  accountType?: AccountType;
  licensed?: boolean;
  hasNumber?: boolean;
  /**
   * Case-insensitive substring of display name or UPN; a text that reads as a phone number ("+1 425
   * 555 0100", "(425) 555-0100", 3 digits or more) also matches the digits of the account's number.
   */
  text?: string;
}

/**
 * The digits of a search that reads as a phone number, to match account numbers by; null for any other
 * search. Written as admins write numbers: "+1 (425) 555-0100", "+14255550199;ext=12" (as cards show a
 * Direct Routing number), "… x12", "01 70 00 01 00" (national: the trunk 0 goes), "0033 1 …" (the
 * international 00 goes), "+33 (0)1 …". Fewer than 6 digits without a "+" is a name search only ("2024").
 */
export function numberNeedle(text: string | undefined): string | null {
  const trimmed = (text?.trim() ?? '').replace(/\s*(;\s*ext\s*=|\bext\.?|\bx)\s*\d+$/i, '');
  if (!/^\+?[\d\s().-]+$/.test(trimmed)) return null;
  const international = trimmed.startsWith('+');
  let digits = trimmed.replace(/\(0\)/g, '').replace(/\D/g, '');
  if (!international) digits = digits.startsWith('00') ? digits.slice(2) : digits.replace(/^0/, '');
  if (digits.length < (international ? 3 : 6)) return null;
  return digits;
}

/** Whether an account's number (its extension aside) holds those digits. */
export function numberMatches(phoneNumber: string | null, digits: string): boolean {
  return phoneNumber !== null && phoneNumber.replace(/;.*$/, '').replace(/\D/g, '').includes(digits);
}

export interface NewAccount {
  userPrincipalName: string;
  displayName: string;
  accountType: AccountType;
}

export interface AccountChange {
  displayName?: string;
  accountType?: AccountType;
}

export interface LicenseChange {
  addSkuIds: string[];
  removeSkuIds: string[];
}

export type LicenseProvisioning = 'none' | 'pending' | 'success' | 'error';

export interface NumberQuery {
  offset: number;
  limit: number;
  numberType?: NumberType;
  isoCountryCode?: string;
  /** Digits the number starts with, after the "+". */
  prefix?: string;
  /** Only numbers a resource account can take: service, unassigned, activated, not blocked. */
  assignableOnly?: boolean;
  assignmentTargetId?: string;
}

export interface NumberAssignment {
  telephoneNumber: string;
  numberType: NumberType;
  assignmentTargetId: string;
}

export interface NumberUnassignment {
  telephoneNumber: string;
  numberType: NumberType;
}

/** telephoneNumberLongRunningOperation (teams-apis.md §2). */
export interface NumberOperation {
  id: string;
  status: 'notStarted' | 'running' | 'succeeded' | 'failed';
  telephoneNumber: string;
  /** The tenant's own words when it failed; shown to the admin. */
  statusDetail?: string;
  /**
   * What the backend reads in statusDetail, when it knows: "…on-premises…" really means the account
   * has no license (teams-apis.md §3.5, DOMAIN.md F3).
   */
  reason?: ReasonCode;
}

export interface VoiceApplication extends Association {
  /** Resource accounts associated with it. */
  accountIds: string[];
}

/** A user that is not a resource account, as far as the tenant doctor needs to know it. */
export interface DirectoryUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  /** skuIds */
  assignedLicenses: string[];
}

/** One read of the tenant for the doctor. */
export interface TenantScan {
  /**
   * Every resource account, with its associations (unlike listAccounts' items: the doctor reads them).
   * `broken` is set where the backend can tell: the simulated tenant knows, the Microsoft backend reads
   * it from the Teams Phone service plan's provisioning status.
   */
  accounts: ResourceAccount[];
  /**
   * Numbers assigned to voice applications (resource accounts), settled or on their way, including
   * those whose target no longer exists (stuck "pending" after a delete, DOMAIN.md F1).
   */
  numbers: PhoneNumber[];
  /** Auto attendants and call queues; accountIds as the tenant lists them, gone accounts included. */
  voiceApplications: VoiceApplication[];
  /** Users that are not resource accounts yet hold a Teams Phone Resource Account license. */
  usersWithResourceAccountLicense: DirectoryUser[];
}
