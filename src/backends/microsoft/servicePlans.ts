/**
 * Microsoft's licensing table, the rows Switchboard needs, kept as data: "Product names and service
 * plan identifiers for licensing" (MicrosoftDocs/entra-docs docs/identity/users/licensing-service-plan-reference.md,
 * ms.date 10/29/2025, also offered there as a CSV). A SKU is recognised by the service plans it carries,
 * never by one skuId: each cloud (commercial, GCC, SMB…) has its own product and some their own plan.
 */
export const LICENSING_TABLE_SOURCE =
  'https://learn.microsoft.com/entra/identity/users/licensing-service-plan-reference (MicrosoftDocs/entra-docs, updated 2025-10-29)';

export interface ServicePlan {
  name: string;
  servicePlanId: string;
}

/** "Microsoft 365 Phone System" plans: commercial, Government (GCC), Small and Medium Business. */
export const PHONE_SYSTEM_PLANS: readonly ServicePlan[] = [
  { name: 'MCOEV', servicePlanId: '4828c8ec-dc2e-4779-b502-87ac9ce28ab7' },
  { name: 'MCOEV_GOV', servicePlanId: 'db23fce2-a974-42ef-9002-d78dd42a0f22' },
  { name: 'MCOEVSMB', servicePlanId: 'ed777b71-af04-42ca-9798-84344c66f7c6' },
];

/** "Microsoft 365 Phone Standard Resource Account" plans: commercial (also Faculty, GCC High) and Government. */
export const RESOURCE_ACCOUNT_PLANS: readonly ServicePlan[] = [
  { name: 'MCOEV_VIRTUALUSER', servicePlanId: 'f47330e9-c134-43b3-9993-e7f004506889' },
  { name: 'MCOEV_VIRTUALUSER_GOV', servicePlanId: '0628a73f-3b4a-4989-bd7b-0f8823144313' },
];

/**
 * Plans a standalone Teams Phone product may carry beside its phone plan: the table lists MCOEV_GOV with
 * EXCHANGE_S_FOUNDATION_GOV, and many products with EXCHANGE_S_FOUNDATION.
 */
export const FOUNDATION_PLANS: readonly ServicePlan[] = [
  { name: 'EXCHANGE_S_FOUNDATION', servicePlanId: '113feb6c-3fe4-4440-bddc-54d774bf0318' },
  { name: 'EXCHANGE_S_FOUNDATION_GOV', servicePlanId: '922ba911-5694-4e99-a794-73aed9bfeec8' },
];

/** The table's rows for the products a resource account can take (String ID = skuPartNumber, GUID = skuId). */
export const TEAMS_PHONE_PRODUCTS = [
  { product: 'Microsoft Teams Phone Standard', skuPartNumber: 'MCOEV', skuId: 'e43b5b99-8dfb-405f-9987-dc307f34bcbd', plans: ['MCOEV'] },
  { product: 'Microsoft Teams Phone Standard for DOD', skuPartNumber: 'MCOEV_DOD', skuId: 'd01d9287-694b-44f3-bcc5-ada78c8d953e', plans: ['MCOEV'] },
  { product: 'Microsoft Teams Phone Standard for Faculty', skuPartNumber: 'MCOEV_FACULTY', skuId: 'd979703c-028d-4de5-acbf-7955566b69b9', plans: ['MCOEV'] },
  { product: 'Microsoft Teams Phone Standard for GCC', skuPartNumber: 'MCOEV_GOV', skuId: 'a460366a-ade7-4791-b581-9fbff1bdaa85', plans: ['EXCHANGE_S_FOUNDATION_GOV', 'MCOEV_GOV'] },
  { product: 'Microsoft Teams Phone Standard for GCCHIGH', skuPartNumber: 'MCOEV_GCCHIGH', skuId: '7035277a-5e49-4abc-a24f-0ec49c501bb5', plans: ['MCOEV'] },
  { product: 'Microsoft Teams Phone Standard for Small and Medium Business', skuPartNumber: 'MCOEVSMB_1', skuId: 'aa6791d3-bb09-4bc2-afed-c30c3fe26032', plans: ['MCOEVSMB'] },
  { product: 'Microsoft Teams Phone Standard for Student', skuPartNumber: 'MCOEV_STUDENT', skuId: '1f338bbc-767e-4a1e-a2d4-b73207cc5b93', plans: ['MCOEV'] },
  { product: 'Microsoft Teams Phone Standard for TELSTRA', skuPartNumber: 'MCOEV_TELSTRA', skuId: 'ffaf2d68-1c95-4eb3-9ddd-59b81fba0f61', plans: ['MCOEV'] },
  { product: 'Microsoft Teams Phone Standard_System_USGOV_DOD', skuPartNumber: 'MCOEV_USGOV_DOD', skuId: 'b0e7de67-e503-4934-b729-53d595ba5cd1', plans: ['MCOEV'] },
  { product: 'Microsoft Teams Phone Standard_USGOV_GCCHIGH', skuPartNumber: 'MCOEV_USGOV_GCCHIGH', skuId: '985fcb26-7b94-475b-b512-89356697be71', plans: ['MCOEV'] },
  { product: 'Microsoft Teams Phone Resource Account', skuPartNumber: 'PHONESYSTEM_VIRTUALUSER', skuId: '440eaaa8-b3e0-484b-a8be-62870b9ba70a', plans: ['MCOEV_VIRTUALUSER'] },
  { product: 'Microsoft Teams Phone Resource Account for Faculty', skuPartNumber: 'PHONESYSTEM_VIRTUALUSER_FACULTY', skuId: '0e142028-345e-45da-8d92-8bfd4093bbb9', plans: ['MCOEV_VIRTUALUSER'] },
  { product: 'Microsoft Teams Phone Resource Account for GCC', skuPartNumber: 'PHONESYSTEM_VIRTUALUSER_GOV', skuId: '2cf22bcb-0c9e-4bc6-8daf-7e7654c0f285', plans: ['MCOEV_VIRTUALUSER_GOV'] },
  { product: 'Microsoft Teams Phone Resource Account_USGOV_GCCHIGH', skuPartNumber: 'PHONESYSTEM_VIRTUALUSER_USGOV_GCCHIGH', skuId: 'e3f0522e-ebb7-4561-9f90-b44516d65b77', plans: ['MCOEV_VIRTUALUSER'] },
] as const;

const ids = (plans: readonly ServicePlan[]) => new Set(plans.map((p) => p.servicePlanId));
const PHONE_SYSTEM = ids(PHONE_SYSTEM_PLANS);
const RESOURCE_ACCOUNT = ids(RESOURCE_ACCOUNT_PLANS);
const FOUNDATION = ids(FOUNDATION_PLANS);

/** Plans whose provisioning status says whether the account can take a number (teams-apis.md §1.2, §1.4). */
export const TEAMS_PHONE_PLAN_IDS: ReadonlySet<string> = new Set([...PHONE_SYSTEM, ...RESOURCE_ACCOUNT]);

/**
 * What a subscribed SKU is for a resource account, from its service plan ids. A Resource Account plan
 * anywhere makes it "resourceAccount". A Phone System plan makes it "phoneSystem" only in a standalone
 * product (nothing but phone and foundation plans): E5, Teams Rooms and Shared Devices carry MCOEV too,
 * and a bot must not spend such a seat on a resource account.
 */
export function licenseKindOfPlans(servicePlanIds: readonly string[]): 'resourceAccount' | 'phoneSystem' | null {
  const plans = servicePlanIds.map((p) => p.toLowerCase());
  if (plans.some((p) => RESOURCE_ACCOUNT.has(p))) return 'resourceAccount';
  if (plans.some((p) => PHONE_SYSTEM.has(p)) && plans.every((p) => PHONE_SYSTEM.has(p) || FOUNDATION.has(p))) return 'phoneSystem';
  return null;
}
