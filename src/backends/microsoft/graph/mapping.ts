import type { LicenseProvisioning, NumberOperation } from '../../../provisioning/directory';
import {
  ActivationStateSchema,
  NumberCapabilitySchema,
  NumberTypeSchema,
  type LicenseSku,
  type PhoneNumber,
  type VerifiedDomain,
} from '../../../provisioning/model';
import { licenseKindOfPlans, TEAMS_PHONE_PLAN_IDS } from '../servicePlans';
import { reasonOfStatusDetail } from '../tenantErrors';
import type { LicenseDetail, NumberAssignmentRecord, NumberOperationRecord, Organization, SubscribedSku } from './schemas';

/** Graph records → the domain model (src/provisioning/model.ts). */

/**
 * A domain is "online" (usable as a SIP address) when Graph lists OfficeCommunicationsOnline among its
 * capabilities (inference from verifiedDomain.capabilities; New-CsOnlineApplicationInstance needs an
 * online domain, teams-apis.md §3.2).
 */
export function toDomains(organization: Organization): VerifiedDomain[] {
  return organization.verifiedDomains.map((d) => ({
    name: d.name,
    isDefault: d.isDefault ?? false,
    isOnline: (d.capabilities ?? '').split(/[,\s]+/).includes('OfficeCommunicationsOnline'),
  }));
}

/**
 * The SKUs a resource account can take, found per tenant by service plan (servicePlans.ts, Microsoft's
 * licensing table), never by one hard-coded skuId: commercial, GCC and SMB products each have their own.
 */
export function toLicenseSkus(skus: readonly SubscribedSku[]): LicenseSku[] {
  const result: LicenseSku[] = [];
  for (const sku of skus) {
    const kind = licenseKindOfPlans(sku.servicePlans.map((p) => p.servicePlanId));
    if (!kind) continue;
    // free = prepaidUnits.enabled − consumedUnits (teams-apis.md §1.5); the model keeps both counts.
    result.push({
      skuId: sku.skuId,
      skuPartNumber: sku.skuPartNumber,
      kind,
      enabled: Math.max(0, sku.prepaidUnits.enabled),
      consumed: Math.max(0, sku.consumedUnits),
    });
  }
  const order = { resourceAccount: 0, phoneSystem: 1 } as const;
  // The rules take the first SKU of a kind: put the one with the most free seats first.
  return result.sort((a, b) => order[a.kind] - order[b.kind] || b.enabled - b.consumed - (a.enabled - a.consumed));
}

/** servicePlans[].provisioningStatus of the Teams Phone plans (teams-apis.md §1.2, §1.4). */
export function toLicenseProvisioning(details: readonly LicenseDetail[]): LicenseProvisioning {
  const statuses = details
    .flatMap((d) => d.servicePlans)
    .filter((p) => TEAMS_PHONE_PLAN_IDS.has(p.servicePlanId.toLowerCase()))
    .map((p) => p.provisioningStatus ?? '');
  if (statuses.includes('Success')) return 'success';
  if (statuses.includes('Error')) return 'error';
  if (statuses.some((s) => s.startsWith('Pending'))) return 'pending';
  return 'none';
}

const ASSIGNMENT_STATUSES = new Set(['unassigned', 'userAssigned', 'voiceApplicationAssigned', 'conferenceAssigned']);
type AssignmentStatus = PhoneNumber['assignmentStatus'];
const isAssignmentStatus = (s: string): s is AssignmentStatus => ASSIGNMENT_STATUSES.has(s);

/**
 * Graph has no toll-free flag; these prefixes are toll-free by national numbering plans (inference:
 * NANP 8XX, UK 080x, France 080x). Shown to the admin only; nothing is decided on it.
 */
const TOLL_FREE = /^\+(1(800|833|844|855|866|877|888)|4480|3380)/;

/**
 * numberAssignment → PhoneNumber. A record the model cannot represent (numberType internalError, status
 * policyAssigned / thirdPartyAppAssigned) is no candidate for a resource account: null. A number without
 * a country is still a number (DOMAIN.md F17): Microsoft's own Direct Routing examples carry
 * "isoCountryCode": null (Graph list page) or an empty IsoCountryCode (Get-CsPhoneNumberAssignment).
 * Graph v1.0 does not expose the assignment block (PowerShell's AssignmentBlockedState), so
 * assignmentBlocked is false; a blocked number fails in the operation's statusDetail instead.
 */
export function toPhoneNumber(record: NumberAssignmentRecord): PhoneNumber | null {
  const numberType = NumberTypeSchema.safeParse(record.numberType);
  const activationState = ActivationStateSchema.safeParse(record.activationState ?? 'activated');
  const country = (record.isoCountryCode ?? '').trim().toUpperCase();
  if (!numberType.success || !activationState.success || !isAssignmentStatus(record.assignmentStatus)) return null;
  const telephoneNumber = record.telephoneNumber.startsWith('+') ? record.telephoneNumber : `+${record.telephoneNumber}`;
  const capabilities = (record.capabilities ?? []).flatMap((c) => {
    const parsed = NumberCapabilitySchema.safeParse(c);
    return parsed.success ? [parsed.data] : [];
  });
  return {
    telephoneNumber,
    numberType: numberType.data,
    tollFree: TOLL_FREE.test(telephoneNumber),
    capabilities,
    activationState: activationState.data,
    assignmentStatus: record.assignmentStatus,
    assignmentTargetId: record.assignmentTargetId ? record.assignmentTargetId : null,
    isoCountryCode: /^[A-Z]{2}$/.test(country) ? country : null,
    ...(record.city ? { city: record.city } : {}),
    assignmentBlocked: false,
  };
}

/**
 * telephoneNumberLongRunningOperation → NumberOperation. "skipped" and future values are reported as
 * failed so that a plan re-reads the number instead of trusting an outcome we cannot interpret.
 */
export function toNumberOperation(record: NumberOperationRecord, telephoneNumber: string): NumberOperation {
  const detail = (record.numbers ?? []).map((n) => n.statusDetail ?? '').find((d) => d.trim() !== '');
  const known = ['notStarted', 'running', 'succeeded', 'failed'] as const;
  const status = known.find((s) => s === record.status);
  if (!status) {
    const statusDetail = detail ?? `The tenant reported the operation as "${record.status}".`;
    return { id: record.id, status: 'failed', telephoneNumber, statusDetail };
  }
  if (detail === undefined || status !== 'failed') return { id: record.id, status, telephoneNumber };
  const reason = reasonOfStatusDetail(detail);
  return { id: record.id, status, telephoneNumber, statusDetail: detail, ...(reason ? { reason } : {}) };
}
