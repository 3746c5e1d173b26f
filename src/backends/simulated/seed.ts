import type { AccountType, Association, LicenseSku, PhoneNumber } from '../../provisioning/model';
import { addMs, type StoredAccount, type StoredUser, type StoredVoiceApp, type TenantState } from './state';

/**
 * The demo tenant a new simulated-tenant file starts with. Ids are fixed so that tests and demos
 * can name things. Seat counts include holders outside the simulation (ordinary users).
 */

const SKUS = {
  resourceAccount: {
    skuId: '440eaaa8-b3e0-484b-a8be-62870b9ba70a',
    skuPartNumber: 'PHONESYSTEM_VIRTUALUSER',
    kind: 'resourceAccount',
    enabled: 25,
    // 9 resource accounts of the simulation, Lee Gu (a user, wrongly) and one holder outside it.
    consumed: 11,
  },
  // Exhausted: a new Phone System seat is refused (DOMAIN.md F9).
  phoneSystem: {
    skuId: 'e43b5b99-8dfb-405f-9987-dc307f34bcbd',
    skuPartNumber: 'MCOEV',
    kind: 'phoneSystem',
    enabled: 20,
    consumed: 20,
  },
} as const satisfies Record<string, LicenseSku>;

const voiceApp = (configurationId: string, configurationType: AccountType, name: string): Association => ({
  configurationId,
  configurationType,
  name,
});

const range = (first: number, count: number, format: (n: number) => string): string[] =>
  Array.from({ length: count }, (_, i) => format(first + i));

export const DEMO = {
  tenantDisplayName: 'Contoso (demo)',
  domains: { default: 'contoso.onmicrosoft.com', custom: 'contoso.com' },
  skus: SKUS,
  accounts: {
    /** AA, US, Resource Account license, US toll number, serves AA "Main line". */
    mainLine: { id: 'a0000000-0000-4000-8000-000000000001', upn: 'aa-main@contoso.com', displayName: 'Main line' },
    /** CQ, US, Resource Account license, US toll-free number, serves CQ "Sales". */
    sales: { id: 'a0000000-0000-4000-8000-000000000002', upn: 'cq-sales@contoso.com', displayName: 'Sales' },
    /** CQ, FR, Resource Account license, no number yet, serves CQ "Support FR". */
    supportFr: {
      id: 'a0000000-0000-4000-8000-000000000003',
      upn: 'cq-support-fr@contoso.com',
      displayName: 'Support FR',
    },
    /** AA, US, full Phone System license and a number: the license-switch candidate (DOMAIN.md §6). */
    reception: {
      id: 'a0000000-0000-4000-8000-000000000004',
      upn: 'aa-reception@contoso.com',
      displayName: 'Reception',
    },
    /** AA, FR usage location, no license, no number. */
    paris: { id: 'a0000000-0000-4000-8000-000000000005', upn: 'aa-paris@contoso.com', displayName: 'Paris office' },
    /** CQ, no usage location, no license, no number. */
    helpdesk: {
      id: 'a0000000-0000-4000-8000-000000000006',
      upn: 'cq-helpdesk@contoso.onmicrosoft.com',
      displayName: 'Helpdesk',
    },
    // What `doctor` finds: one example of each problem, made "by hand or by other tools".
    /** CQ, US, serves CQ "Invoices"; broken by a license switch done in two operations (F2). */
    invoices: { id: 'a0000000-0000-4000-8000-000000000007', upn: 'cq-invoices@contoso.com', displayName: 'Invoices' },
    /** AA, US, a US service number but no license (F3). */
    orders: { id: 'a0000000-0000-4000-8000-000000000008', upn: 'aa-orders@contoso.com', displayName: 'Orders line' },
    /** AA, usage location FR, licensed, a US service number (F4). */
    lyon: { id: 'a0000000-0000-4000-8000-000000000009', upn: 'aa-lyon@contoso.com', displayName: 'Lyon office' },
    /** CQ, US, licensed, a user (subscriber) number (F5). */
    returns: { id: 'a0000000-0000-4000-8000-00000000000a', upn: 'cq-returns@contoso.com', displayName: 'Returns' },
    /** CQ, licensed without a usage location (F8). */
    events: { id: 'a0000000-0000-4000-8000-00000000000b', upn: 'cq-events@contoso.com', displayName: 'Events' },
    /** AA, US, licensed, sign-in enabled. */
    kiosk: { id: 'a0000000-0000-4000-8000-00000000000c', upn: 'aa-kiosk@contoso.com', displayName: 'Kiosk' },
    /** Of type auto attendant, yet serves CQ "Escalations". */
    escalations: { id: 'a0000000-0000-4000-8000-00000000000d', upn: 'cq-escalations@contoso.com', displayName: 'Escalations' },
    /** AA, US, no license, serves AA "Holidays". */
    holidays: { id: 'a0000000-0000-4000-8000-00000000000e', upn: 'aa-holidays@contoso.com', displayName: 'Holidays' },
  },
  /** A CQ account deleted while it held a number and served CQ "Deliveries" (F1): in no collection any more. */
  deletedAccountId: 'a0000000-0000-4000-8000-0000000000ff',
  /** A person, not a resource account, holding a Teams Phone Resource Account license. */
  users: {
    leeGu: { id: 'b0000000-0000-4000-8000-000000000002', upn: 'lee.gu@contoso.com', displayName: 'Lee Gu' },
  },
  /** Graph organization.countryLetterCode. */
  country: 'US',
  voiceApps: {
    mainLine: voiceApp('c0000000-0000-4000-8000-000000000001', 'autoAttendant', 'Main line'),
    sales: voiceApp('c0000000-0000-4000-8000-000000000002', 'callQueue', 'Sales'),
    supportFr: voiceApp('c0000000-0000-4000-8000-000000000003', 'callQueue', 'Support FR'),
    /** No account yet. */
    afterHours: voiceApp('c0000000-0000-4000-8000-000000000004', 'autoAttendant', 'After hours'),
    escalations: voiceApp('c0000000-0000-4000-8000-000000000005', 'callQueue', 'Escalations'),
    holidays: voiceApp('c0000000-0000-4000-8000-000000000006', 'autoAttendant', 'Holidays'),
    /** Lists only the deleted account. */
    deliveries: voiceApp('c0000000-0000-4000-8000-000000000007', 'callQueue', 'Deliveries'),
    invoices: voiceApp('c0000000-0000-4000-8000-000000000008', 'callQueue', 'Invoices'),
  },
  /** A licensed user outside the simulation who holds a user number. */
  outsideUserId: 'b0000000-0000-4000-8000-000000000001',
  numbers: {
    mainLine: '+14255550100',
    sales: '+18555550100',
    reception: '+14255550110',
    /** Calling Plan service numbers, unassigned. */
    usToll: range(101, 5, (n) => `+1425555${String(n).padStart(4, '0')}`),
    usTollFree: ['+18555550101', '+18555550102'],
    /** Forty more free US toll service numbers, so that paging and search matter. */
    usPool: range(1000, 40, (n) => `+1425555${n}`),
    usOperatorConnect: range(300, 4, (n) => `+1425555${String(n).padStart(4, '0')}`),
    /** Calling Plan user (subscriber) numbers: userAssignment only (DOMAIN.md F5). */
    usUserAssigned: '+14255550200',
    usUserFree: range(201, 4, (n) => `+1425555${String(n).padStart(4, '0')}`),
    /** A service number still being activated, and one blocked from assignment. */
    notActivated: '+14255550120',
    blocked: '+14255550121',
    frToll: range(100, 4, (n) => `+33170000${n}`),
    frTollFree: '+33805000100',
    frUserFree: ['+33170000200', '+33170000201'],
    frOperatorConnect: ['+33170000300', '+33170000301'],
    /** On doctor's examples: a service number of an unlicensed account, one of a French account, a user number, one stuck. */
    orders: '+14255550130',
    lyon: '+14255550131',
    returnsUserNumber: '+14255550210',
    stuck: '+14255550140',
  },
} as const;

/** Calling Plan toll / toll-free service numbers, Operator Connect service numbers, Calling Plan user numbers. */
type Kind = 'toll' | 'tollFree' | 'operatorConnect' | 'user';
type Place = Pick<PhoneNumber, 'isoCountryCode' | 'city'>;
const US: Place = { isoCountryCode: 'US', city: 'Redmond' };
const FR: Place = { isoCountryCode: 'FR', city: 'Paris' };

function number(telephoneNumber: string, kind: Kind, place: Place, extra: Partial<PhoneNumber> = {}): PhoneNumber {
  return {
    telephoneNumber,
    numberType: kind === 'operatorConnect' ? 'operatorConnect' : 'callingPlan',
    tollFree: kind === 'tollFree',
    capabilities: kind === 'user' ? ['userAssignment'] : ['voiceApplicationAssignment', 'conferenceAssignment'],
    activationState: 'activated',
    assignmentStatus: 'unassigned',
    assignmentTargetId: null,
    assignmentBlocked: false,
    ...place,
    ...extra,
  };
}

function numbers(): PhoneNumber[] {
  const n = DEMO.numbers;
  const a = DEMO.accounts;
  const onAccount = (id: string): Partial<PhoneNumber> => ({
    assignmentStatus: 'voiceApplicationAssigned',
    assignmentTargetId: id,
  });
  const each = (list: readonly string[], kind: Kind, place: Place) => list.map((t) => number(t, kind, place));
  return [
    number(n.mainLine, 'toll', US, onAccount(a.mainLine.id)),
    number(n.sales, 'tollFree', US, onAccount(a.sales.id)),
    number(n.reception, 'toll', US, onAccount(a.reception.id)),
    ...each([...n.usToll, ...n.usPool], 'toll', US),
    ...each(n.usTollFree, 'tollFree', US),
    ...each(n.usOperatorConnect, 'operatorConnect', US),
    number(n.usUserAssigned, 'user', US, { assignmentStatus: 'userAssigned', assignmentTargetId: DEMO.outsideUserId }),
    ...each(n.usUserFree, 'user', US),
    number(n.notActivated, 'toll', US, { activationState: 'assignmentPending' }),
    number(n.blocked, 'toll', US, { assignmentBlocked: true }),
    ...each(n.frToll, 'toll', FR),
    number(n.frTollFree, 'tollFree', FR),
    ...each(n.frUserFree, 'user', FR),
    ...each(n.frOperatorConnect, 'operatorConnect', FR),
    number(n.orders, 'toll', US, onAccount(a.orders.id)),
    number(n.lyon, 'toll', US, onAccount(a.lyon.id)),
    number(n.returnsUserNumber, 'user', US, onAccount(a.returns.id)),
    // Deleted while assigned: stuck "pending" on an object that no longer exists (DOMAIN.md F1).
    number(n.stuck, 'toll', US, { ...onAccount(DEMO.deletedAccountId), activationState: 'assignmentPending' }),
  ];
}

function accounts(since: string): StoredAccount[] {
  const a = DEMO.accounts;
  const v = DEMO.voiceApps;
  const n = DEMO.numbers;
  const ra = SKUS.resourceAccount.skuId;
  const account = (
    ref: { id: string; upn: string; displayName: string },
    accountType: StoredAccount['accountType'],
    rest: Partial<StoredAccount>,
  ): StoredAccount => ({
    id: ref.id,
    userPrincipalName: ref.upn,
    displayName: ref.displayName,
    accountType,
    accountEnabled: false,
    usageLocation: null,
    assignedLicenses: [],
    phoneNumber: null,
    associations: [],
    broken: false,
    createdAt: since,
    licensedAt: rest.assignedLicenses?.length ? since : null,
    ...rest,
  });
  const servedBy = (app: Association) => [{ ...app }];
  return [
    account(a.mainLine, 'autoAttendant', {
      usageLocation: 'US',
      assignedLicenses: [ra],
      phoneNumber: n.mainLine,
      associations: servedBy(v.mainLine),
    }),
    account(a.sales, 'callQueue', {
      usageLocation: 'US',
      assignedLicenses: [ra],
      phoneNumber: n.sales,
      associations: servedBy(v.sales),
    }),
    account(a.supportFr, 'callQueue', {
      usageLocation: 'FR',
      assignedLicenses: [ra],
      associations: servedBy(v.supportFr),
    }),
    account(a.reception, 'autoAttendant', {
      usageLocation: 'US',
      assignedLicenses: [SKUS.phoneSystem.skuId],
      phoneNumber: n.reception,
    }),
    account(a.paris, 'autoAttendant', { usageLocation: 'FR' }),
    account(a.helpdesk, 'callQueue', {}),
    account(a.invoices, 'callQueue', { usageLocation: 'US', assignedLicenses: [ra], associations: servedBy(v.invoices), broken: true }),
    account(a.orders, 'autoAttendant', { usageLocation: 'US', phoneNumber: n.orders }),
    account(a.lyon, 'autoAttendant', { usageLocation: 'FR', assignedLicenses: [ra], phoneNumber: n.lyon }),
    account(a.returns, 'callQueue', { usageLocation: 'US', assignedLicenses: [ra], phoneNumber: n.returnsUserNumber }),
    account(a.events, 'callQueue', { assignedLicenses: [ra] }),
    account(a.kiosk, 'autoAttendant', { usageLocation: 'US', assignedLicenses: [ra], accountEnabled: true }),
    account(a.escalations, 'autoAttendant', { usageLocation: 'US', assignedLicenses: [ra], associations: servedBy(v.escalations) }),
    account(a.holidays, 'autoAttendant', { usageLocation: 'US', associations: servedBy(v.holidays) }),
  ];
}

function voiceApps(): StoredVoiceApp[] {
  return Object.values(DEMO.voiceApps).map((app) => ({
    ...app,
    staleAccountIds: app.configurationId === DEMO.voiceApps.deliveries.configurationId ? [DEMO.deletedAccountId] : [],
  }));
}

function users(): StoredUser[] {
  const lee = DEMO.users.leeGu;
  return [{ id: lee.id, userPrincipalName: lee.upn, displayName: lee.displayName, usageLocation: 'US', assignedLicenses: [SKUS.resourceAccount.skuId] }];
}

const byKey = <T>(items: T[], key: (item: T) => string): Record<string, T> =>
  Object.fromEntries(items.map((item) => [key(item), item]));

/** The demo tenant as of `now`; the accounts were created a month earlier. */
export function demoTenant(tenantId: string, now: Date): TenantState {
  const since = addMs(now, -30 * 24 * 3600 * 1000);
  return {
    schemaVersion: 1,
    tenantId,
    displayName: DEMO.tenantDisplayName,
    domains: [
      { name: DEMO.domains.default, isDefault: true, isOnline: true },
      { name: DEMO.domains.custom, isDefault: false, isOnline: true },
    ],
    skus: [{ ...SKUS.resourceAccount }, { ...SKUS.phoneSystem }],
    countryLetterCode: DEMO.country,
    accounts: byKey(accounts(since), (a) => a.id),
    numbers: byKey(numbers(), (n) => n.telephoneNumber),
    voiceApps: byKey(voiceApps(), (v) => v.configurationId),
    operations: {},
    users: byKey(users(), (u) => u.id),
  };
}
