import type { ResourceAccount } from '../../src/provisioning/model';

/** A resource account as the simulated tenant makes one (unlicensed, no number, no AA/CQ), with what a test sets. */
export function resourceAccount(fields: Partial<ResourceAccount> & Pick<ResourceAccount, 'id' | 'userPrincipalName' | 'displayName'>): ResourceAccount {
  return {
    accountType: 'autoAttendant',
    accountEnabled: false,
    usageLocation: null,
    assignedLicenses: [],
    phoneNumber: null,
    associations: [],
    broken: false,
    createdAt: '2025-01-01T00:00:00.000Z',
    ...fields,
  };
}
