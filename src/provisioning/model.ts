import { z } from 'zod';
import type { HybridDetection } from './hybrid';

/**
 * The resource-account domain, in the seed's language (shared/design/DOMAIN.md).
 * Schemas are the single source of truth; types are inferred from them.
 */

/** The application id bound to a resource account is what makes it an AA or a CQ account (DOMAIN.md). */
export const ACCOUNT_TYPES = {
  autoAttendant: { applicationId: 'ce933385-9390-45d1-9512-c8d228074e07' },
  callQueue: { applicationId: '11cd3e2e-fccb-42ad-ad00-878b93575e07' },
} as const;
export const AccountTypeSchema = z.enum(['autoAttendant', 'callQueue']);
export type AccountType = z.infer<typeof AccountTypeSchema>;

/**
 * License kinds a resource account can carry (teams-apis.md §1.7). SKUs are resolved per tenant by
 * skuPartNumber / service plan, never by one hard-coded GUID.
 */
export const LicenseKindSchema = z.enum(['resourceAccount', 'phoneSystem']);
export type LicenseKind = z.infer<typeof LicenseKindSchema>;

export const SERVICE_PLANS = {
  resourceAccount: { servicePlanId: 'f47330e9-c134-43b3-9993-e7f004506889', name: 'MCOEV_VIRTUALUSER' },
  phoneSystem: { servicePlanId: '4828c8ec-dc2e-4779-b502-87ac9ce28ab7', name: 'MCOEV' },
} as const;

export const LicenseSkuSchema = z.object({
  skuId: z.string(),
  skuPartNumber: z.string(),
  kind: LicenseKindSchema,
  /** prepaidUnits.enabled */
  enabled: z.number().int().nonnegative(),
  consumed: z.number().int().nonnegative(),
});
export type LicenseSku = z.infer<typeof LicenseSkuSchema>;

/** free = enabled − consumed (teams-apis.md §1.5); suspended/warning units cannot be counted on. */
export function freeSeats(sku: LicenseSku): number {
  return Math.max(0, sku.enabled - sku.consumed);
}

export const VerifiedDomainSchema = z.object({
  name: z.string(),
  isDefault: z.boolean().default(false),
  /** Resource-account UPNs become SIP URIs and need an online domain (New-CsOnlineApplicationInstance). */
  isOnline: z.boolean().default(true),
});
export type VerifiedDomain = z.infer<typeof VerifiedDomainSchema>;

export const NumberTypeSchema = z.enum(['callingPlan', 'operatorConnect', 'directRouting']);
export type NumberType = z.infer<typeof NumberTypeSchema>;

export const NumberCapabilitySchema = z.enum([
  'voiceApplicationAssignment',
  'userAssignment',
  'conferenceAssignment',
  'teamsPhoneMobile',
]);
export type NumberCapability = z.infer<typeof NumberCapabilitySchema>;

export const ActivationStateSchema = z.enum([
  'activated',
  'assignmentPending',
  'assignmentFailed',
  'updatePending',
  'updateFailed',
]);
export type ActivationState = z.infer<typeof ActivationStateSchema>;

/** Mirrors Graph numberAssignment (teams-apis.md §2). */
export const PhoneNumberSchema = z.object({
  telephoneNumber: z.string(),
  numberType: NumberTypeSchema,
  /** Calling Plan service numbers are toll or toll-free. */
  tollFree: z.boolean().default(false),
  capabilities: z.array(NumberCapabilitySchema),
  activationState: ActivationStateSchema,
  assignmentStatus: z.enum(['unassigned', 'userAssigned', 'voiceApplicationAssigned', 'conferenceAssigned']),
  assignmentTargetId: z.string().nullable(),
  /**
   * Null when the tenant gives none: Direct Routing numbers carry no country in Microsoft's own examples
   * (Graph numberAssignments, Get-CsPhoneNumberAssignment). Such a number is still a number (DOMAIN.md F17).
   */
  isoCountryCode: z.string().length(2).nullable(),
  city: z.string().optional(),
  assignmentBlocked: z.boolean().default(false),
});
export type PhoneNumber = z.infer<typeof PhoneNumberSchema>;

/** A service number is one that may be put on a voice application (F5). */
export function isServiceNumber(n: PhoneNumber): boolean {
  return n.capabilities.includes('voiceApplicationAssignment');
}

export const AssociationSchema = z.object({
  configurationId: z.string(),
  configurationType: z.enum(['autoAttendant', 'callQueue']),
  name: z.string(),
});
export type Association = z.infer<typeof AssociationSchema>;

export const ResourceAccountSchema = z.object({
  /** Entra object id */
  id: z.string(),
  userPrincipalName: z.string(),
  displayName: z.string(),
  accountType: AccountTypeSchema,
  /**
   * Resource accounts are disabled for sign-in and must remain so (teams-apis.md §1.1). Switchboard
   * never enables one, but accounts made by hand or by other tools may be: the doctor reports them.
   */
  accountEnabled: z.boolean(),
  usageLocation: z.string().length(2).nullable(),
  /** skuIds */
  assignedLicenses: z.array(z.string()),
  phoneNumber: z.string().nullable(),
  associations: z.array(AssociationSchema).default([]),
  /**
   * Set by a tenant when the account stopped working, e.g. after a license switch done as two
   * operations (teams-apis.md §1.4: "the only cure is a new account").
   */
  broken: z.boolean().default(false),
  /**
   * Synchronised from on-premises Active Directory (Graph user onPremisesSyncEnabled): a hybrid
   * application endpoint made on Skype for Business Server 2019 with New-CsHybridApplicationEndpoint.
   * Its name and type are owned on-premises; only licenses, numbers and associations are set online.
   * Absent means a cloud account (every account made online, and records written before this field).
   */
  onPremisesSynced: z.boolean().optional(),
  createdAt: z.string(),
});
export type ResourceAccount = z.infer<typeof ResourceAccountSchema>;

/**
 * An account as a list shows it: everything but its associations, which only the account itself
 * carries (TenantDirectory.getAccount). On Microsoft 365 the associations come from the AA and CQ
 * listings, two more cmdlets that a cold list would otherwise pay for a column it does not show
 * (issue 13: a list of 1,000 accounts costs at most one cmdlet).
 */
export type AccountSummary = Omit<ResourceAccount, 'associations'>;

/** What the tenant reports about itself, used by the form and by the rules. */
export interface TenantFacts {
  tenantId: string;
  displayName: string;
  domains: VerifiedDomain[];
  skus: LicenseSku[];
  /** Set by the provisioning service (SWITCHBOARD_HYBRID, or the backend's detection). */
  hybrid?: HybridDetection;
  /**
   * The organization's country (Graph organization.countryLetterCode, ISO 3166-1 alpha-2) where the
   * backend knows it: the add form's default usage location.
   */
  countryLetterCode?: string | null;
}

/** The license kinds an account holds, given the tenant's SKU catalogue. */
export function licenseKindsOf(account: Pick<ResourceAccount, 'assignedLicenses'>, skus: readonly LicenseSku[]): LicenseKind[] {
  return skus.filter((s) => account.assignedLicenses.includes(s.skuId)).map((s) => s.kind);
}

/** Who did something: identity comes from the activity, never from card data. */
export interface Actor {
  aadObjectId: string;
  name: string;
}
