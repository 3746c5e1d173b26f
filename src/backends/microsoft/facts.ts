import type { TenantFacts } from '../../provisioning/model';
import { all, one, type GraphClient } from './graph/http';
import { toDomains, toLicenseSkus } from './graph/mapping';
import { OrganizationSchema, SubscribedSkuSchema } from './graph/schemas';

/**
 * GET /organization (verified domains) and GET /subscribedSkus (seats; teams-apis.md §1.5). Costs 1 +
 * 3 resource units, hence cached for a short while by the caller.
 */
export async function readTenantFacts(graph: GraphClient, tenantId: string): Promise<TenantFacts & { allSkuIds: string[] }> {
  // One round trip ($batch) for both; only the fields we read.
  const { organizations, skus } = await graph.readMany({
    organizations: one('/organization', OrganizationSchema, { $select: 'id,displayName,countryLetterCode,verifiedDomains' }),
    skus: all('/subscribedSkus', SubscribedSkuSchema, { $select: 'skuId,skuPartNumber,capabilityStatus,consumedUnits,prepaidUnits,servicePlans' }),
  });
  const organization = organizations.value[0];
  if (!organization) throw new Error('Graph GET /organization returned no organization');
  if (organization.id.toLowerCase() !== tenantId) {
    throw new Error(`Graph answers for tenant ${organization.id}, not the configured ${tenantId}`);
  }
  const country = (organization.countryLetterCode ?? '').trim().toUpperCase();
  return {
    tenantId,
    displayName: organization.displayName ?? '',
    countryLetterCode: /^[A-Z]{2}$/.test(country) ? country : null,
    domains: toDomains(organization),
    skus: toLicenseSkus(skus),
    allSkuIds: skus.map((s) => s.skuId.toLowerCase()),
  };
}
