import { freeSeats, type LicenseKind, type LicenseSku } from '../../provisioning/model';
import type { LicenseChange, LicenseProvisioning } from '../../provisioning/directory';
import { DirectoryRefusal } from '../../provisioning/result';
import type { StoredAccount, TenantState } from './state';
import { releaseNumbersOf } from './numbers';

export function teamsPhoneKinds(state: TenantState, account: StoredAccount): LicenseKind[] {
  return state.skus.filter((s) => account.assignedLicenses.includes(s.skuId)).map((s) => s.kind);
}

/**
 * The Teams Phone service plan is usable only some time after the license was assigned ("minutes
 * up to hours", teams-apis.md §1.4). A broken account never becomes usable again (§1.4).
 */
export function provisioningAt(
  state: TenantState,
  account: StoredAccount,
  at: Date,
  provisioningMs: number,
): LicenseProvisioning {
  if (teamsPhoneKinds(state, account).length === 0 || account.licensedAt === null) return 'none';
  if (account.broken) return 'error';
  return at.getTime() < Date.parse(account.licensedAt) + provisioningMs ? 'pending' : 'success';
}

function skuOrRefuse(state: TenantState, skuId: string): LicenseSku {
  const sku = state.skus.find((s) => s.skuId === skuId);
  if (!sku) throw new DirectoryRefusal('LICENSE_NOT_IN_TENANT', { skuId }, 'license');
  return sku;
}

/**
 * POST /users/{id}/assignLicense (teams-apis.md §1.4). Adding a license the account already has and
 * removing one it lacks are no-ops here, which keeps a re-run of a done plan step harmless.
 */
export function assignLicense(state: TenantState, account: StoredAccount, change: LicenseChange, now: Date): void {
  const adds = [...new Set(change.addSkuIds)].map((id) => skuOrRefuse(state, id));
  const removes = [...new Set(change.removeSkuIds)].map((id) => skuOrRefuse(state, id));
  const newAdds = adds.filter((s) => !account.assignedLicenses.includes(s.skuId));
  const realRemoves = removes.filter((s) => account.assignedLicenses.includes(s.skuId));
  // Usage location must be set before any license (teams-apis.md §1.3, DOMAIN.md F8).
  if (newAdds.length > 0 && account.usageLocation === null) {
    throw new DirectoryRefusal('LICENSE_USAGE_LOCATION_MISSING', { upn: account.userPrincipalName }, 'usageLocation');
  }
  for (const sku of newAdds) {
    const free = freeSeats(sku);
    if (free === 0) throw new DirectoryRefusal('LICENSE_NO_FREE_SEAT', { sku: sku.skuPartNumber, enabled: sku.enabled, free }, 'license');
  }

  const hadTeamsPhone = teamsPhoneKinds(state, account).length > 0;
  for (const sku of realRemoves) sku.consumed -= 1;
  for (const sku of newAdds) sku.consumed += 1;
  const removedIds = new Set(realRemoves.map((s) => s.skuId));
  account.assignedLicenses = [
    ...account.assignedLicenses.filter((id) => !removedIds.has(id)),
    ...newAdds.map((s) => s.skuId),
  ];
  const hasTeamsPhone = teamsPhoneKinds(state, account).length > 0;

  if (!hadTeamsPhone && hasTeamsPhone) account.licensedAt = now.toISOString();
  if (hadTeamsPhone && !hasTeamsPhone) {
    // Removing the required license on its own unassigns the number (teams-apis.md §0.4).
    releaseNumbersOf(state, account.id);
    account.licensedAt = null;
    // Phone System removed without the Resource Account license in the same call: "the resource
    // account may no longer function as expected" (teams-apis.md §1.4, DOMAIN.md F2).
    if (realRemoves.some((s) => s.kind === 'phoneSystem')) account.broken = true;
  }
}
