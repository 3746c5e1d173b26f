import { distance } from 'fastest-levenshtein';

import { reasonDetail, type AuditStore, type NewAuditEntry } from '../store/audit';
import type { AccountQuery, NumberQuery, Page, TenantDirectory, VoiceApplication } from './directory';
import type { AccountSummary, AccountType, Actor, LicenseKind, LicenseSku, NumberType, PhoneNumber, ResourceAccount, TenantFacts } from './model';
import { licenseKindsOf, NumberTypeSchema } from './model';
import { checkAccountCanTakeNumber, checkNumberAssignable, checkNumberCountry, checkTelephoneNumber, countryOfCallingCode } from './numbers';
import type { Plan, Step } from './plans';
import { ok, refuse, type FormResult, type Refusal, type Result } from './result';
import {
  checkAccountType,
  checkDisplayName,
  checkDomain,
  checkFreeSeat,
  checkUpnUnused,
  checkUsageLocation,
  checkUsageLocationBeforeLicense,
  checkUserPrincipalName,
  checkUsername,
  findSku,
} from './rules';
import type { PlanRunner } from './runner';
import { checkOwnedOnline, detectHybrid, type HybridSettings } from './hybrid';
import { countryOfNumber } from './doctor';
import { TenantDoctor } from './doctorService';

/** How many accounts a mistyped username is compared with (ProvisioningService.typoMatches). */
const TYPO_SCAN = 20_000;

/** What the add-account form submits, untrusted. */
export interface NewAccountForm {
  displayName: string;
  username: string;
  domain: string;
  accountType: string;
  usageLocation: string;
  /** 'resourceAccount' | 'phoneSystem' | 'none' */
  license: string;
  /** Hybrid tenants only: the Direct Routing number (the on-premises LineUri), optional. */
  telephoneNumber?: string;
}

export interface EditForm {
  displayName: string;
  accountType: string;
}

export interface ValidNewAccount {
  userPrincipalName: string;
  displayName: string;
  accountType: AccountType;
  usageLocation: string | null;
  sku: LicenseSku | null;
  /** Hybrid tenants: the Direct Routing number to give the account once it has arrived. */
  telephoneNumber: string | null;
  hybrid: boolean;
}

/** Close matches named by an unknown username before the rest are counted. */
const SHOWN_MATCHES = 3;
/**
 * Words a card shows as typed (no Markdown-sensitive character, nothing that starts a block, such as
 * "1. " or "--": src/cards/text.ts) and that a quoted "list" search takes whole: a letter or digit
 * first, then letters, digits, . ' - ! ^ ~ and single spaces, an underscore only between ASCII letters or digits.
 */
const COPYABLE_WORDS = /^(?!\p{N}+[.)](?: |$))[\p{L}\p{N}](?:[\p{L}\p{N}.'!^~-]|(?<=[A-Za-z0-9])_(?=[A-Za-z0-9])| (?=[^\s]))*$/u;

/** Whether a "list" search of these words can be offered to be said again as the card shows it. */
export function isCopyableSearch(words: string): boolean {
  return COPYABLE_WORDS.test(words);
}

/**
 * The provisioning service: every request is validated against the tenant's current state before a
 * plan exists, and nothing in the tenant changes until the plan runs (after confirmation for the
 * risky ones). The steps validate again when they run, since the tenant may have moved meanwhile.
 */
export class ProvisioningService {
  /** `doctor`: the tenant's existing resource-account problems, and their fixes as plans. */
  readonly doctor: TenantDoctor;

  constructor(
    private readonly directory: TenantDirectory,
    private readonly audit: AuditStore,
    readonly plans: PlanRunner,
    private readonly hybrid: HybridSettings = { mode: 'auto' },
  ) {
    this.doctor = new TenantDoctor(directory, this, audit);
  }

  /** The tenant's facts, with whether it is hybrid (the add form and the add plan depend on it). */
  async tenantFacts(): Promise<TenantFacts> {
    const [facts, hybrid] = await Promise.all([this.directory.getTenantFacts(), detectHybrid(this.hybrid, this.directory)]);
    return { ...facts, hybrid };
  }

  getAccount(id: string): Promise<ResourceAccount | null> {
    return this.directory.getAccount(id);
  }

  listAccounts(query: AccountQuery): Promise<Page<AccountSummary>> {
    return this.directory.listAccounts(query);
  }

  /** A number of the tenant's inventory, if it has it. */
  phoneNumber(telephoneNumber: string): Promise<PhoneNumber | null> {
    return this.directory.getPhoneNumber(telephoneNumber);
  }

  listVoiceApplications(): Promise<VoiceApplication[]> {
    return this.directory.listVoiceApplications();
  }

  /** Free service numbers a resource account can take; Teams dropdowns show 15 at most, so search. */
  searchNumbers(query: Omit<NumberQuery, 'assignableOnly'>): Promise<Page<PhoneNumber>> {
    return this.directory.listPhoneNumbers({ ...query, assignableOnly: true });
  }

  /** Finds an account by full UPN, or by username alone when exactly one domain has it. */
  async findAccount(username: string): Promise<Result<ResourceAccount>> {
    const wanted = username.trim();
    if (!wanted) return refuse('ACCOUNT_NOT_FOUND', { username: '—' });
    if (wanted.includes('@')) {
      const account = await this.directory.findAccountByUpn(wanted);
      return account ? ok(account) : this.notFound(wanted);
    }
    const facts = await this.directory.getTenantFacts();
    const matches: ResourceAccount[] = [];
    for (const domain of facts.domains) {
      const account = await this.directory.findAccountByUpn(`${wanted}@${domain.name}`);
      if (account) matches.push(account);
    }
    if (matches.length === 1) return ok(matches[0]!);
    if (matches.length > 1) {
      return refuse('ACCOUNT_AMBIGUOUS', { username: wanted, candidates: matches.map((m) => m.userPrincipalName).join(', ') });
    }
    return this.notFound(wanted);
  }

  /** No such account: the accounts whose name or username holds what was typed ("show reception"), if any, are offered. */
  private async notFound(wanted: string): Promise<Refusal> {
    const words = wanted.split('@')[0]!.trim();
    // Four read: four matches are all shown, more are three shown and the rest counted ("and 1 more" read badly).
    const similar = words.length >= 2 ? await this.directory.listAccounts({ offset: 0, limit: SHOWN_MATCHES + 1, text: words }) : null;
    if (!similar || similar.total === 0) {
      const typos = await this.typoMatches(words);
      if (typos.length === 0) return refuse('ACCOUNT_NOT_FOUND', { username: wanted.slice(0, 120) });
      return refuse('ACCOUNT_NOT_FOUND_SIMILAR', { username: wanted.slice(0, 120), candidates: typos.join(', ') });
    }
    const shown = similar.total > SHOWN_MATCHES + 1 ? similar.items.slice(0, SHOWN_MATCHES) : similar.items;
    const candidates = shown.map((a) => a.userPrincipalName).join(', ');
    const more = similar.total - shown.length;
    // "(+4)" after the three shown said neither what it counted nor how to see them. The list is offered
    // quoted (its words are then text, not the filters "aa", "cq"…), and only for words the card shows
    // as typed, so that the admin can say it again as read.
    // Whole or not at all: a cut search would not be the one that found these.
    if (more > 0 && words.length <= 120 && isCopyableSearch(words)) {
      return refuse('ACCOUNT_NOT_FOUND_SIMILAR_MORE', { username: wanted.slice(0, 120), candidates, more, words });
    }
    return refuse('ACCOUNT_NOT_FOUND_SIMILAR', { username: wanted.slice(0, 120), candidates });
  }

  /**
   * Usernames a letter or two away from a mistyped one ("recepton" → aa-reception): no part of it is
   * in any name then, so the substring search finds nothing. Read from the account list (cached on
   * the Microsoft backend, as `list` reads it), at most TYPO_SCAN accounts; only for a miss.
   */
  private async typoMatches(words: string): Promise<string[]> {
    const typed = words.toLowerCase();
    if (typed.length < 4 || typed.length > 64) return [];
    // One edit in a short name, two in a longer one: more would match names that merely look alike.
    const most = typed.length < 8 ? 1 : 2;
    // One read of the list, as one `list` page costs (the Microsoft backend builds the whole list from
    // its cache for any page); at most TYPO_SCAN accounts: past that, no suggestion rather than a wait.
    const page = await this.directory.listAccounts({ offset: 0, limit: TYPO_SCAN });
    const found: { upn: string; by: number }[] = [];
    for (const account of page.items) {
      const name = account.userPrincipalName.split('@')[0]!.toLowerCase();
      // The whole username, and without its "aa-"/"cq-" prefix, which admins often leave out.
      const by = Math.min(distance(typed, name), /^(aa|cq)-/.test(name) ? distance(typed, name.slice(3)) : Infinity);
      if (by <= most) found.push({ upn: account.userPrincipalName, by });
    }
    return found
      .sort((a, b) => a.by - b.by || a.upn.localeCompare(b.upn))
      .slice(0, 3)
      .map((f) => f.upn);
  }

  // --- add ----------------------------------------------------------------------------------------

  /** Checks the whole add form against the rules and the tenant; changes nothing. */
  async validateNewAccount(form: NewAccountForm, facts?: TenantFacts): Promise<FormResult<ValidNewAccount>> {
    const tenant = facts ?? (await this.tenantFacts());
    const hybrid = tenant.hybrid?.hybrid === true;
    const refusals: Refusal[] = [];
    const displayName = checkDisplayName(form.displayName);
    if (!displayName.ok) refusals.push(displayName);
    // Username and domain are checked apart so that each field shows its own problem.
    const username = checkUsername(form.username);
    const domain = checkDomain(form.domain, tenant);
    if (!username.ok) refusals.push(username);
    if (!domain.ok) refusals.push(domain);
    const upn = checkUserPrincipalName(form.username, form.domain, tenant);
    if (upn.ok) {
      const taken = checkUpnUnused(await this.directory.findAccountByUpn(upn.value));
      if (taken) refusals.push(taken);
    }
    const accountType = checkAccountType(form.accountType);
    if (!accountType.ok) refusals.push(accountType);

    const wantsLicense = form.license !== 'none';
    let usageLocation: string | null = null;
    if (form.usageLocation.trim()) {
      const checked = checkUsageLocation(form.usageLocation);
      if (checked.ok) usageLocation = checked.value;
      else refusals.push(checked);
    } else if (wantsLicense) {
      refusals.push(checkUsageLocationBeforeLicense(null)!);
    }
    let sku: LicenseSku | null = null;
    if (form.license === 'phoneSystem') {
      // Microsoft's current guidance: resource accounts take the Teams Phone Resource Account license,
      // never Teams Phone Standard (learn.microsoft.com/microsoftteams/teams-add-on-licensing/virtual-user).
      refusals.push(refuse('LICENSE_NOT_FOR_RESOURCE_ACCOUNTS', {}, 'license'));
    } else if (wantsLicense) {
      const found = findSku(tenant, form.license);
      if (!found.ok) refusals.push(found);
      else {
        const noSeat = checkFreeSeat(found.value);
        if (noSeat) refusals.push(noSeat);
        else sku = found.value;
      }
    }
    // Hybrid numbers are Direct Routing (seed page, hybrid section); the account needs a license first (F3).
    let telephoneNumber: string | null = null;
    if (hybrid && form.telephoneNumber?.trim()) {
      const checked = checkTelephoneNumber(form.telephoneNumber, 'directRouting');
      if (!checked.ok) refusals.push(checked);
      else if (!wantsLicense) refusals.push(refuse('NUMBER_ACCOUNT_NOT_LICENSED', { upn: upn.ok ? upn.value : form.username.trim().slice(0, 120) }, 'telephoneNumber'));
      else telephoneNumber = checked.value;
    }
    if (!displayName.ok || !upn.ok || !accountType.ok || refusals.length > 0) return { ok: false, refusals };
    return ok({ userPrincipalName: upn.value, displayName: displayName.value, accountType: accountType.value, usageLocation, sku, telephoneNumber, hybrid });
  }

  /**
   * Create → usage location → license, as one plan that starts at once (the submit is the request),
   * unless the approval policy names addAccount: then it waits for confirmation and approval like any
   * other change. Usage location comes first: a license needs it (DOMAIN.md F8).
   */
  /**
   * `formId` is the id of the form that was sent, which becomes the plan's: a form sent twice (a double
   * click, the second often arriving once the first made the account) is answered with the plan the
   * first made, not refused as a username already in use.
   */
  async addAccount(actor: Actor, form: NewAccountForm, formId?: string): Promise<FormResult<Plan>> {
    // The same person's add of the same username: a form whose id names another plan (a form shared in a
    // channel and sent by a second admin, an older copy of a form filled in for another account) is a new
    // request, made under an id of its own.
    const upn = `${form.username.trim()}@${form.domain.trim()}`.toLowerCase();
    const ofThisForm = async (): Promise<{ plan?: Plan; own?: Plan }> => {
      const plan = formId === undefined ? undefined : await this.plans.get(formId);
      const own = plan?.kind === 'addAccount' && plan.requestedBy.aadObjectId === actor.aadObjectId && plan.account.userPrincipalName.toLowerCase() === upn;
      return { ...(plan ? { plan } : {}), ...(own ? { own: plan } : {}) };
    };
    const first = await ofThisForm();
    if (first.own) return ok(first.own);
    const planId = first.plan ? undefined : formId;
    const valid = await this.validateNewAccount(form);
    if (!valid.ok) {
      const meanwhile = planId === undefined ? undefined : (await ofThisForm()).own;
      if (meanwhile) return ok(meanwhile);
      const target = `${form.username.trim()}@${form.domain.trim()}`.slice(0, 200);
      await this.auditBestEffort({
        actor,
        action: 'account.create',
        target,
        outcome: 'refused',
        reason: valid.refusals.map((r) => r.reason).join(','),
        detail: valid.refusals.length === 1 ? reasonDetail(valid.refusals[0]!.params) : Object.assign({}, ...valid.refusals.slice(0, 8).map((r, i) => reasonDetail(r.params, i))),
      });
      return valid;
    }
    const input = valid.value;
    // In a hybrid tenant the account is made on Skype for Business Server 2019 and synced to Entra ID
    // (seed page: "must be created on Skype for Business Server 2019"): the plan waits for it instead.
    const steps = newAccountSteps({
      ...input,
      license: input.sku?.kind ?? null,
      telephoneNumber: input.telephoneNumber ?? undefined,
      numberType: input.telephoneNumber ? 'directRouting' : undefined,
      ...(input.hybrid ? { onPremises: { ou: this.hybrid.ou } } : {}),
    });
    const plan = await this.plans.propose(
      { kind: 'addAccount', account: { id: null, userPrincipalName: input.userPrincipalName, displayName: input.displayName }, requestedBy: actor, steps, ...(planId ? { id: planId } : {}) },
      true,
    );
    return plan.ok ? plan : { ok: false, refusals: [plan] };
  }

  // --- numbers ------------------------------------------------------------------------------------

  /**
   * Plans giving the account a service number: wait until its license is provisioned (F14), then
   * assign. Every rule of DOMAIN.md "Numbers" is checked first; nothing changes before confirmation.
   */
  async planAssignNumber(actor: Actor, accountId: string, numberTypeRaw: string, rawNumber: string): Promise<Result<Plan>> {
    const result = await this.proposeAssignNumber(actor, accountId, numberTypeRaw, rawNumber);
    if (!result.ok) await this.auditRefusal(actor, 'number.assign', accountId, result, rawNumber);
    return result;
  }

  private async proposeAssignNumber(actor: Actor, accountId: string, numberTypeRaw: string, rawNumber: string): Promise<Result<Plan>> {
    const account = await this.directory.getAccount(accountId);
    if (!account) return refuse('ACCOUNT_GONE');
    const type = NumberTypeSchema.safeParse(numberTypeRaw);
    if (!type.success) return refuse('NUMBER_WRONG_TYPE', { number: rawNumber.slice(0, 40), actual: numberTypeRaw.slice(0, 40), expected: 'callingPlan, operatorConnect or directRouting' }, 'numberType');
    const checked = await this.checkNumberFor(account, type.data, rawNumber, await this.directory.getTenantFacts());
    if (!checked.ok) return checked;
    return this.plans.propose({
        kind: 'assignNumber',
        account: accountRef(account),
        requestedBy: actor,
        steps: [{ kind: 'awaitLicense' }, { kind: 'assignNumber', telephoneNumber: checked.value, numberType: type.data }],
      });
  }

  /**
   * The number rules for an account that does not exist yet (a row of a bulk import): the same checks
   * as for an existing one, against the account as the add plan will leave it (usage location, license).
   */
  async validateNumberForNewAccount(input: ValidNewAccount, numberTypeRaw: string, rawNumber: string, facts: TenantFacts): Promise<Result<{ telephoneNumber: string; numberType: NumberType }>> {
    const type = NumberTypeSchema.safeParse(numberTypeRaw);
    if (!type.success) return refuse('NUMBER_WRONG_TYPE', { number: rawNumber.slice(0, 40), actual: numberTypeRaw.slice(0, 40), expected: 'callingPlan, operatorConnect or directRouting' }, 'numberType');
    const prospect: ResourceAccount = {
      id: '',
      userPrincipalName: input.userPrincipalName,
      displayName: input.displayName,
      accountType: input.accountType,
      accountEnabled: false,
      usageLocation: input.usageLocation,
      assignedLicenses: input.sku ? [input.sku.skuId] : [],
      phoneNumber: null,
      associations: [],
      broken: false,
      createdAt: '',
    };
    const checked = await this.checkNumberFor(prospect, type.data, rawNumber, facts);
    return checked.ok ? ok({ telephoneNumber: checked.value, numberType: type.data }) : checked;
  }

  /** Every rule of DOMAIN.md "Numbers" for this account and number; returns the number in E.164. */
  private async checkNumberFor(account: ResourceAccount, numberType: NumberType, rawNumber: string, facts: TenantFacts): Promise<Result<string>> {
    const telephoneNumber = checkTelephoneNumber(rawNumber, numberType);
    if (!telephoneNumber.ok) return telephoneNumber;
    const notReady = checkAccountCanTakeNumber(account, facts.skus);
    if (notReady) return notReady;
    const number = await this.directory.getPhoneNumber(telephoneNumber.value);
    if (number) {
      const refusal = checkNumberAssignable(number, numberType, account, (id) => id);
      if (refusal) return refusal.reason === 'NUMBER_ALREADY_ASSIGNED' ? this.withAssigneeName(refusal, number) : refusal;
    } else if (numberType !== 'directRouting') {
      // Calling Plan and Operator Connect numbers must already be in the tenant's inventory.
      return refuse('NUMBER_NOT_FOUND', { number: telephoneNumber.value }, 'telephoneNumber');
    } else {
      const country = countryOfCallingCode(telephoneNumber.value);
      const mismatch = country ? checkNumberCountry(telephoneNumber.value, country, account) : null;
      if (mismatch) return mismatch;
    }
    return telephoneNumber;
  }

  async planUnassignNumber(actor: Actor, accountId: string): Promise<Result<Plan>> {
    const account = await this.directory.getAccount(accountId);
    if (!account) return refuse('ACCOUNT_GONE');
    const step = await this.unassignStep(account);
    if (!step) return refuse('NUMBER_NOT_ASSIGNED', { upn: account.userPrincipalName });
    return this.plans.propose({ kind: 'unassignNumber', account: accountRef(account), requestedBy: actor, steps: [step] });
  }

  // --- license switch -----------------------------------------------------------------------------

  /**
   * The free Teams Phone Resource Account license for an account that has none (DOMAIN.md F1), with a
   * usage location first when it lacks one (F8): its number's country, else the tenant's. An account on
   * Phone System is switched instead (planSwitchLicense), since removing that license first breaks it (F2).
   */
  async planAssignLicense(actor: Actor, accountId: string): Promise<Result<Plan>> {
    const account = await this.directory.getAccount(accountId);
    if (!account) return refuse('ACCOUNT_GONE');
    if (account.broken) return refuse('ACCOUNT_BROKEN', { upn: account.userPrincipalName });
    const facts = await this.directory.getTenantFacts();
    const kinds = licenseKindsOf(account, facts.skus);
    if (kinds.includes('resourceAccount')) return refuse('LICENSE_ALREADY_ASSIGNED');
    if (kinds.includes('phoneSystem')) return refuse('LICENSE_USE_SWITCH', { upn: account.userPrincipalName });
    const sku = findSku(facts, 'resourceAccount');
    if (!sku.ok) return sku;
    const noSeat = checkFreeSeat(sku.value);
    if (noSeat) return noSeat;
    const steps: Step[] = [];
    if (!account.usageLocation) {
      // The number's country as the tenant records it (F4), as the doctor's fix does; else the tenant's.
      const number = account.phoneNumber ? await this.directory.getPhoneNumber(account.phoneNumber) : null;
      const country = (number ? countryOfNumber(number) : null) ?? facts.countryLetterCode ?? null;
      if (!country) return refuse('LICENSE_USAGE_LOCATION_MISSING');
      steps.push({ kind: 'setUsageLocation', usageLocation: country, ifMissing: true });
    }
    steps.push({ kind: 'assignLicense', license: 'resourceAccount' });
    return this.plans.propose({ kind: 'assignLicense', account: accountRef(account), requestedBy: actor, steps });
  }

  /** Phone System → Resource Account, one license operation after a free-seat check (DOMAIN.md F2, F9). */
  async planSwitchLicense(actor: Actor, accountId: string): Promise<Result<Plan>> {
    const account = await this.directory.getAccount(accountId);
    if (!account) return refuse('ACCOUNT_GONE');
    const facts = await this.directory.getTenantFacts();
    const kinds = licenseKindsOf(account, facts.skus);
    if (!kinds.includes('phoneSystem')) return refuse('LICENSE_SWITCH_NOT_APPLICABLE', { upn: account.userPrincipalName });
    const target = findSku(facts, 'resourceAccount');
    if (!target.ok) return target;
    if (!kinds.includes('resourceAccount')) {
      const noSeat = checkFreeSeat(target.value);
      if (noSeat) return noSeat;
    }
    return this.plans.propose({ kind: 'switchLicense', account: accountRef(account), requestedBy: actor, steps: [{ kind: 'switchLicense' }] });
  }

  // --- edit and associations ----------------------------------------------------------------------

  /** Display name and type; a type change is refused while the account serves an AA/CQ (F6). */
  async editAccount(actor: Actor, accountId: string, form: EditForm): Promise<FormResult<Plan>> {
    const result = await this.proposeEdit(actor, accountId, form);
    if (!result.ok) await this.auditRefusal(actor, 'account.update', accountId, result.refusals[0]!, result.refusals.map((r) => r.reason).join(','));
    return result;
  }

  private async proposeEdit(actor: Actor, accountId: string, form: EditForm): Promise<FormResult<Plan>> {
    const account = await this.directory.getAccount(accountId);
    if (!account) return { ok: false, refusals: [refuse('ACCOUNT_GONE')] };
    if (account.broken) return { ok: false, refusals: [refuse('ACCOUNT_BROKEN', { upn: account.userPrincipalName })] };
    const onPremises = checkOwnedOnline(account, 'edit');
    if (onPremises) return { ok: false, refusals: [onPremises] };
    const refusals: Refusal[] = [];
    const checked = checkDisplayName(form.displayName);
    // A blank-reading name that the account already has (made elsewhere) does not stop a change of type.
    const keptAsItIs = !checked.ok && checked.reason === 'DISPLAY_NAME_INVISIBLE' && form.displayName.trim() === account.displayName.trim();
    const displayName: Result<string> = keptAsItIs ? ok(account.displayName) : checked;
    if (!displayName.ok) refusals.push(displayName);
    const accountType = checkAccountType(form.accountType);
    if (!accountType.ok) refusals.push(accountType);
    if (accountType.ok && accountType.value !== account.accountType && account.associations[0]) {
      refusals.push(refuse('EDIT_TYPE_WHILE_ASSOCIATED', { upn: account.userPrincipalName, voiceApp: account.associations[0].name }, 'accountType'));
    }
    if (!displayName.ok || !accountType.ok || refusals.length > 0) return { ok: false, refusals };
    if (displayName.value === account.displayName && accountType.value === account.accountType) {
      return { ok: false, refusals: [refuse('EDIT_NOTHING_TO_CHANGE', {}, 'displayName')] };
    }
    const step: Step = { kind: 'updateAccount' };
    if (displayName.value !== account.displayName) step.displayName = displayName.value;
    if (accountType.value !== account.accountType) step.accountType = accountType.value;
    const plan = await this.plans.propose({ kind: 'editAccount', account: accountRef(account), requestedBy: actor, steps: [step] }, true);
    return plan.ok ? plan : { ok: false, refusals: [plan] };
  }

  /** Uses the account with an AA or CQ of its own type (the seed's "next step"). */
  async associate(actor: Actor, accountId: string, configurationId: string): Promise<Result<Plan>> {
    const result = await this.proposeAssociate(actor, accountId, configurationId);
    if (!result.ok) await this.auditRefusal(actor, 'account.associate', accountId, result, configurationId);
    return result;
  }

  private async proposeAssociate(actor: Actor, accountId: string, configurationId: string): Promise<Result<Plan>> {
    const account = await this.directory.getAccount(accountId);
    if (!account) return refuse('ACCOUNT_GONE');
    if (account.broken) return refuse('ACCOUNT_BROKEN', { upn: account.userPrincipalName });
    const app = (await this.directory.listVoiceApplications()).find((a) => a.configurationId === configurationId);
    if (!app) return refuse('VOICE_APP_NOT_FOUND', { name: configurationId.slice(0, 100) }, 'voiceApplication');
    const current = account.associations[0];
    if (current) return refuse('ACCOUNT_ALREADY_ASSOCIATED', { upn: account.userPrincipalName, voiceApp: current.name }, 'voiceApplication');
    if (app.configurationType !== account.accountType) {
      return refuse('ASSOCIATION_TYPE_MISMATCH', { upn: account.userPrincipalName, accountType: account.accountType, voiceApp: app.name }, 'voiceApplication');
    }
    return this.plans.propose(
      { kind: 'associate', account: accountRef(account), requestedBy: actor, steps: [{ kind: 'associate', configurationId, configurationType: app.configurationType, name: app.name }] },
      true,
    );
  }

  async planDissociate(actor: Actor, accountId: string): Promise<Result<Plan>> {
    const account = await this.directory.getAccount(accountId);
    if (!account) return refuse('ACCOUNT_GONE');
    if (account.associations.length === 0) return refuse('ASSOCIATION_NONE', { upn: account.userPrincipalName });
    const steps: Step[] = account.associations.map((a) => ({ kind: 'dissociate', configurationId: a.configurationId, name: a.name }));
    return this.plans.propose({ kind: 'dissociate', account: accountRef(account), requestedBy: actor, steps });
  }

  // --- delete -------------------------------------------------------------------------------------

  /**
   * Unassign the number → wait until really unassigned → remove associations → delete (DOMAIN.md
   * "Delete", F1). Only a proposal: nothing is stripped before the confirmation (F11).
   */
  async planDelete(actor: Actor, accountId: string): Promise<Result<Plan>> {
    const account = await this.directory.getAccount(accountId);
    if (!account) return refuse('ACCOUNT_GONE');
    const onPremises = checkOwnedOnline(account, 'delete');
    if (onPremises) return onPremises;
    const steps: Step[] = [];
    const unassign = await this.unassignStep(account);
    if (unassign) steps.push(unassign);
    for (const a of account.associations) steps.push({ kind: 'dissociate', configurationId: a.configurationId, name: a.name });
    steps.push({ kind: 'deleteAccount' });
    return this.plans.propose({ kind: 'deleteAccount', account: accountRef(account), requestedBy: actor, steps });
  }

  /** Refused requests are audited too: who tried what, and why it was refused. */
  private async auditRefusal(actor: Actor, action: string, accountId: string, refusal: Refusal, detail: string): Promise<void> {
    const account = await this.directory.getAccount(accountId);
    await this.auditBestEffort({
      actor,
      action,
      target: account?.userPrincipalName ?? accountId.slice(0, 100),
      outcome: 'refused',
      reason: refusal.reason,
      detail: { value: detail.slice(0, 100), ...reasonDetail(refusal.params) },
    });
  }

  /** A refusal changes nothing: when the audit log cannot take it right now, the refusal still stands. */
  private async auditBestEffort(entry: NewAuditEntry): Promise<void> {
    await this.audit.append(entry).catch(() => undefined);
  }

  private async unassignStep(account: ResourceAccount): Promise<Step | null> {
    if (!account.phoneNumber) return null;
    const number = await this.directory.getPhoneNumber(account.phoneNumber);
    return { kind: 'unassignNumber', telephoneNumber: account.phoneNumber, numberType: number?.numberType ?? 'directRouting' };
  }

  /** Says where a number is assigned (F10): the holder's username when it is one of ours. */
  private async withAssigneeName(refusal: Refusal, number: PhoneNumber): Promise<Refusal> {
    const holder = number.assignmentTargetId ? await this.directory.getAccount(number.assignmentTargetId) : null;
    return holder ? { ...refusal, params: { ...refusal.params, assignee: holder.userPrincipalName } } : refusal;
  }
}

/**
 * The steps that make a new account: create → usage location → license (a license needs the usage
 * location first, DOMAIN.md F8), and, when it gets a number, wait for the license to be provisioned
 * (F14) → assign. The single add and every row of a bulk import run the same steps.
 */
export function newAccountSteps(input: {
  userPrincipalName: string;
  displayName: string;
  accountType: AccountType;
  usageLocation: string | null;
  license: LicenseKind | null;
  telephoneNumber?: string | undefined;
  numberType?: NumberType | undefined;
  /** Hybrid tenants: the account comes from on-premises (src/provisioning/hybrid.ts); the number is its LineUri too. */
  onPremises?: { ou?: string | undefined };
}): Step[] {
  const { userPrincipalName, displayName, accountType } = input;
  const steps: Step[] = input.onPremises
    ? [
        {
          kind: 'awaitOnPremisesAccount',
          userPrincipalName,
          displayName,
          accountType,
          ...(input.telephoneNumber ? { lineUri: input.telephoneNumber } : {}),
          ...(input.onPremises.ou ? { ou: input.onPremises.ou } : {}),
        },
      ]
    : [{ kind: 'createAccount', userPrincipalName, displayName, accountType }];
  if (input.usageLocation) steps.push({ kind: 'setUsageLocation', usageLocation: input.usageLocation });
  if (input.license) steps.push({ kind: 'assignLicense', license: input.license });
  if (input.telephoneNumber && input.numberType) {
    steps.push({ kind: 'awaitLicense' }, { kind: 'assignNumber', telephoneNumber: input.telephoneNumber, numberType: input.numberType });
  }
  return steps;
}

function accountRef(account: ResourceAccount): Plan['account'] {
  return { id: account.id, userPrincipalName: account.userPrincipalName, displayName: account.displayName };
}
