import { DirectoryRefusal, type MessageParams, type ReasonCode } from '../../provisioning/result';
import { GraphError } from './graph/errors';
import { PowerShellError } from './powershell/errors';

/**
 * The tenant's refusals, read from Graph error codes first and from the few texts Microsoft documents
 * or that are seen in the field where no code exists (teams-apis.md §1.1, §1.3, §3.5). Anything not
 * recognised stays a fault.
 */

type Signal =
  | 'numberNotLicensed'
  | 'numberAlreadyAssigned'
  | 'userNotFound'
  | 'usageLocationMissing'
  | 'noFreeSeat'
  | 'licenseNotInTenant'
  | 'duplicateUpn';

const TEXTS: ReadonlyArray<readonly [Signal, RegExp]> = [
  // The misleading text a tenant gives when the account has no working Teams Phone license (§3.5, F3).
  ['numberNotLicensed', /telephone number set in the on-premises|on-premises active directory/i],
  ['numberAlreadyAssigned', /has already been assigned/i],
  ['usageLocationMissing', /invalid usage location/i],
  ['noFreeSeat', /does not have any available licenses|CountViolation/i],
  ['licenseNotInTenant', /does not correspond to a valid company license/i],
  ['duplicateUpn', /same value for property userPrincipalName|ObjectConflict|already exists/i],
  // "The user '<guid>' is not found" (FullyQualifiedErrorId BadRequest) while an account propagates (§3.5, F13).
  ['userNotFound', /user '[^']*' (is )?not found|user .{0,80} not found|could not find (the )?user/i],
];

function signalOf(text: string): Signal | null {
  return TEXTS.find(([, pattern]) => pattern.test(text))?.[0] ?? null;
}

/**
 * What a failed number operation's statusDetail means, for a plan that wants a reason code rather than
 * the tenant's words: "on-premises" is really "not licensed" (teams-apis.md §3.5, DOMAIN.md F3).
 */
export function reasonOfStatusDetail(statusDetail: string): ReasonCode | undefined {
  switch (signalOf(statusDetail)) {
    case 'numberNotLicensed':
      return 'NUMBER_ACCOUNT_NOT_LICENSED';
    case 'numberAlreadyAssigned':
      return 'NUMBER_ALREADY_ASSIGNED';
    case 'userNotFound':
      return 'ACCOUNT_NOT_YET_VISIBLE';
    default:
      return undefined;
  }
}

/** What the caller was doing, to read an ambiguous answer and to fill the message's parameters. */
export interface Attempt {
  action: 'createAccount' | 'readAccount' | 'setUsageLocation' | 'assignLicense' | 'deleteAccount' | 'assignNumber' | 'unassignNumber' | 'associate' | 'updateAccount' | 'blockSignIn';
  /** The account (UPN or object id) concerned. */
  upn?: string;
  telephoneNumber?: string;
  usageLocation?: string;
  /** The SKU being added, to say which one has no seat left. */
  sku?: { skuPartNumber: string; enabled: number };
  /** The account was created by us a short while ago: "not found" means "not visible yet" (F13). */
  recentlyCreated?: boolean;
}

function refusal(reason: ReasonCode, params: MessageParams, field?: ConstructorParameters<typeof DirectoryRefusal>[2]) {
  return new DirectoryRefusal(reason, params, field);
}

function fromSignal(signal: Signal | null, attempt: Attempt): DirectoryRefusal | null {
  const upn = attempt.upn ?? '';
  const number = attempt.telephoneNumber ?? '';
  switch (signal) {
    case 'numberNotLicensed':
      return refusal('NUMBER_ACCOUNT_NOT_LICENSED', { upn }, 'license');
    case 'numberAlreadyAssigned':
      return refusal('NUMBER_ALREADY_ASSIGNED', { number, assignee: '—' }, 'telephoneNumber');
    case 'usageLocationMissing':
      return refusal('LICENSE_USAGE_LOCATION_MISSING', { upn }, 'usageLocation');
    case 'noFreeSeat':
      return refusal('LICENSE_NO_FREE_SEAT', { sku: attempt.sku?.skuPartNumber ?? '—', free: 0, enabled: attempt.sku?.enabled ?? '—' }, 'license');
    case 'licenseNotInTenant':
      return refusal('LICENSE_NOT_IN_TENANT', {}, 'license');
    case 'duplicateUpn':
      return attempt.action === 'createAccount' ? refusal('UPN_IN_USE', { upn }, 'username') : null;
    case 'userNotFound':
      return notFound(attempt);
    default:
      return null;
  }
}

function notFound(attempt: Attempt): DirectoryRefusal {
  const upn = attempt.upn ?? '';
  return attempt.recentlyCreated
    ? refusal('ACCOUNT_NOT_YET_VISIBLE', { upn })
    : refusal('ACCOUNT_NOT_FOUND', { username: upn });
}

/** A Graph error as the tenant's refusal, or null when it is a fault. */
export function refusalFromGraph(error: GraphError, attempt: Attempt): DirectoryRefusal | null {
  if (error.has('ObjectConflict')) return refusal('UPN_IN_USE', { upn: attempt.upn ?? '' }, 'username');
  const signal = signalOf(error.graphMessage);
  if (signal) return fromSignal(signal, attempt);
  if (error.status === 404) {
    // "Unknown number or wrong NumberType" is a NotFound (teams-apis.md §3.5).
    if (attempt.action === 'assignNumber' || attempt.action === 'unassignNumber') {
      return refusal('NUMBER_NOT_FOUND', { number: attempt.telephoneNumber ?? '' }, 'telephoneNumber');
    }
    return notFound(attempt);
  }
  if (attempt.action === 'setUsageLocation' && error.status === 400 && /usageLocation/i.test(error.graphMessage)) {
    return refusal('USAGE_LOCATION_INVALID', { value: attempt.usageLocation ?? '' }, 'usageLocation');
  }
  return null;
}

/** A cmdlet's error as the tenant's refusal, or null when it is a fault (access, module, transport). */
export function refusalFromPowerShell(error: PowerShellError, attempt: Attempt): DirectoryRefusal | null {
  if (error.accessDenied || error.moduleMissing) return null;
  const signal = signalOf(error.psMessage);
  if (signal) return fromSignal(signal, attempt);
  if (error.kind === 'NotFound' || /not found|does not exist|couldn't find|cannot find/i.test(error.psMessage)) return notFound(attempt);
  return null;
}

/** Runs a tenant call and turns its recognised refusals into DirectoryRefusal; faults pass through. */
export async function asTenant<T>(attempt: Attempt, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    const mapped =
      e instanceof GraphError ? refusalFromGraph(e, attempt) : e instanceof PowerShellError ? refusalFromPowerShell(e, attempt) : null;
    throw mapped ?? e;
  }
}
