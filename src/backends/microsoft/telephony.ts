import type { NumberAssignment, NumberOperation, NumberQuery, NumberUnassignment, Page } from '../../provisioning/directory';
import { isServiceNumber, type NumberType, type PhoneNumber } from '../../provisioning/model';
import { countryOfCallingCode } from '../../provisioning/numbers';
import { DirectoryRefusal } from '../../provisioning/result';
import { accountOrRefuse, numbersTargeting } from './accounts';
import { odataString, path, type Tenant } from './context';
import { GraphOutcomeUnknownError } from './graph/errors';
import type { GraphResponse } from './graph/http';
import { toNumberOperation, toPhoneNumber } from './graph/mapping';
import { GraphUserSchema, NumberAssignmentSchema, NumberOperationSchema } from './graph/schemas';
import { asTenant } from './tenantErrors';

/** Graph Teams telephone number management, v1.0 (teams-apis.md §2). */
const ROOT = '/admin/teams/telephoneNumberManagement';

/** E.164 with or without "+", no leading 0, ≤ 15 digits; `;ext=` only for Direct Routing (teams-apis.md §4). */
const E164 = /^\+?([1-9]\d{1,14})(;ext=\d{1,10})?$/;

/** The number as Graph stores it: always "+"-prefixed (§2). */
export function normalizeNumber(raw: string, numberType: NumberType): string {
  const match = E164.exec(raw.trim());
  if (!match) throw new DirectoryRefusal('NUMBER_INVALID_FORMAT', { value: raw.slice(0, 40) }, 'telephoneNumber');
  const [, digits, extension = ''] = match;
  if (extension && numberType !== 'directRouting') {
    throw new DirectoryRefusal('NUMBER_EXTENSION_NOT_ALLOWED', { number: raw }, 'telephoneNumber');
  }
  return `+${digits}${extension}`;
}

export async function getPhoneNumber(tenant: Tenant, raw: string): Promise<PhoneNumber | null> {
  const match = E164.exec(raw.trim());
  if (!match) return null;
  const telephoneNumber = `+${match[1]}${match[2] ?? ''}`;
  const records = await tenant.graph.getAllBySkip(`${ROOT}/numberAssignments`, NumberAssignmentSchema, {
    $filter: `telephoneNumber eq ${odataString(telephoneNumber)}`,
  });
  return records.map(toPhoneNumber).find((n) => n?.telephoneNumber === telephoneNumber) ?? null;
}

/**
 * Graph filters what it can ($filter on every field but id and city, §2) and pages by $top/$skip
 * (getAllBySkip); the country, the prefix, the order and the page asked for are applied here, so
 * `total` is exact. The country is matched here because a Direct Routing number carries none (F17):
 * its calling code stands in when it names one country.
 */
export async function listPhoneNumbers(tenant: Tenant, query: NumberQuery): Promise<Page<PhoneNumber>> {
  const clauses: string[] = [];
  if (query.numberType) clauses.push(`numberType eq ${odataString(query.numberType)}`);
  if (query.assignmentTargetId) clauses.push(`assignmentTargetId eq ${odataString(query.assignmentTargetId)}`);
  if (query.assignableOnly) {
    // Number eligibility for a resource account (teams-apis.md §4).
    clauses.push("assignmentStatus eq 'unassigned'", "activationState eq 'activated'", "capabilities/any(c:c eq 'voiceApplicationAssignment')");
  }
  const records = await tenant.graph.getAllBySkip(`${ROOT}/numberAssignments`, NumberAssignmentSchema, clauses.length ? { $filter: clauses.join(' and ') } : {});
  const prefix = query.prefix?.replace(/^\+/, '');
  const country = query.isoCountryCode?.toUpperCase();
  const matches = records
    .flatMap((r) => toPhoneNumber(r) ?? [])
    .filter((n) => !country || (n.isoCountryCode ?? countryOfCallingCode(n.telephoneNumber)) === country)
    .filter((n) => (!prefix || n.telephoneNumber.startsWith(prefix, 1)) && (!query.assignableOnly || !n.assignmentTargetId))
    .sort((a, b) => (a.telephoneNumber < b.telephoneNumber ? -1 : a.telephoneNumber > b.telephoneNumber ? 1 : 0));
  const start = Math.max(0, query.offset);
  return { items: matches.slice(start, start + Math.max(0, query.limit)), total: matches.length, offset: query.offset, limit: query.limit };
}

function refuseIfWrongType(number: PhoneNumber, numberType: NumberType): void {
  if (number.numberType !== numberType) {
    throw new DirectoryRefusal(
      'NUMBER_WRONG_TYPE',
      { number: number.telephoneNumber, actual: number.numberType, expected: numberType },
      'numberType',
    );
  }
}

async function holderName(tenant: Tenant, id: string): Promise<string> {
  const user = await tenant.graph.getOrNull(path('users', id), GraphUserSchema, { $select: 'id,userPrincipalName' }).catch(() => null);
  return user?.userPrincipalName ?? id;
}

/**
 * POST numberAssignments/assignNumber → 202 + Location (§2). Checked first against the number's record
 * (capability, status, type: §3.4 says to pre-check rather than parse errors) and the account; what
 * the tenant still refuses is mapped from its error (tenantErrors.ts).
 */
export async function assignNumber(tenant: Tenant, request: NumberAssignment): Promise<NumberOperation> {
  const telephoneNumber = normalizeNumber(request.telephoneNumber, request.numberType);
  const account = await accountOrRefuse(tenant, request.assignmentTargetId, true);
  const number = await getPhoneNumber(tenant, telephoneNumber);
  if (number) {
    refuseIfWrongType(number, request.numberType);
    if (!isServiceNumber(number)) throw new DirectoryRefusal('NUMBER_NOT_SERVICE', { number: telephoneNumber }, 'telephoneNumber');
    if (number.assignmentTargetId) throw await alreadyAssigned(tenant, number);
    if (number.activationState !== 'activated') {
      throw new DirectoryRefusal('NUMBER_NOT_ACTIVATED', { number: telephoneNumber, state: number.activationState }, 'telephoneNumber');
    }
  } else if (request.numberType !== 'directRouting') {
    // Direct Routing numbers come from the customer's SBC; others must be in the tenant (§3.5: NotFound).
    throw new DirectoryRefusal('NUMBER_NOT_FOUND', { number: telephoneNumber }, 'telephoneNumber');
  }
  // One number per account (§4), counting one still on its way.
  const [held] = await numbersTargeting(tenant, account.id);
  if (held) {
    throw new DirectoryRefusal('NUMBER_ACCOUNT_HAS_NUMBER', { upn: account.userPrincipalName, number: held.telephoneNumber }, 'telephoneNumber');
  }
  const body = { telephoneNumber, assignmentTargetId: account.id, numberType: request.numberType, assignmentCategory: 'primary' };
  const attempt = { action: 'assignNumber', upn: account.userPrincipalName, telephoneNumber, recentlyCreated: tenant.recent.has(account.id) } as const;
  const post = () => asTenant(attempt, () => tenant.graph.send('POST', tenant.graph.url(`${ROOT}/numberAssignments/assignNumber`), body));
  const ours = (n: PhoneNumber | null) => n?.assignmentTargetId?.toLowerCase() === account.id.toLowerCase();
  let response: GraphResponse;
  try {
    response = await post();
  } catch (e) {
    if (!(e instanceof GraphOutcomeUnknownError)) throw e;
    // A 504, our own timeout or a broken connection: the order may have been accepted. Look first.
    const now = await getPhoneNumber(tenant, telephoneNumber);
    if (ours(now)) return fromState(now, telephoneNumber);
    if (now?.assignmentTargetId) throw await alreadyAssigned(tenant, now);
    try {
      response = await post();
    } catch (again) {
      // The first order landed in the meantime ("already assigned"): our own success, never "assigned
      // to another account". Whatever the second answer, the number says what happened.
      const after = await getPhoneNumber(tenant, telephoneNumber);
      if (ours(after)) return fromState(after, telephoneNumber);
      throw again;
    }
  }
  return follow(tenant, response.headers.get('location'), telephoneNumber);
}

/**
 * What an order whose answer was lost (GraphOutcomeUnknownError) did, read from the number itself: no
 * operation id is known, so the operation has none ('') and a plan verifies on the number (steps.ts).
 */
function fromState(number: PhoneNumber | null, telephoneNumber: string): NumberOperation {
  const settled = number === null || number.activationState === 'activated';
  return { id: '', status: settled ? 'succeeded' : 'running', telephoneNumber };
}

async function alreadyAssigned(tenant: Tenant, number: PhoneNumber): Promise<DirectoryRefusal> {
  const assignee = await holderName(tenant, number.assignmentTargetId ?? '');
  return new DirectoryRefusal('NUMBER_ALREADY_ASSIGNED', { number: number.telephoneNumber, assignee }, 'telephoneNumber');
}

/** POST numberAssignments/unassignNumber {telephoneNumber, numberType}: both sent (§2). */
export async function unassignNumber(tenant: Tenant, request: NumberUnassignment): Promise<NumberOperation> {
  const telephoneNumber = normalizeNumber(request.telephoneNumber, request.numberType);
  const number = await getPhoneNumber(tenant, telephoneNumber);
  if (!number) throw new DirectoryRefusal('NUMBER_NOT_FOUND', { number: telephoneNumber }, 'telephoneNumber');
  refuseIfWrongType(number, request.numberType);
  if (!number.assignmentTargetId) throw new DirectoryRefusal('NUMBER_NOT_ASSIGNED', { number: telephoneNumber, upn: telephoneNumber }, 'telephoneNumber');
  // A number in flight (or stuck "pending", F1) cannot be released through the API.
  if (number.activationState !== 'activated') {
    throw new DirectoryRefusal('NUMBER_PENDING', { number: telephoneNumber, state: number.activationState }, 'telephoneNumber');
  }
  const body = { telephoneNumber, numberType: request.numberType };
  const holder = number.assignmentTargetId.toLowerCase();
  const post = () =>
    asTenant({ action: 'unassignNumber', telephoneNumber }, () => tenant.graph.send('POST', tenant.graph.url(`${ROOT}/numberAssignments/unassignNumber`), body));
  const released = (n: PhoneNumber | null) => n === null || n.assignmentTargetId?.toLowerCase() !== holder;
  let response: GraphResponse;
  try {
    response = await post();
  } catch (e) {
    if (!(e instanceof GraphOutcomeUnknownError)) throw e;
    // The order may have been accepted: a number already released or on its way out is our own doing.
    const now = await getPhoneNumber(tenant, telephoneNumber);
    if (released(now)) return { id: '', status: 'succeeded', telephoneNumber };
    if (now?.activationState !== 'activated') return { id: '', status: 'running', telephoneNumber };
    try {
      response = await post();
    } catch (again) {
      // The first order landed in the meantime ("not assigned", "pending"): the number says so.
      const after = await getPhoneNumber(tenant, telephoneNumber);
      if (released(after)) return { id: '', status: 'succeeded', telephoneNumber };
      if (after?.activationState !== 'activated') return { id: '', status: 'running', telephoneNumber };
      throw again;
    }
  }
  return follow(tenant, response.headers.get('location'), telephoneNumber);
}

/** The operation id in a Location such as …/operations('QXNz…') or …/operations/QXNz… (§2). */
export function operationIdOf(location: string | null): string | null {
  if (!location) return null;
  const match = /\/operations(?:\('([^']+)'\)|\/([^/?#]+))/.exec(location);
  const id = match?.[1] ?? match?.[2];
  return id ? decodeURIComponent(id) : null;
}

const NUMBER_IN_TEXT = /\+[1-9]\d{1,14}(;ext=\d{1,10})?/;

/**
 * The number an operation is about, from its resourceLocation: the Get page's example ends in
 * …/numberAssignments/N2EyMDUxOTctOGU1OS00ODdkLWI5ZmEtM2ZjMWIxMDhmMWU1fCsxMjA2MTIzNDU2Nw, which is
 * base64url("7a205197-8e59-487d-b9fa-3fc1b108f1e5|+12061234567"): operatorId|telephoneNumber, the same
 * pattern as a numberAssignment's id on the list page (inference from both examples; not stated in
 * words). A number written in clear in the URL is read too. So an operation read after a restart,
 * when this process's own log is empty, still names its number.
 */
export function numberOfResourceLocation(resourceLocation: string | null | undefined): string | null {
  if (!resourceLocation) return null;
  const segment = /\/numberAssignments(?:\('([^']+)'\)|\/([^/?#]+))/.exec(resourceLocation);
  const key = decodeURIComponent(segment?.[1] ?? segment?.[2] ?? '');
  const plain = NUMBER_IN_TEXT.exec(key)?.[0];
  if (plain) return plain;
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(key)) return null;
  const decoded = Buffer.from(key, 'base64url').toString('utf8');
  const afterBar = decoded.slice(decoded.lastIndexOf('|') + 1);
  return decoded.includes('|') && NUMBER_IN_TEXT.test(afterBar) ? (NUMBER_IN_TEXT.exec(afterBar)?.[0] ?? null) : null;
}

export async function getNumberOperation(tenant: Tenant, id: string): Promise<NumberOperation | null> {
  if (!id || id.length > 512) return null;
  const record = await tenant.graph.getOrNull(`${ROOT}/operations${path(id)}`, NumberOperationSchema);
  if (!record) return null;
  const fromLocation = (record.numbers ?? []).map((n) => numberOfResourceLocation(n.resourceLocation)).find(Boolean);
  const operation = toNumberOperation(record, tenant.operations.get(id) ?? fromLocation ?? '');
  if (operation.status === 'succeeded' || operation.status === 'failed') tenant.operations.finish(id);
  return operation;
}

/**
 * Polls the operation for a short while (the Location URL is not followed as given: only its id is
 * used, against the configured Graph, so a token never goes elsewhere). No Retry-After is documented
 * for polling, so it backs off (§2). A still-running operation is returned as such; the plan polls on.
 */
async function follow(tenant: Tenant, location: string | null, telephoneNumber: string): Promise<NumberOperation> {
  const id = operationIdOf(location);
  if (!id) throw new Error(`Graph accepted the number operation for ${telephoneNumber} without an operation Location`);
  tenant.operations.set(id, telephoneNumber);
  const started = tenant.now().getTime();
  for (let delay = 500; ; delay = Math.min(delay * 2, 4_000)) {
    const operation = (await getNumberOperation(tenant, id)) ?? { id, status: 'notStarted' as const, telephoneNumber };
    const waited = tenant.now().getTime() - started;
    if (operation.status === 'succeeded' || operation.status === 'failed' || waited + delay > tenant.operationWaitMs) return operation;
    await tenant.sleep(delay);
  }
}
