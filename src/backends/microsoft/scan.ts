import type { DirectoryUser, TenantScan } from '../../provisioning/directory';
import type { ResourceAccount } from '../../provisioning/model';
import { accountsWithAssociations, listAccounts } from './accounts';
import { path, type Tenant } from './context';
import { all, type Read } from './graph/http';
import { toLicenseProvisioning, toPhoneNumber } from './graph/mapping';
import { GraphUserSchema, LicenseDetailSchema, USER_SELECT, type GraphUser, type LicenseDetail } from './graph/schemas';
import { listVoiceApplications } from './voiceApps';

/**
 * One read of the tenant for the doctor (src/provisioning/doctor.ts), from what a listing already
 * reads (instances, resource-account users, numbers assigned to voice apps; cached) and the AA/CQs
 * (cached; the accounts' associations are joined from them, as a list item has none), plus, in
 * one series of $batch rounds (20 reads a round):
 * - each licensed account's licenseDetails: a Teams Phone plan whose provisioningStatus is "Error"
 *   marks the account broken (inference: Microsoft says only that an account whose license was switched
 *   in two operations "may no longer function as expected", virtual-user.md; the plan's status is what
 *   Graph shows of a license that does not work, teams-apis.md §1.2);
 * - the users holding a Resource Account SKU: GET /users?$filter=assignedLicenses/any(x:x/skuId eq {id})
 *   (Graph user.assignedLicenses supports $filter on skuId), of whom those that are no application
 *   instance are reported. They are read, never changed.
 */
export async function scanTenant(tenant: Tenant): Promise<TenantScan> {
  const [page, listing, voiceApplications, facts, instances] = await Promise.all([
    listAccounts(tenant, { offset: 0, limit: Number.MAX_SAFE_INTEGER }),
    tenant.listing.get(),
    listVoiceApplications(tenant),
    tenant.facts.get(),
    tenant.instances.get(),
  ]);
  const teamsPhone = new Set(facts.skus.map((s) => s.skuId.toLowerCase()));
  const licensed = page.items.filter((a) => a.assignedLicenses.some((id) => teamsPhone.has(id.toLowerCase())));
  const reads: Record<string, Read<LicenseDetail[] | GraphUser[]>> = {};
  for (const account of licensed) reads[`details:${account.id}`] = all(`${path('users', account.id)}/licenseDetails`, LicenseDetailSchema, { $select: 'skuId,servicePlans' });
  for (const sku of facts.skus.filter((s) => s.kind === 'resourceAccount')) {
    // A skuId of the tenant's own subscribedSkus, a GUID: an OData Guid literal, unquoted.
    if (/^[0-9a-f-]{36}$/i.test(sku.skuId)) {
      reads[`holders:${sku.skuId}`] = all('/users', GraphUserSchema, { $filter: `assignedLicenses/any(x:x/skuId eq ${sku.skuId})`, $select: USER_SELECT, $top: 999 });
    }
  }
  const answers = await tenant.graph.readMany(reads);
  // List items carry no associations (TenantDirectory.listAccounts); the doctor needs them (an AA/CQ
  // account serving the wrong type, an unused account), joined here from the AA/CQ listing just read.
  const accounts: ResourceAccount[] = accountsWithAssociations(page.items, voiceApplications).map((account) => {
    const details = answers[`details:${account.id}`] as LicenseDetail[] | undefined;
    return details && toLicenseProvisioning(details) === 'error' ? { ...account, broken: true } : account;
  });
  const users = new Map<string, DirectoryUser>();
  for (const [key, value] of Object.entries(answers)) {
    if (!key.startsWith('holders:')) continue;
    for (const user of value as GraphUser[]) {
      const id = user.id.toLowerCase();
      // Application instances (resource accounts, ours or another app's) are not "users" here.
      if (instances.has(id) || users.has(id)) continue;
      users.set(id, { id: user.id, userPrincipalName: user.userPrincipalName, displayName: user.displayName ?? user.userPrincipalName, assignedLicenses: user.assignedLicenses.map((l) => l.skuId) });
    }
  }
  return {
    accounts,
    numbers: listing.numbers.flatMap((r) => toPhoneNumber(r) ?? []).filter((n) => n.assignmentTargetId !== null),
    voiceApplications,
    usersWithResourceAccountLicense: [...users.values()].sort((a, b) => a.userPrincipalName.localeCompare(b.userPrincipalName)),
  };
}
