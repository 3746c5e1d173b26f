import { z } from 'zod';

/**
 * What we read from Graph v1.0, parsed at the boundary. Enumerations are read as strings and mapped
 * afterwards: Graph adds members (unknownFutureValue, internalError…) that must not break a listing.
 */

export const OrganizationSchema = z.object({
  value: z.array(
    z.object({
      id: z.string(),
      displayName: z.string().nullish(),
      verifiedDomains: z.array(
        z.object({
          name: z.string(),
          isDefault: z.boolean().nullish(),
          /** e.g. "Email, OfficeCommunicationsOnline" */
          capabilities: z.string().nullish(),
        }),
      ),
    }),
  ),
});
export type Organization = z.infer<typeof OrganizationSchema>['value'][number];

export const SubscribedSkuSchema = z.object({
  skuId: z.string(),
  skuPartNumber: z.string(),
  capabilityStatus: z.string().nullish(),
  consumedUnits: z.number().int(),
  prepaidUnits: z.object({ enabled: z.number().int() }),
  servicePlans: z.array(z.object({ servicePlanId: z.string(), servicePlanName: z.string().nullish() })).default([]),
});
export type SubscribedSku = z.infer<typeof SubscribedSkuSchema>;

/** usageLocation, department, accountEnabled and assignedLicenses come only when selected (§1.2). */
export const USER_SELECT = [
  'id',
  'userPrincipalName',
  'displayName',
  'accountEnabled',
  'usageLocation',
  'department',
  'assignedLicenses',
  'createdDateTime',
  // true for a user Entra Connect syncs from on-premises AD: a hybrid endpoint (New-CsHybridApplicationEndpoint).
  'onPremisesSyncEnabled',
].join(',');

export const GraphUserSchema = z.object({
  id: z.string(),
  userPrincipalName: z.string(),
  displayName: z.string().nullish(),
  accountEnabled: z.boolean().nullish(),
  usageLocation: z.string().nullish(),
  department: z.string().nullish(),
  assignedLicenses: z.array(z.object({ skuId: z.string() })).default([]),
  createdDateTime: z.string().nullish(),
  onPremisesSyncEnabled: z.boolean().nullish(),
});
export type GraphUser = z.infer<typeof GraphUserSchema>;

export const LicenseDetailSchema = z.object({
  skuId: z.string(),
  servicePlans: z.array(z.object({ servicePlanId: z.string(), provisioningStatus: z.string().nullish() })).default([]),
});
export type LicenseDetail = z.infer<typeof LicenseDetailSchema>;

/** numberAssignment (teams-apis.md §2). */
export const NumberAssignmentSchema = z.object({
  telephoneNumber: z.string(),
  numberType: z.string(),
  activationState: z.string().nullish(),
  assignmentStatus: z.string(),
  capabilities: z.array(z.string()).nullish(),
  assignmentTargetId: z.string().nullish(),
  isoCountryCode: z.string().nullish(),
  city: z.string().nullish(),
});
export type NumberAssignmentRecord = z.infer<typeof NumberAssignmentSchema>;

/**
 * telephoneNumberLongRunningOperation (teams-apis.md §2). The v1.0 Get page's example answers the entity
 * wrapped in {"value": …} (fixtures/graph-telephonenumberlongrunningoperation.json), the resource page
 * and Graph's usual single-entity answer bare: both are read.
 */
const unwrapValue = (body: unknown): unknown => {
  if (body && typeof body === 'object' && !('id' in body) && 'value' in body) {
    const { value } = body as { value: unknown };
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  }
  return body;
};

export const NumberOperationSchema = z.preprocess(unwrapValue, z.object({
  id: z.string(),
  status: z.string(),
  numbers: z
    .array(
      z.object({
        resourceLocation: z.string().nullish(),
        status: z.string().nullish(),
        statusDetail: z.string().nullish(),
      }),
    )
    .nullish(),
}));
export type NumberOperationRecord = z.infer<typeof NumberOperationSchema>;
