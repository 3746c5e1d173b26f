import { randomUUID } from 'node:crypto';
import { DirectoryRefusal } from '../../src/provisioning/result';

/** Graph's error body (teams-apis.md §1.9). */
export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export function graphError(status: number, code: string, message: string, details?: { code: string; target?: string }[]): FakeResponse {
  return {
    status,
    body: {
      error: {
        code,
        message,
        innerError: { 'request-id': randomUUID(), date: '2026-03-02T09:00:00' },
        ...(details ? { details } : {}),
      },
    },
  };
}

/**
 * The simulated tenant's refusals, written the way Graph writes them: codes and the texts documented
 * or seen in the field (teams-apis.md §1.1, §1.3, §1.4, §3.5).
 */
export function graphErrorOf(refusal: DirectoryRefusal, context: { id?: string; telephoneNumber?: string }): FakeResponse {
  switch (refusal.reason) {
    case 'ACCOUNT_NOT_FOUND':
    case 'ACCOUNT_NOT_YET_VISIBLE':
      return context.telephoneNumber
        ? graphError(400, 'BadRequest', `The user '${context.id ?? ''}' is not found`)
        : graphError(404, 'Request_ResourceNotFound', `Resource '${context.id ?? ''}' does not exist or one of its queried reference-property objects are not present.`);
    case 'LICENSE_USAGE_LOCATION_MISSING':
      return graphError(400, 'Request_BadRequest', 'License assignment cannot be done for user with invalid usage location.');
    case 'LICENSE_NO_FREE_SEAT':
      return graphError(400, 'Request_BadRequest', `Subscription with SKU ${String(refusal.params.sku ?? '')} does not have any available licenses.`);
    case 'LICENSE_NOT_IN_TENANT':
      return graphError(400, 'Request_BadRequest', `License ${String(refusal.params.skuId ?? '')} does not correspond to a valid company License.`);
    case 'USAGE_LOCATION_INVALID':
      return graphError(400, 'Request_BadRequest', "Invalid value specified for property 'usageLocation' of resource 'User'.");
    case 'NUMBER_ALREADY_ASSIGNED':
      return graphError(400, 'BadRequest', `Telephone Number '${context.telephoneNumber ?? ''}' has already been assigned to another user`);
    case 'NUMBER_NOT_FOUND':
      return graphError(404, 'NotFound', 'The server responded with a Request Error, Status: NotFound');
    default:
      return graphError(400, 'BadRequest', `The request was refused (${refusal.reason}).`);
  }
}
