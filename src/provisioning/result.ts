/**
 * Refusals are results, not exceptions (STYLE.md): a reason code that reads like the rule, the form
 * field it concerns (so the card can show it next to that field), and parameters for the message.
 * The human message is built from the strings table of the viewer's locale (src/i18n).
 */
export const REASON_CODES = [
  // Identity and form (DOMAIN.md)
  'UPN_REQUIRED',
  'UPN_INVALID_CHARACTERS',
  'UPN_DOT_BEFORE_AT',
  'UPN_LOCAL_PART_TOO_LONG',
  'UPN_DOMAIN_TOO_LONG',
  'UPN_DOMAIN_REQUIRED',
  'UPN_DOMAIN_NOT_VERIFIED',
  'UPN_DOMAIN_NOT_ONLINE',
  'UPN_IN_USE',
  'DISPLAY_NAME_REQUIRED',
  'DISPLAY_NAME_TOO_LONG',
  'DISPLAY_NAME_CONTROL_CHARACTERS',
  'DISPLAY_NAME_INVISIBLE',
  'ACCOUNT_TYPE_INVALID',
  'USAGE_LOCATION_INVALID',
  // Licenses
  'LICENSE_UNKNOWN',
  'LICENSE_NOT_IN_TENANT',
  'LICENSE_NO_FREE_SEAT',
  'LICENSE_USAGE_LOCATION_MISSING',
  'LICENSE_ALREADY_ASSIGNED',
  'LICENSE_USE_SWITCH',
  'LICENSE_SWITCH_NOT_APPLICABLE',
  'LICENSE_SWITCH_SPLIT',
  'LICENSE_NOT_FOR_RESOURCE_ACCOUNTS',
  // Numbers
  'NUMBER_INVALID_FORMAT',
  'NUMBER_EXTENSION_NOT_ALLOWED',
  'NUMBER_NOT_FOUND',
  'NUMBER_NOT_SERVICE',
  'NUMBER_WRONG_TYPE',
  'NUMBER_NOT_ACTIVATED',
  'NUMBER_BLOCKED',
  'NUMBER_ALREADY_ASSIGNED',
  'NUMBER_ACCOUNT_NOT_LICENSED',
  'NUMBER_USAGE_LOCATION_MISSING',
  'NUMBER_ACCOUNT_HAS_NUMBER',
  'NUMBER_COUNTRY_MISMATCH',
  'NUMBER_NOT_ASSIGNED',
  'NUMBER_PENDING',
  // Edit, associations and delete
  'EDIT_NOTHING_TO_CHANGE',
  'EDIT_TYPE_WHILE_ASSOCIATED',
  'VOICE_APP_NOT_FOUND',
  'ASSOCIATION_TYPE_MISMATCH',
  'ACCOUNT_ALREADY_ASSOCIATED',
  'ASSOCIATION_NOT_FOUND',
  'ASSOCIATION_NONE',
  'DELETE_NUMBER_STILL_ASSIGNED',
  'DELETE_ACCOUNT_IN_USE',
  // Accounts
  'ACCOUNT_NOT_FOUND',
  'ACCOUNT_NOT_FOUND_SIMILAR',
  'ACCOUNT_NOT_FOUND_SIMILAR_MORE',
  // A card's button names an account by id, and that account is no longer in the tenant.
  'ACCOUNT_GONE',
  'ACCOUNT_AMBIGUOUS',
  'ACCOUNT_BROKEN',
  'ACCOUNT_NOT_YET_VISIBLE',
  // Hybrid tenants (Skype for Business Server 2019)
  'ACCOUNT_ON_PREMISES',
  'HYBRID_AWAITING_SYNC',
  'HYBRID_NOT_SYNCED',
  'HYBRID_NUMBER_TYPE',
  'HYBRID_SYNC_TIMEOUT',
  'HYBRID_TYPE_MISMATCH',
  // Plans
  'LICENSE_PROVISIONING_PENDING',
  'TENANT_OPERATION_FAILED',
  'TENANT_UNAVAILABLE',
  'TENANT_SIGN_IN_REQUIRED',
  'PLAN_ACCOUNT_BUSY',
  'PLAN_NOT_FOUND',
  'PLAN_ALREADY_DECIDED',
  'PLAN_NEEDS_APPROVAL',
  'PLAN_HELD_FOR_APPROVAL',
  'PLAN_RAN_WITHOUT_APPROVAL',
  'PLAN_NOT_REQUESTER',
  // Approvals
  'REQUEST_NOT_FOUND',
  'REQUEST_NOT_APPROVER',
  'REQUEST_OWN',
  'REQUEST_OWN_CONFIRMATION',
  'REQUEST_NOT_REQUESTER',
  'REQUEST_REASON_REQUIRED',
  'REQUEST_NO_APPROVER',
  'REQUEST_WAITING_ON_ACCOUNT',
  // Bulk import: a row checked against the other rows of its file
  'IMPORT_ROW_COLUMNS',
  'IMPORT_CELL_TOO_LONG',
  'IMPORT_NUMBER_INCOMPLETE',
  'IMPORT_DUPLICATE_USERNAME',
  'IMPORT_DUPLICATE_NUMBER',
  'IMPORT_NO_SEAT_LEFT',
  // The tenant doctor
  'DOCTOR_FINDING_GONE',
  'DOCTOR_NO_FIX',
  'DOCTOR_COUNTRY_UNKNOWN',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/** Form fields a refusal can point at. */
export type FormField =
  | 'displayName'
  | 'username'
  | 'domain'
  | 'accountType'
  | 'usageLocation'
  | 'license'
  | 'numberType'
  | 'telephoneNumber'
  | 'voiceApplication';

export type MessageParams = Record<string, string | number>;

export interface Refusal {
  ok: false;
  reason: ReasonCode;
  field?: FormField;
  params: MessageParams;
}

export interface Success<T> {
  ok: true;
  value: T;
}

export type Result<T> = Success<T> | Refusal;

/** A form is checked as a whole so that every field's problem shows at once. */
export interface Refusals {
  ok: false;
  refusals: Refusal[];
}

export type FormResult<T> = Success<T> | Refusals;

export function ok<T>(value: T): Success<T> {
  return { ok: true, value };
}

export function refuse(reason: ReasonCode, params: MessageParams = {}, field?: FormField): Refusal {
  return field ? { ok: false, reason, field, params } : { ok: false, reason, params };
}

/**
 * A tenant's own refusal (duplicate UPN, license without usage location…), raised by a directory
 * backend the way a real tenant answers HTTP 400. The service turns it into a Refusal.
 */
export class DirectoryRefusal extends Error {
  constructor(
    readonly reason: ReasonCode,
    readonly params: MessageParams = {},
    readonly field?: FormField,
  ) {
    super(`tenant refused: ${reason}`);
    this.name = 'DirectoryRefusal';
  }

  toRefusal(): Refusal {
    return refuse(this.reason, this.params, this.field);
  }
}
