import { randomUUID } from 'node:crypto';
import { refuseIfNotYetVisible } from '../../src/backends/simulated/accounts';
import { demoTenant } from '../../src/backends/simulated/seed';
import { own, type Slowness, type StoredAccount, type TenantState } from '../../src/backends/simulated/state';
import { hasDueOperations, settleOperations } from '../../src/backends/simulated/telephony';
import { ActivationStateSchema, NumberCapabilitySchema, NumberTypeSchema, type PhoneNumber } from '../../src/provisioning/model';
import { DirectoryRefusal } from '../../src/provisioning/result';
import documented from './fixtures/graph-numberassignments.json';

/**
 * The state behind the fake Graph server and the fake pwsh: the simulated tenant's model (its pure
 * state functions), so that both backends answer from the same rules; only the wire differs.
 */

export interface OrdinaryUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  /** skuIds; none given: an E5 (graphApi.ts). */
  assignedLicenses?: string[];
}

export interface FakeTenantOptions {
  tenantId: string;
  now: () => Date;
  slowness?: Slowness;
  /** Teams PowerShell runs app-only: [Get|Set|New]-CsOnlineApplicationInstance answer Access Denied. */
  appOnly?: boolean;
  /** Graph may page below the $top asked for; a small page makes every listing follow @odata.nextLink. */
  maxPageSize?: number;
  /** numberAssignments paging: as documented ($top/$skip, no nextLink; default) or with @odata.nextLink. */
  numberPaging?: 'skip' | 'nextLink';
  /** The operation answer as the Get page's example shows it (wrapped in "value"; default) or bare. */
  operationShape?: 'wrapped' | 'bare';
}

/** Fields of a documented numberAssignment record that the model does not hold (id, operatorId…). */
export interface DocumentedNumber {
  id: string;
  operatorId: string;
  supportedCustomerActions: string[];
}

export class FakeTenant {
  readonly state: TenantState;
  /** Users that are not resource accounts (Graph sees them; Teams has no instance for them). */
  readonly users = new Map<string, OrdinaryUser>();
  readonly slowness: Required<Slowness>;
  appOnly: boolean;
  readonly maxPageSize: number;
  readonly numberPaging: 'skip' | 'nextLink';
  operationShape: 'wrapped' | 'bare';
  /** Numbers loaded from Microsoft's documented examples, with the fields the model drops. */
  readonly documentedNumbers = new Map<string, DocumentedNumber>();
  /** Accounts whose (dis)association the tenant refuses with this message, in a Results row (not an error). */
  readonly failAssociations = new Map<string, string>();

  constructor(readonly options: FakeTenantOptions) {
    this.state = demoTenant(options.tenantId, options.now());
    this.slowness = {
      licenseProvisioningMs: options.slowness?.licenseProvisioningMs ?? 0,
      numberOperationMs: options.slowness?.numberOperationMs ?? 0,
      accountPropagationMs: options.slowness?.accountPropagationMs ?? 0,
    };
    this.appOnly = options.appOnly ?? false;
    this.maxPageSize = options.maxPageSize ?? 20;
    this.numberPaging = options.numberPaging ?? 'skip';
    this.operationShape = options.operationShape ?? 'wrapped';
    const someone = { id: randomUUID(), userPrincipalName: 'adele.vance@contoso.com', displayName: 'Adele Vance' };
    this.users.set(someone.id, someone);
  }

  now(): Date {
    return this.options.now();
  }

  /** Number operations whose time has come are finished before any answer (as the simulated tenant does). */
  observe(): void {
    const now = this.now();
    if (hasDueOperations(this.state, now)) settleOperations(this.state, now, this.slowness.licenseProvisioningMs);
  }

  /**
   * Loads the numbers of Microsoft's documented list examples (fixtures/graph-numberassignments.json,
   * Examples 1 and 2; Example 4 contradicts Example 1): Direct Routing numbers with "isoCountryCode": null.
   */
  loadDocumentedNumbers(): PhoneNumber[] {
    const loaded = [...documented.example1, ...documented.example2].map((r) => {
      const assignmentStatus = r.assignmentStatus as PhoneNumber['assignmentStatus'];
      const number: PhoneNumber = {
        telephoneNumber: r.telephoneNumber,
        numberType: NumberTypeSchema.parse(r.numberType),
        tollFree: false,
        capabilities: r.capabilities.map((c) => NumberCapabilitySchema.parse(c)),
        activationState: ActivationStateSchema.parse(r.activationState),
        assignmentStatus,
        assignmentTargetId: r.assignmentTargetId,
        isoCountryCode: r.isoCountryCode,
        ...(r.city ? { city: r.city } : {}),
        assignmentBlocked: false,
      };
      this.state.numbers[number.telephoneNumber] = number;
      this.documentedNumbers.set(number.telephoneNumber, { id: r.id, operatorId: r.operatorId, supportedCustomerActions: r.supportedCustomerActions });
      return number;
    });
    return loaded;
  }

  /** Free Direct Routing service numbers in bulk (+1 425 7xx xxxx), with no country as Microsoft shows them. */
  addServiceNumbers(count: number): void {
    for (let i = 0; i < count; i += 1) {
      const telephoneNumber = `+14257${String(i).padStart(6, '0')}`;
      this.state.numbers[telephoneNumber] = {
        telephoneNumber,
        numberType: 'directRouting',
        tollFree: false,
        capabilities: ['voiceApplicationAssignment'],
        activationState: 'activated',
        assignmentStatus: 'unassigned',
        assignmentTargetId: null,
        isoCountryCode: null,
        assignmentBlocked: false,
      };
    }
  }

  /**
   * `count` more resource accounts (aa-/cq-load-NNNNN@contoso.com), a third licensed, every other one
   * holding a Direct Routing number (+1 206 5xx xxxx) assigned to it: a big tenant for listings.
   */
  addResourceAccounts(count: number): string[] {
    const ids: string[] = [];
    const ra = Object.values(this.state.skus).find((s) => s.kind === 'resourceAccount')?.skuId;
    for (let i = 0; i < count; i += 1) {
      const id = `f0000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
      const accountType = i % 2 === 0 ? 'autoAttendant' : 'callQueue';
      const telephoneNumber = i % 2 === 0 ? `+12065${String(i).padStart(6, '0')}` : null;
      this.state.accounts[id] = {
        id,
        userPrincipalName: `${accountType === 'autoAttendant' ? 'aa' : 'cq'}-load-${String(i).padStart(5, '0')}@contoso.com`,
        displayName: `Load ${String(i).padStart(5, '0')}`,
        accountType,
        accountEnabled: false,
        usageLocation: i % 3 === 0 ? 'US' : null,
        assignedLicenses: i % 3 === 0 && ra ? [ra] : [],
        phoneNumber: telephoneNumber,
        associations: [],
        broken: false,
        createdAt: '2026-01-05T10:00:00.000Z',
        licensedAt: i % 3 === 0 && ra ? '2026-01-05T10:00:00.000Z' : null,
      };
      if (telephoneNumber) {
        this.state.numbers[telephoneNumber] = {
          telephoneNumber,
          numberType: 'directRouting',
          tollFree: false,
          capabilities: ['voiceApplicationAssignment'],
          activationState: 'activated',
          assignmentStatus: 'voiceApplicationAssigned',
          assignmentTargetId: id,
          isoCountryCode: null,
          assignmentBlocked: false,
        };
      }
      ids.push(id);
    }
    return ids;
  }

  /** By object id or UPN, case-insensitive. */
  account(idOrUpn: string): StoredAccount | undefined {
    const key = idOrUpn.toLowerCase();
    return own(this.state.accounts, key) ?? Object.values(this.state.accounts).find((a) => a.userPrincipalName.toLowerCase() === key);
  }

  /** The users that are not resource accounts: this fake's own and the demo tenant's (seed.ts). */
  ordinaryUsers(): OrdinaryUser[] {
    return [...this.users.values(), ...Object.values(this.state.users)];
  }

  user(idOrUpn: string): OrdinaryUser | undefined {
    const key = idOrUpn.toLowerCase();
    return this.ordinaryUsers().find((u) => u.id === key || u.userPrincipalName.toLowerCase() === key);
  }

  /** Entra replication lag right after creation (DOMAIN.md F13): Graph does not see the account yet. */
  visibleInGraph(account: StoredAccount): boolean {
    try {
      refuseIfNotYetVisible(account, this.now(), this.slowness.accountPropagationMs);
      return true;
    } catch (e) {
      if (e instanceof DirectoryRefusal) return false;
      throw e;
    }
  }
}
