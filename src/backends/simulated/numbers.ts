import type { NumberType, PhoneNumber } from '../../provisioning/model';
import { DirectoryRefusal } from '../../provisioning/result';
import { own, type StoredOperation, type TenantState } from './state';

/** Country calling codes the simulation knows (E.164 codes are prefix-free). */
const COUNTRY_BY_CALLING_CODE: Readonly<Record<string, string>> = { '1': 'US', '33': 'FR', '44': 'GB' };

/** E.164 without or with "+": no leading 0, at most 15 digits, `;ext=` for Direct Routing only (teams-apis.md §4). */
const E164 = /^\+?([1-9]\d{1,14})(;ext=\d{1,10})?$/;

/** The number as the tenant stores it: always "+"-prefixed (teams-apis.md §2). */
export function normalizeNumber(raw: string, numberType: NumberType): string {
  const match = E164.exec(raw);
  if (!match) throw new DirectoryRefusal('NUMBER_INVALID_FORMAT', { telephoneNumber: raw }, 'telephoneNumber');
  const [, digits, extension = ''] = match;
  if (extension && numberType !== 'directRouting') {
    throw new DirectoryRefusal('NUMBER_EXTENSION_NOT_ALLOWED', { telephoneNumber: raw }, 'telephoneNumber');
  }
  return `+${digits}${extension}`;
}

export function countryOf(telephoneNumber: string): string | undefined {
  const digits = telephoneNumber.slice(1);
  for (const length of [1, 2, 3]) {
    const country = own(COUNTRY_BY_CALLING_CODE, digits.slice(0, length));
    if (country) return country;
  }
  return undefined;
}

/** "The user already has a telephone number set in the on-premises Active Directory…" is what a tenant
 * says when the account has no working Teams Phone license (teams-apis.md §3.5, DOMAIN.md F3). */
export function unlicensedDetail(accountId: string): string {
  return (
    `The user '${accountId}' already has a telephone number set in the on-premises Active Directory and ` +
    `synchronized to the cloud. To manage this user's telephone number in the cloud, first clear the phone ` +
    `number in the on-premises directory and synchronize to Active Directory.`
  );
}

/** teams-apis.md §3.5: "The user '<guid>' is not found". */
export function notFoundDetail(accountId: string): string {
  return `The user '${accountId}' is not found`;
}

/** Numbers assigned to the account, or on their way to or from it. */
export function numbersTargeting(state: TenantState, accountId: string): PhoneNumber[] {
  return Object.values(state.numbers).filter((n) => n.assignmentTargetId === accountId);
}

export function runningOperationsOn(state: TenantState, telephoneNumber: string): StoredOperation[] {
  return Object.values(state.operations).filter(
    (o) => o.status === 'running' && o.telephoneNumber === telephoneNumber,
  );
}

/** Direct Routing numbers live in the tenant only while assigned (teams-apis.md §0.4). */
export function releaseNumber(state: TenantState, number: PhoneNumber): void {
  const holder = number.assignmentTargetId === null ? undefined : own(state.accounts, number.assignmentTargetId);
  if (holder?.phoneNumber === number.telephoneNumber) holder.phoneNumber = null;
  if (number.numberType === 'directRouting') {
    delete state.numbers[number.telephoneNumber];
    return;
  }
  number.activationState = 'activated';
  number.assignmentStatus = 'unassigned';
  number.assignmentTargetId = null;
}

/** The account lost its Teams Phone license: its number goes, whatever was in flight (teams-apis.md §0.4). */
export function releaseNumbersOf(state: TenantState, accountId: string): void {
  for (const number of numbersTargeting(state, accountId)) {
    for (const op of runningOperationsOn(state, number.telephoneNumber)) {
      if (op.kind === 'assign') {
        op.status = 'failed';
        op.statusDetail = unlicensedDetail(accountId);
      } else {
        op.status = 'succeeded';
      }
    }
    releaseNumber(state, number);
  }
}

/**
 * The account is deleted while it still holds a number: the number is left "stuck in pending mode"
 * on the deleted account (teams-apis.md §0.5, DOMAIN.md F1).
 */
export function strandNumbersOf(state: TenantState, accountId: string): void {
  for (const number of numbersTargeting(state, accountId)) {
    for (const op of runningOperationsOn(state, number.telephoneNumber)) {
      op.status = 'failed';
      op.statusDetail = notFoundDetail(accountId);
    }
    number.activationState = 'assignmentPending';
    number.assignmentStatus = 'voiceApplicationAssigned';
  }
}
