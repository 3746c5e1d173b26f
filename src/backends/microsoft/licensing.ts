import type { LicenseChange, LicenseProvisioning } from '../../provisioning/directory';
import { freeSeats, type ResourceAccount } from '../../provisioning/model';
import { DirectoryRefusal } from '../../provisioning/result';
import { accountOrRefuse, observeAccount } from './accounts';
import { path, type Tenant } from './context';
import { toLicenseProvisioning } from './graph/mapping';
import { LicenseDetailSchema } from './graph/schemas';
import { asTenant } from './tenantErrors';

/**
 * POST /users/{id}/assignLicense (teams-apis.md §1.4). Both addLicenses and removeLicenses are sent,
 * ALWAYS, in ONE call: the parameters are non-nullable, and a Phone System → Resource Account switch
 * done as two calls can break the account for good (§0.4, DOMAIN.md F2). Adding a license already
 * held and removing one not held are dropped, so a re-run of a done step changes nothing.
 */
export async function assignLicense(tenant: Tenant, id: string, change: LicenseChange): Promise<ResourceAccount> {
  const account = await accountOrRefuse(tenant, id, true);
  // Seat counts must be current: read them again rather than trust the cache (3 RU, §1.9).
  tenant.facts.invalidate();
  const facts = await tenant.facts.get();
  const known = (skuId: string) => {
    if (!facts.allSkuIds.includes(skuId.toLowerCase())) throw new DirectoryRefusal('LICENSE_NOT_IN_TENANT', { skuId }, 'license');
    return skuId;
  };
  const held = new Set(account.assignedLicenses.map((s) => s.toLowerCase()));
  const adds = [...new Set(change.addSkuIds.map(known))].filter((s) => !held.has(s.toLowerCase()));
  const removes = [...new Set(change.removeSkuIds.map(known))].filter((s) => held.has(s.toLowerCase()));
  // Usage location first (§1.3, DOMAIN.md F8).
  if (adds.length > 0 && !account.usageLocation) {
    throw new DirectoryRefusal('LICENSE_USAGE_LOCATION_MISSING', { upn: account.userPrincipalName }, 'usageLocation');
  }
  for (const skuId of adds) {
    const sku = facts.skus.find((s) => s.skuId.toLowerCase() === skuId.toLowerCase());
    if (sku && freeSeats(sku) === 0) {
      throw new DirectoryRefusal('LICENSE_NO_FREE_SEAT', { sku: sku.skuPartNumber, free: 0, enabled: sku.enabled }, 'license');
    }
  }
  if (adds.length === 0 && removes.length === 0) return account;

  const body = { addLicenses: adds.map((skuId) => ({ skuId, disabledPlans: [] })), removeLicenses: removes };
  const first = facts.skus.find((s) => s.skuId.toLowerCase() === adds[0]?.toLowerCase());
  const attempt = {
    action: 'assignLicense',
    upn: account.userPrincipalName,
    recentlyCreated: tenant.recent.has(id),
    ...(first ? { sku: { skuPartNumber: first.skuPartNumber, enabled: first.enabled } } : {}),
  } as const;
  await asTenant(attempt, () => tenant.graph.send('POST', tenant.graph.url(`${path('users', account.id)}/assignLicense`), body));
  tenant.facts.invalidate();
  const removed = new Set(removes.map((s) => s.toLowerCase()));
  return { ...account, assignedLicenses: [...account.assignedLicenses.filter((s) => !removed.has(s.toLowerCase())), ...adds] };
}

/** GET /users/{id}/licenseDetails → provisioningStatus of the Teams Phone plan (teams-apis.md §1.2, §1.4). */
export async function getLicenseProvisioning(tenant: Tenant, id: string): Promise<LicenseProvisioning> {
  const observed = await observeAccount(tenant, id);
  if (!observed) throw new DirectoryRefusal('ACCOUNT_NOT_FOUND', { username: id });
  // Graph does not show the new account yet, so it cannot hold a license yet (F13).
  if (!observed.inGraph) return 'none';
  const account = observed.account;
  const details = await asTenant({ action: 'readAccount', upn: account.userPrincipalName, recentlyCreated: tenant.recent.has(id) }, () =>
    tenant.graph.getAll(`${path('users', account.id)}/licenseDetails`, LicenseDetailSchema, { $select: 'skuId,servicePlans' }),
  );
  return toLicenseProvisioning(details);
}
