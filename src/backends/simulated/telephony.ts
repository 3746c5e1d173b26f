import { randomUUID } from 'node:crypto';
import { isServiceNumber, type NumberType, type PhoneNumber } from '../../provisioning/model';
import type { NumberAssignment, NumberUnassignment } from '../../provisioning/directory';
import { DirectoryRefusal } from '../../provisioning/result';
import { refuseIfNotYetVisible } from './accounts';
import { provisioningAt } from './licensing';
import {
  countryOf,
  normalizeNumber,
  notFoundDetail,
  numbersTargeting,
  releaseNumber,
  unlicensedDetail,
} from './numbers';
import {
  accountOrRefuse,
  addMs,
  own,
  type Slowness,
  type StoredOperation,
  type TenantState,
} from './state';

/**
 * Graph assignNumber / unassignNumber (teams-apis.md §2): what a tenant rejects with a 400 is thrown
 * here before any operation exists; the rest becomes a long-running operation that the tenant
 * finishes `numberOperationMs` later (settleOperations).
 */
export function startAssignment(
  state: TenantState,
  request: NumberAssignment,
  now: Date,
  slowness: Required<Slowness>,
): StoredOperation {
  const telephoneNumber = normalizeNumber(request.telephoneNumber, request.numberType);
  const account = accountOrRefuse(state, request.assignmentTargetId);
  refuseIfNotYetVisible(account, now, slowness.accountPropagationMs);
  if (account.broken) throw new DirectoryRefusal('ACCOUNT_BROKEN', { upn: account.userPrincipalName });
  const number = own(state.numbers, telephoneNumber) ?? newNumber(telephoneNumber, request.numberType);
  refuseIfNotAssignable(state, number, request.numberType);
  // One number per account (teams-apis.md §4), counting one still on its way.
  const held = account.phoneNumber ?? numbersTargeting(state, account.id)[0]?.telephoneNumber;
  if (held) {
    throw new DirectoryRefusal(
      'NUMBER_ACCOUNT_HAS_NUMBER',
      { upn: account.userPrincipalName, number: held },
      'telephoneNumber',
    );
  }

  state.numbers[telephoneNumber] = number;
  number.activationState = 'assignmentPending';
  number.assignmentStatus = 'voiceApplicationAssigned';
  number.assignmentTargetId = account.id;
  return addOperation(state, 'assign', telephoneNumber, request.numberType, account.id, now, slowness);
}

export function startUnassignment(
  state: TenantState,
  request: NumberUnassignment,
  now: Date,
  slowness: Required<Slowness>,
): StoredOperation {
  const telephoneNumber = normalizeNumber(request.telephoneNumber, request.numberType);
  const number = own(state.numbers, telephoneNumber);
  if (!number) throw new DirectoryRefusal('NUMBER_NOT_FOUND', { telephoneNumber }, 'telephoneNumber');
  refuseIfWrongType(number, request.numberType);
  if (number.assignmentTargetId === null) {
    throw new DirectoryRefusal('NUMBER_NOT_ASSIGNED', { telephoneNumber }, 'telephoneNumber');
  }
  // A number stuck in "pending" (F1) cannot be released through the API.
  if (number.activationState !== 'activated') {
    throw new DirectoryRefusal('NUMBER_PENDING', { telephoneNumber, state: number.activationState }, 'telephoneNumber');
  }

  number.activationState = 'updatePending';
  const from = number.assignmentTargetId;
  return addOperation(state, 'unassign', telephoneNumber, request.numberType, from, now, slowness);
}

export function hasDueOperations(state: TenantState, now: Date): boolean {
  return Object.values(state.operations).some((o) => isDue(o, now));
}

/** Finishes, in order, every operation whose time has come. */
export function settleOperations(state: TenantState, now: Date, licenseProvisioningMs: number): void {
  const due = Object.values(state.operations)
    .filter((o) => isDue(o, now))
    .sort((a, b) => a.dueAt.localeCompare(b.dueAt) || a.createdAt.localeCompare(b.createdAt));
  for (const op of due) {
    if (op.kind === 'assign') completeAssignment(state, op, licenseProvisioningMs);
    else completeUnassignment(state, op);
  }
}

function isDue(op: StoredOperation, now: Date): boolean {
  return op.status === 'running' && Date.parse(op.dueAt) <= now.getTime();
}

/**
 * The license is checked when the tenant processes the order, not when it accepts it: an account
 * without a provisioned Teams Phone license fails with a misleading text (DOMAIN.md F3).
 */
function completeAssignment(state: TenantState, op: StoredOperation, licenseProvisioningMs: number): void {
  const number = own(state.numbers, op.telephoneNumber);
  const account = op.targetId === null ? undefined : own(state.accounts, op.targetId);
  if (!number || !account) {
    op.status = 'failed';
    op.statusDetail = notFoundDetail(op.targetId ?? '');
    return;
  }
  if (provisioningAt(state, account, new Date(op.dueAt), licenseProvisioningMs) !== 'success') {
    releaseNumber(state, number);
    op.status = 'failed';
    op.statusDetail = unlicensedDetail(account.id);
    op.reason = 'NUMBER_ACCOUNT_NOT_LICENSED';
    return;
  }
  number.activationState = 'activated';
  account.phoneNumber = number.telephoneNumber;
  op.status = 'succeeded';
}

function completeUnassignment(state: TenantState, op: StoredOperation): void {
  const number = own(state.numbers, op.telephoneNumber);
  if (number) releaseNumber(state, number);
  op.status = 'succeeded';
}

/** Direct Routing numbers come from the customer's SBC, not from the tenant's inventory (teams-apis.md §3.3). */
function newNumber(telephoneNumber: string, numberType: NumberType): PhoneNumber {
  if (numberType !== 'directRouting') {
    // "Unknown number or wrong NumberType" is a NotFound (teams-apis.md §3.5).
    throw new DirectoryRefusal('NUMBER_NOT_FOUND', { telephoneNumber }, 'telephoneNumber');
  }
  const isoCountryCode = countryOf(telephoneNumber);
  if (!isoCountryCode) throw new DirectoryRefusal('NUMBER_INVALID_FORMAT', { telephoneNumber }, 'telephoneNumber');
  return {
    telephoneNumber,
    numberType,
    tollFree: false,
    capabilities: ['voiceApplicationAssignment'],
    activationState: 'activated',
    assignmentStatus: 'unassigned',
    assignmentTargetId: null,
    isoCountryCode,
    assignmentBlocked: false,
  };
}

function refuseIfWrongType(number: PhoneNumber, numberType: NumberType): void {
  if (number.numberType !== numberType) {
    throw new DirectoryRefusal(
      'NUMBER_WRONG_TYPE',
      { telephoneNumber: number.telephoneNumber, numberType: number.numberType, requested: numberType },
      'numberType',
    );
  }
}

/** Number eligibility (teams-apis.md §4): service capability, unassigned, activated, not blocked. */
function refuseIfNotAssignable(state: TenantState, number: PhoneNumber, numberType: NumberType): void {
  const telephoneNumber = number.telephoneNumber;
  refuseIfWrongType(number, numberType);
  if (!isServiceNumber(number)) {
    throw new DirectoryRefusal('NUMBER_NOT_SERVICE', { telephoneNumber }, 'telephoneNumber');
  }
  if (number.assignmentBlocked) throw new DirectoryRefusal('NUMBER_BLOCKED', { telephoneNumber }, 'telephoneNumber');
  if (number.assignmentTargetId !== null) {
    const holder = own(state.accounts, number.assignmentTargetId);
    const where = holder?.userPrincipalName ?? number.assignmentTargetId;
    throw new DirectoryRefusal('NUMBER_ALREADY_ASSIGNED', { telephoneNumber, where }, 'telephoneNumber');
  }
  if (number.activationState !== 'activated') {
    throw new DirectoryRefusal(
      'NUMBER_NOT_ACTIVATED',
      { telephoneNumber, state: number.activationState },
      'telephoneNumber',
    );
  }
}

function addOperation(
  state: TenantState,
  kind: StoredOperation['kind'],
  telephoneNumber: string,
  numberType: NumberType,
  targetId: string,
  now: Date,
  slowness: Required<Slowness>,
): StoredOperation {
  const op: StoredOperation = {
    id: randomUUID(),
    kind,
    status: 'running',
    telephoneNumber,
    numberType,
    targetId,
    createdAt: now.toISOString(),
    dueAt: addMs(now, slowness.numberOperationMs),
  };
  state.operations[op.id] = op;
  return op;
}
