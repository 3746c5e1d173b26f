import { assignLicense, provisioningAt } from '../../src/backends/simulated/licensing';
import { deleteAccount, setUsageLocation } from '../../src/backends/simulated/accounts';
import { own, type StoredAccount, type StoredOperation } from '../../src/backends/simulated/state';
import { settleOperations, startAssignment, startUnassignment } from '../../src/backends/simulated/telephony';
import { SERVICE_PLANS, type LicenseSku, type PhoneNumber } from '../../src/provisioning/model';
import { DirectoryRefusal } from '../../src/provisioning/result';
import { graphError, graphErrorOf, type FakeResponse } from './graphErrors';
import type { FakeTenant, OrdinaryUser } from './tenant';

/** Microsoft Graph v1.0 as documented (teams-apis.md §1, §2), over the fake tenant. */

export interface GraphRequest {
  method: string;
  /** Path below /v1.0, e.g. /users/abc */
  path: string;
  query: URLSearchParams;
  body: unknown;
  /** The server's own /v1.0 URL, for Location and nextLink. */
  base: string;
}

const NUMBERS = '/admin/teams/telephoneNumberManagement';
const DEPARTMENT = 'Microsoft Communication Application Instance';
/** E5 carries the MCOEV plan too: the backend must not offer it as "Phone System". */
const E5 = { skuId: '06ebc4ee-1bb5-47dd-8120-11324bc54e06', skuPartNumber: 'SPE_E5', enabled: 50, consumed: 50 };

const ok = (body?: unknown, status = 200): FakeResponse => ({ status, body });

function handleRefusal(call: () => FakeResponse, context: { id?: string; telephoneNumber?: string }): FakeResponse {
  try {
    return call();
  } catch (e) {
    if (e instanceof DirectoryRefusal) return graphErrorOf(e, context);
    throw e;
  }
}

/** $select: only the listed properties come back (usageLocation, assignedLicenses… only when selected, §1.2). */
function select(record: Record<string, unknown>, query: URLSearchParams, defaults: string[]): Record<string, unknown> {
  const wanted = query.get('$select')?.split(',').map((s) => s.trim()) ?? defaults;
  return Object.fromEntries(Object.entries(record).filter(([key]) => key === 'id' || wanted.includes(key)));
}

function userRecord(tenant: FakeTenant, a: StoredAccount | OrdinaryUser): Record<string, unknown> {
  if (!('accountType' in a)) {
    return { id: a.id, userPrincipalName: a.userPrincipalName, displayName: a.displayName, accountEnabled: true, usageLocation: 'US', department: 'Sales', assignedLicenses: [{ skuId: E5.skuId, disabledPlans: [] }], createdDateTime: '2025-01-01T00:00:00Z' };
  }
  return {
    id: a.id,
    userPrincipalName: a.userPrincipalName,
    displayName: a.displayName,
    accountEnabled: false,
    usageLocation: a.usageLocation,
    department: DEPARTMENT,
    assignedLicenses: a.assignedLicenses.map((skuId) => ({ skuId, disabledPlans: [] })),
    createdDateTime: a.createdAt,
    // Graph: true for users synced from on-premises AD, null for cloud-only users.
    onPremisesSyncEnabled: a.onPremisesSynced === true ? true : null,
  };
}

const USER_DEFAULTS = ['id', 'displayName', 'userPrincipalName'];

/** A page of a collection, with @odata.nextLink while more remain. */
function page<T>(tenant: FakeTenant, items: T[], request: GraphRequest, defaultTop: number, maxTop: number): FakeResponse {
  const asked = Number(request.query.get('$top') ?? defaultTop);
  if (!Number.isInteger(asked) || asked < 1 || asked > maxTop) return graphError(400, 'BadRequest', `Invalid $top: at most ${maxTop}.`);
  const top = Math.min(asked, tenant.maxPageSize);
  const skip = Number(request.query.get('$skiptoken') ?? 0);
  const value = items.slice(skip, skip + top);
  if (skip + top >= items.length) return ok({ value });
  const next = new URL(`${request.base}${request.path}`);
  request.query.forEach((v, k) => next.searchParams.set(k, v));
  next.searchParams.set('$skiptoken', String(skip + top));
  return ok({ value, '@odata.nextLink': next.toString() });
}

/**
 * numberAssignments paging as documented: "$Top … Default number of results is 500 entries and maximum
 * 1,000 entries allowed per query", "$Skip … skip first X number of results" (fixtures/graph-numberassignments.json's
 * page). @odata.nextLink is not documented for this collection and is reportedly never returned, so none
 * is sent unless a test asks for nextLink paging.
 */
function pageBySkip<T>(tenant: FakeTenant, items: T[], request: GraphRequest): FakeResponse {
  if (tenant.numberPaging === 'nextLink') return page(tenant, items, request, 500, 1000);
  const asked = Number(request.query.get('$top') ?? 500);
  if (!Number.isInteger(asked) || asked < 1 || asked > 1000) return graphError(400, 'BadRequest', 'Invalid $top: at most 1000.');
  const skip = Number(request.query.get('$skip') ?? 0);
  if (!Number.isInteger(skip) || skip < 0) return graphError(400, 'BadRequest', 'Invalid $skip.');
  return ok({ value: items.slice(skip, skip + asked) });
}

/** The $filter clauses the backend may send; anything else is a 400, so a wrong query cannot pass. */
function numberFilter(filter: string | null): ((n: PhoneNumber) => boolean) | null {
  if (!filter) return () => true;
  const tests: ((n: PhoneNumber) => boolean)[] = [];
  for (const clause of filter.split(' and ')) {
    const any = /^capabilities\/any\(c:c eq '(\w+)'\)$/.exec(clause);
    const eq = /^(\w+) eq '((?:[^']|'')*)'$/.exec(clause);
    if (any) tests.push((n) => n.capabilities.includes(any[1] as PhoneNumber['capabilities'][number]));
    else if (eq && ['telephoneNumber', 'numberType', 'isoCountryCode', 'assignmentTargetId', 'assignmentStatus', 'activationState'].includes(eq[1]!)) {
      const [, field, raw] = eq;
      const value = raw!.replaceAll("''", "'");
      tests.push((n) => String(n[field as keyof PhoneNumber] ?? '') === value);
    } else return null;
  }
  return (n) => tests.every((t) => t(n));
}

/** Operator of the documented examples' Direct Routing numbers (fixtures/graph-numberassignments.json). */
const OPERATOR_ID = '7a205197-8e59-487d-b9fa-3fc1b108f1e5';

/** A numberAssignment id as on the list page: base64url("operatorId|+number"). */
const assignmentId = (telephoneNumber: string, operatorId: string) => Buffer.from(`${operatorId}|${telephoneNumber}`).toString('base64url');

/** Every field of the documented numberAssignment, in the page's order (Example 1). */
function numberRecord(tenant: FakeTenant, n: PhoneNumber): Record<string, unknown> {
  const documented = tenant.documentedNumbers.get(n.telephoneNumber);
  const operatorId = documented?.operatorId ?? OPERATOR_ID;
  return {
    '@odata.type': '#microsoft.graph.teamsAdministration.numberAssignment',
    id: documented?.id ?? assignmentId(n.telephoneNumber, operatorId),
    telephoneNumber: n.telephoneNumber,
    operatorId,
    numberType: n.numberType,
    activationState: n.activationState,
    capabilities: n.capabilities,
    locationId: null,
    civicAddressId: null,
    networkSiteId: null,
    assignmentTargetId: n.assignmentTargetId,
    assignmentCategory: n.assignmentTargetId ? 'primary' : null,
    portInStatus: null,
    assignmentStatus: n.assignmentStatus,
    isoCountryCode: n.isoCountryCode,
    city: n.city ?? null,
    numberSource: 'online',
    supportedCustomerActions: documented?.supportedCustomerActions ?? ['locationUpdate'],
    reverseNumberLookupOptions: [],
  };
}

/**
 * telephoneNumberLongRunningOperation as the Get page's example answers it: wrapped in {"value": …}, with
 * resourceLocation ending in base64url("operatorId|+number") (fixtures/graph-telephonenumberlongrunningoperation.json).
 * A test may ask for the bare entity, the resource page's shape.
 */
function operationRecord(tenant: FakeTenant, op: StoredOperation, base: string): Record<string, unknown> {
  const entity = {
    '@odata.type': '#microsoft.graph.teamsAdministration.telephoneNumberLongRunningOperation',
    id: op.id,
    createdDateTime: op.createdAt,
    status: op.status,
    numbers: [
      {
        resourceLocation: `${base}${NUMBERS}/numberAssignments/${assignmentId(op.telephoneNumber, tenant.documentedNumbers.get(op.telephoneNumber)?.operatorId ?? OPERATOR_ID)}`,
        status: op.status,
        ...(op.statusDetail ? { statusDetail: op.statusDetail } : {}),
      },
    ],
  };
  return tenant.operationShape === 'bare' ? entity : { value: entity };
}

function skuRecord(sku: Pick<LicenseSku, 'skuId' | 'skuPartNumber' | 'enabled' | 'consumed'> & { kind?: LicenseSku['kind'] }) {
  const plan = sku.kind === 'resourceAccount' ? SERVICE_PLANS.resourceAccount : SERVICE_PLANS.phoneSystem;
  const plans = sku.kind ? [plan] : [SERVICE_PLANS.phoneSystem, { servicePlanId: '57ff2da0-773e-42df-b2af-ffb7a2317929', name: 'TEAMS1' }];
  return {
    skuId: sku.skuId,
    skuPartNumber: sku.skuPartNumber,
    capabilityStatus: 'Enabled',
    consumedUnits: sku.consumed,
    prepaidUnits: { enabled: sku.enabled, suspended: 0, warning: 0, lockedOut: 0 },
    servicePlans: plans.map((p) => ({ servicePlanId: p.servicePlanId, servicePlanName: p.name, appliesTo: 'User', provisioningStatus: 'Success' })),
    appliesTo: 'User',
  };
}

export function handleGraph(tenant: FakeTenant, request: GraphRequest): FakeResponse {
  tenant.observe();
  const { method, path, query, body, base } = request;
  const state = tenant.state;
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);

  if (method === 'GET' && path === '/organization') {
    const verifiedDomains = state.domains.map((d) => ({
      name: d.name,
      isDefault: d.isDefault,
      isInitial: d.name.endsWith('.onmicrosoft.com'),
      type: 'Managed',
      capabilities: d.isOnline ? 'Email, OfficeCommunicationsOnline' : 'Email',
    }));
    return ok({ value: [select({ id: state.tenantId, displayName: state.displayName, verifiedDomains }, query, ['id'])] });
  }
  if (method === 'GET' && path === '/subscribedSkus') return ok({ value: [...state.skus.map(skuRecord), skuRecord(E5)] });

  if (segments[0] === 'users') {
    if (method === 'GET' && segments.length === 1) {
      if (query.get('$filter') !== `department eq '${DEPARTMENT}'`) return graphError(400, 'Request_UnsupportedQuery', 'Unsupported query.');
      const users = Object.values(state.accounts).filter((a) => tenant.visibleInGraph(a)).map((a) => select(userRecord(tenant, a), query, USER_DEFAULTS));
      return page(tenant, users, request, 100, 999);
    }
    const key = segments[1] ?? '';
    const found = tenant.account(key);
    const user = found && tenant.visibleInGraph(found) ? found : undefined;
    const ordinary = user ? undefined : tenant.user(key);
    if (ordinary && method === 'GET' && segments.length === 2) return ok(select(userRecord(tenant, ordinary), query, USER_DEFAULTS));
    if (ordinary) return graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    if (!user) return graphErrorOf(new DirectoryRefusal('ACCOUNT_NOT_FOUND'), { id: key });
    if (method === 'GET' && segments.length === 2) return ok(select(userRecord(tenant, user), query, USER_DEFAULTS));
    if (method === 'GET' && segments[2] === 'licenseDetails') {
      const provisioning = provisioningAt(state, user, tenant.now(), tenant.slowness.licenseProvisioningMs);
      const provisioningStatus = provisioning === 'success' ? 'Success' : provisioning === 'error' ? 'Error' : 'PendingProvisioning';
      const value = user.assignedLicenses.map((skuId) => {
        const sku = state.skus.find((s) => s.skuId === skuId);
        const plan = sku?.kind === 'phoneSystem' ? SERVICE_PLANS.phoneSystem : SERVICE_PLANS.resourceAccount;
        return { id: `${user.id}_${skuId}`, skuId, skuPartNumber: sku?.skuPartNumber ?? '', servicePlans: [{ servicePlanId: plan.servicePlanId, servicePlanName: plan.name, provisioningStatus, appliesTo: 'User' }] };
      });
      return ok({ value });
    }
    if (method === 'PATCH' && segments.length === 2) {
      const usageLocation = (body as { usageLocation?: unknown } | undefined)?.usageLocation;
      return handleRefusal(() => {
        setUsageLocation(user, String(usageLocation ?? ''));
        return ok(undefined, 204);
      }, { id: key });
    }
    if (method === 'POST' && segments[2] === 'assignLicense') {
      const { addLicenses, removeLicenses } = (body ?? {}) as { addLicenses?: { skuId: string }[]; removeLicenses?: string[] };
      // Both parameters are non-nullable: omitting one is a 400 (teams-apis.md §1.4).
      const missing = [addLicenses === undefined ? 'addLicenses' : '', removeLicenses === undefined ? 'removeLicenses' : ''].filter(Boolean);
      if (missing.length > 0) {
        return graphError(400, 'Request_BadRequest', `One or more parameters of the operation 'assignLicense' are missing from the request payload. The missing parameters are: ${missing.join(', ')}.`);
      }
      return handleRefusal(() => {
        assignLicense(state, user, { addSkuIds: (addLicenses ?? []).map((l) => l.skuId), removeSkuIds: removeLicenses ?? [] }, tenant.now());
        return ok(userRecord(tenant, user));
      }, { id: key });
    }
    if (method === 'DELETE' && segments.length === 2) {
      deleteAccount(state, user);
      return ok(undefined, 204);
    }
  }

  if (path.startsWith(NUMBERS)) {
    const rest = path.slice(NUMBERS.length);
    if (method === 'GET' && rest === '/numberAssignments') {
      const filter = numberFilter(query.get('$filter'));
      if (!filter) return graphError(400, 'BadRequest', `Invalid filter clause: ${query.get('$filter') ?? ''}`);
      const numbers = Object.values(state.numbers)
        .filter(filter)
        .sort((a, b) => (a.telephoneNumber < b.telephoneNumber ? -1 : a.telephoneNumber > b.telephoneNumber ? 1 : 0))
        .map((n) => numberRecord(tenant, n));
      return pageBySkip(tenant, numbers, request);
    }
    const { telephoneNumber, numberType, assignmentTargetId } = (body ?? {}) as Record<string, string | undefined>;
    const context = { id: assignmentTargetId ?? '', telephoneNumber: telephoneNumber ?? '' };
    const accepted = (op: StoredOperation): FakeResponse => {
      settleOperations(state, tenant.now(), tenant.slowness.licenseProvisioningMs);
      return { status: 202, headers: { location: `${base}${NUMBERS}/operations('${op.id}')` } };
    };
    if (method === 'POST' && rest === '/numberAssignments/assignNumber') {
      if (!telephoneNumber || !numberType || !assignmentTargetId) return graphError(400, 'BadRequest', 'telephoneNumber, assignmentTargetId and numberType are required.');
      // A user that is not (yet) visible is "not found" for the number service too (teams-apis.md §3.5).
      const target = own(state.accounts, assignmentTargetId);
      if (target && !tenant.visibleInGraph(target)) return graphErrorOf(new DirectoryRefusal('ACCOUNT_NOT_YET_VISIBLE'), context);
      return handleRefusal(() => accepted(startAssignment(state, { telephoneNumber, numberType: numberType as PhoneNumber['numberType'], assignmentTargetId }, tenant.now(), tenant.slowness)), context);
    }
    if (method === 'POST' && rest === '/numberAssignments/unassignNumber') {
      if (!telephoneNumber || !numberType) return graphError(400, 'BadRequest', 'telephoneNumber and numberType are required.');
      return handleRefusal(() => accepted(startUnassignment(state, { telephoneNumber, numberType: numberType as PhoneNumber['numberType'] }, tenant.now(), tenant.slowness)), context);
    }
    const operation = /^\/operations(?:\('([^']+)'\)|\/([^/]+))$/.exec(rest);
    if (method === 'GET' && operation) {
      const op = own(state.operations, decodeURIComponent(operation[1] ?? operation[2] ?? ''));
      return op ? ok(operationRecord(tenant, op, base)) : graphError(404, 'NotFound', 'Operation not found.');
    }
  }
  return graphError(400, 'BadRequest', `Unsupported request ${method} ${path}`);
}
