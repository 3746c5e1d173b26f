import { GraphError } from '../../../src/backends/microsoft/graph/errors';
import { PowerShellError } from '../../../src/backends/microsoft/powershell/errors';
import { reasonOfStatusDetail, refusalFromGraph, refusalFromPowerShell, type Attempt } from '../../../src/backends/microsoft/tenantErrors';
import type { ReasonCode } from '../../../src/provisioning/result';

/** The tenant's answers → our reason codes (teams-apis.md §1.1, §1.3, §1.9, §3.5). Unknown answers stay faults. */

const graph = (status: number, code: string, message: string, details: { code: string }[] = []) =>
  GraphError.fromBody('POST', '/x', status, { error: { code, message, details, innerError: { 'request-id': 'r' } } });

const UNLICENSED =
  "The user 'a0000000-0000-4000-8000-000000000005' already has a telephone number set in the on-premises Active Directory and synchronized to the cloud.";

describe('Graph errors', () => {
  const rows: [string, GraphError, Attempt, ReasonCode | null][] = [
    ['a duplicate UPN (ObjectConflict detail)', graph(400, 'Request_BadRequest', 'Another object with the same value for property userPrincipalName already exists.', [{ code: 'ObjectConflict' }]), { action: 'createAccount', upn: 'aa@contoso.com' }, 'UPN_IN_USE'],
    ['a license without usage location', graph(400, 'Request_BadRequest', 'License assignment cannot be done for user with invalid usage location.'), { action: 'assignLicense' }, 'LICENSE_USAGE_LOCATION_MISSING'],
    ['no seat left', graph(400, 'Request_BadRequest', 'Subscription with SKU x does not have any available licenses.'), { action: 'assignLicense' }, 'LICENSE_NO_FREE_SEAT'],
    ['an unknown SKU', graph(400, 'Request_BadRequest', 'License x does not correspond to a valid company License.'), { action: 'assignLicense' }, 'LICENSE_NOT_IN_TENANT'],
    ['a bad usage location value', graph(400, 'Request_BadRequest', "Invalid value specified for property 'usageLocation' of resource 'User'."), { action: 'setUsageLocation', usageLocation: 'XX' }, 'USAGE_LOCATION_INVALID'],
    ['the misleading "on-premises" text (= not licensed)', graph(400, 'BadRequest', UNLICENSED), { action: 'assignNumber' }, 'NUMBER_ACCOUNT_NOT_LICENSED'],
    ['a number already taken', graph(400, 'BadRequest', "Telephone Number '+14255550100' has already been assigned to another user"), { action: 'assignNumber', telephoneNumber: '+14255550100' }, 'NUMBER_ALREADY_ASSIGNED'],
    ['"user not found" right after creation', graph(400, 'BadRequest', "The user 'b1' is not found"), { action: 'assignNumber', recentlyCreated: true }, 'ACCOUNT_NOT_YET_VISIBLE'],
    ['"user not found" for an old account', graph(400, 'BadRequest', "The user 'b1' is not found"), { action: 'assignNumber' }, 'ACCOUNT_NOT_FOUND'],
    ['a 404 on a user right after creation', graph(404, 'Request_ResourceNotFound', "Resource 'b1' does not exist."), { action: 'setUsageLocation', recentlyCreated: true }, 'ACCOUNT_NOT_YET_VISIBLE'],
    ['a 404 on a user', graph(404, 'Request_ResourceNotFound', "Resource 'b1' does not exist."), { action: 'deleteAccount' }, 'ACCOUNT_NOT_FOUND'],
    ['an unknown number or wrong type (NotFound)', graph(404, 'NotFound', 'The server responded with a Request Error, Status: NotFound'), { action: 'assignNumber' }, 'NUMBER_NOT_FOUND'],
    ['a permission problem (a fault, not a refusal)', graph(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'), { action: 'assignLicense' }, null],
    ['an unknown 400 (a fault)', graph(400, 'BadRequest', 'Something else.'), { action: 'assignNumber' }, null],
  ];

  it.each(rows)('maps %s', (_name, error, attempt, reason) => {
    expect(refusalFromGraph(error, attempt)?.reason ?? null).toBe(reason);
  });

  it('codes first: ObjectConflict is a duplicate UPN whatever the message says', () => {
    expect(refusalFromGraph(graph(400, 'Request_BadRequest', 'Conflict.', [{ code: 'ObjectConflict' }]), { action: 'createAccount' })?.reason).toBe('UPN_IN_USE');
  });

  it('reads a body that is not Graph-shaped as a fault with the HTTP status', () => {
    expect(GraphError.fromBody('GET', '/x', 502, '<html>')).toMatchObject({ status: 502, code: 'HTTP502' });
  });
});

describe('Teams PowerShell errors', () => {
  const ps = (errorId: string, message: string, category = 'NotSpecified') => new PowerShellError('New-CsOnlineApplicationInstance', errorId, message, category);
  const rows: [string, PowerShellError, Attempt, ReasonCode | null][] = [
    ['a duplicate UPN', ps('BadRequest,Microsoft.Teams', 'Another object with the same value for property userPrincipalName already exists.'), { action: 'createAccount' }, 'UPN_IN_USE'],
    ['"not found" right after creation', ps('BadRequest', "The user 'b1' is not found"), { action: 'associate', recentlyCreated: true }, 'ACCOUNT_NOT_YET_VISIBLE'],
    ['a NotFound', ps('NotFound,Microsoft.Teams', 'Application instance was not found.'), { action: 'updateAccount' }, 'ACCOUNT_NOT_FOUND'],
    ['the misleading "on-premises" text', ps('BadRequest', UNLICENSED), { action: 'assignNumber' }, 'NUMBER_ACCOUNT_NOT_LICENSED'],
    ['Access Denied (app-only session: a fault to fix in configuration)', ps('Forbidden,Microsoft.Teams', 'Access Denied.', 'PermissionDenied'), { action: 'createAccount' }, null],
    ['a missing module (a fault)', ps('Modules_ModuleNotFound', "The specified module 'MicrosoftTeams' was not loaded because no valid module file was found."), { action: 'createAccount' }, null],
  ];

  it.each(rows)('maps %s', (_name, error, attempt, reason) => {
    expect(refusalFromPowerShell(error, attempt)?.reason ?? null).toBe(reason);
  });
});

describe("a failed number operation's statusDetail", () => {
  it.each([
    [UNLICENSED, 'NUMBER_ACCOUNT_NOT_LICENSED'],
    ["Telephone Number '+1' has already been assigned to another user", 'NUMBER_ALREADY_ASSIGNED'],
    ["The user 'b1' is not found", 'ACCOUNT_NOT_YET_VISIBLE'],
    ['Something else went wrong.', undefined],
  ])('reads "%s" as %s', (detail, reason) => {
    expect(reasonOfStatusDetail(detail)).toBe(reason);
  });
});
