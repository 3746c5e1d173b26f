import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { ChangeRequest } from '../../src/approvals/requests';
import { matchesAccount, type HistoryPage } from '../../src/audit/history';
import { DEMO, demoTenant } from '../../src/backends/simulated/seed';
import { listAccounts, listPhoneNumbers, scanOf } from '../../src/backends/simulated/queries';
import { doctorReportCard } from '../../src/cards/doctorReport';
import { diagnose } from '../../src/provisioning/doctor';
import { buildFix } from '../../src/provisioning/doctorFixes';
import { toResourceAccount, type StoredAccount, type TenantState } from '../../src/backends/simulated/state';
import { accountDetailsCard } from '../../src/cards/accountDetails';
import { accountListCard, accountQuery, NO_FILTERS, type ListFilters } from '../../src/cards/accountList';
import { addAccountFormCard, EMPTY_FORM } from '../../src/cards/addAccountForm';
import { approvalRequestCard, approvalStatusLine, type Viewer } from '../../src/cards/approvalRequest';
import { associateFormCard } from '../../src/cards/associateForm';
import { describeRefusal } from '../../src/cards/describe';
import { editAccountFormCard } from '../../src/cards/editAccountForm';
import { helpCard } from '../../src/cards/help';
import { historyCard } from '../../src/cards/history';
import { messageCard } from '../../src/cards/message';
import { numberAlreadyAssignedCard } from '../../src/cards/numberAlreadyAssigned';
import { numberDirectRoutingCard } from '../../src/cards/numberDirectRouting';
import { numberNotReadyCard } from '../../src/cards/numberNotReady';
import { numberSearchCard, type NumberFilter, type SearchableNumberType } from '../../src/cards/numberSearch';
import { describeNumberRefusal } from '../../src/cards/numberText';
import { numberTypeCard } from '../../src/cards/numberType';
import { planCard, type ApprovalState } from '../../src/cards/planCard';
import { CARDS_DIR, type CardJson } from '../../src/cards/render';
import { format, strings, type Locale } from '../../src/i18n';
import type { AuditEntry } from '../../src/store/audit';
import type { VoiceApplication } from '../../src/provisioning/directory';
import type { ResourceAccount, TenantFacts } from '../../src/provisioning/model';
import { checkAccountHasNoNumber, checkLicensedForNumber, checkNumberCountry } from '../../src/provisioning/numbers';
import type { BatchRow, Plan, PlanKind, PlanStatus, RefusedRow, Step, StepState } from '../../src/provisioning/plans';
import type { BatchProgress } from '../../src/provisioning/batch';
import { importBatchCard } from '../../src/cards/importBatch';
import { describeImportProblem, importFormCard } from '../../src/cards/importForm';
import { refuse, type Refusal } from '../../src/provisioning/result';
import { checkDisplayName, checkFreeSeat, checkUpnUnused } from '../../src/provisioning/rules';
import { ADMIN, APPROVER, APPROVER_2, TENANT } from '../helpers/identities';

/** A page of the log as the history card gets it (newest first), built from an in-memory list. */
function historyPage(all: readonly AuditEntry[], offset: number, limit: number, username?: string): HistoryPage {
  const matching = (username ? all.filter((e) => matchesAccount(e, username)) : [...all]).reverse();
  return { entries: matching.slice(offset, offset + limit), total: matching.length, offset, limit };
}


/**
 * The card catalogue: every template in cards/ expanded by its real renderer (src/cards/*.ts) with
 * realistic data from the simulated demo tenant (src/backends/simulated/seed.ts), in the states an
 * admin, an approver or a requester actually meets. test/cards/cards.test.ts validates each card and
 * scripts/cards-gallery.js renders each to docs/cards/<name>.png.
 *
 * Everything is deterministic (fixed clock, fixed ids), so the gallery only changes when a card does.
 */

export interface CatalogueEntry {
  /** Unique and file-name safe: the gallery writes docs/cards/<name>.png. */
  name: string;
  /** The template it expands: cards/<template>.json. */
  template: string;
  /** One line for docs/cards/README.md. */
  description: string;
  card: CardJson;
}

/** The catalogue's "now"; the demo accounts were created 30 days earlier. */
const NOW = new Date('2026-03-02T09:30:00.000Z');
/**
 * As LIST_PAGE_SIZE (src/bot/actions/listAccounts.ts) and NUMBER_PAGE_SIZE (src/bot/numberFlow.ts),
 * repeated rather than imported so that the gallery compiles the cards without the bot layer.
 */
const LIST_PAGE_SIZE = 10;
const NUMBER_PAGE_SIZE = 15;
/** As HISTORY_PAGE_SIZE (src/bot/history.ts). */
const HISTORY_PAGE_SIZE = 10;

const at = (minutes: number): string => new Date(NOW.getTime() + minutes * 60_000).toISOString();

/** The template names in cards/ (without .json), read from disk at call time. */
export function templateNames(): string[] {
  return readdirSync(CARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => path.basename(f, '.json'))
    .sort();
}

/** Templates in cards/ that no catalogue entry expands. */
export function uncoveredTemplates(entries: readonly CatalogueEntry[]): string[] {
  const covered = new Set(entries.map((e) => e.template));
  return templateNames().filter((t) => !covered.has(t));
}

/** Throws when a template has no catalogue entry (or an entry names a template that does not exist). */
export function assertCatalogueComplete(entries: readonly CatalogueEntry[]): void {
  const missing = uncoveredTemplates(entries);
  const known = new Set(templateNames());
  const unknown = [...new Set(entries.map((e) => e.template).filter((t) => !known.has(t)))];
  const names = entries.map((e) => e.name);
  const duplicates = names.filter((n, i) => names.indexOf(n) !== i);
  const problems = [
    ...missing.map((t) => `cards/${t}.json has no entry in test/cards/catalogue.ts`),
    ...unknown.map((t) => `a catalogue entry names cards/${t}.json, which does not exist`),
    ...duplicates.map((n) => `catalogue name "${n}" is used twice`),
  ];
  if (problems.length) throw new Error(`Card catalogue incomplete:\n  ${problems.join('\n  ')}`);
}

// ---------------------------------------------------------------------------------------------
// The demo tenant

function tenant(): TenantState {
  return demoTenant(TENANT, NOW);
}

type DemoAccount = keyof typeof DEMO.accounts;

function account(state: TenantState, key: DemoAccount): ResourceAccount {
  const stored = state.accounts[DEMO.accounts[key].id];
  if (!stored) throw new Error(`demo account ${key} is missing from the seed`);
  return toResourceAccount(stored);
}

function factsOf(state: TenantState): TenantFacts {
  return { tenantId: state.tenantId, displayName: state.displayName, domains: state.domains, skus: state.skus, countryLetterCode: state.countryLetterCode };
}

/** The tenant's voice applications with the accounts serving each, as the directory reports them. */
function voiceAppsOf(state: TenantState): VoiceApplication[] {
  const accounts = Object.values(state.accounts);
  return Object.values(state.voiceApps).map(({ configurationId, configurationType, name, staleAccountIds }) => ({
    configurationId,
    configurationType,
    name,
    accountIds: [...accounts.filter((a) => a.associations.some((x) => x.configurationId === configurationId)).map((a) => a.id), ...staleAccountIds],
  }));
}

/**
 * The demo tenant grown to 25 accounts (branch offices), so that the list has pages: the demo seed
 * alone fits on one page of LIST_PAGE_SIZE.
 */
function largerTenant(): TenantState {
  const state = tenant();
  const ra = DEMO.skus.resourceAccount.skuId;
  const cities = ['Amsterdam', 'Berlin', 'Boston', 'Chicago', 'Dublin', 'Lisbon', 'London', 'Lyon', 'Madrid', 'Milan', 'Munich', 'Oslo', 'Prague', 'Seattle', 'Sydney', 'Tokyo', 'Toronto', 'Vienna', 'Zurich'];
  const countries = ['NL', 'DE', 'US', 'US', 'IE', 'PT', 'GB', 'FR', 'ES', 'IT', 'DE', 'NO', 'CZ', 'US', 'AU', 'JP', 'CA', 'AT', 'CH'];
  cities.forEach((city, i) => {
    const n = i + 101;
    const callQueue = i % 3 === 1;
    const slug = city.toLowerCase();
    const stored: StoredAccount = {
      id: `a0000000-0000-4000-8000-000000000${n}`,
      userPrincipalName: `${callQueue ? 'cq' : 'aa'}-${slug}@${DEMO.domains.custom}`,
      displayName: `${city} ${callQueue ? 'front desk' : 'office'}`,
      accountType: callQueue ? 'callQueue' : 'autoAttendant',
      accountEnabled: false,
      usageLocation: countries[i] ?? null,
      assignedLicenses: i % 4 === 3 ? [] : [ra],
      phoneNumber: i % 2 === 0 && countries[i] === 'US' ? `+1206555${String(n).padStart(4, '0')}` : null,
      associations: [],
      broken: false,
      createdAt: at(-60 * 24 * 10),
      licensedAt: i % 4 === 3 ? null : at(-60 * 24 * 10),
    };
    state.accounts[stored.id] = stored;
  });
  return state;
}

// ---------------------------------------------------------------------------------------------
// Plans and change requests

const PERSON = { admin: { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name }, approver: { aadObjectId: APPROVER.aadObjectId, name: APPROVER.name } };

function makePlan(id: string, kind: PlanKind, status: PlanStatus, subject: ResourceAccount | { upn: string; displayName: string }, steps: [Step, StepState][]): Plan {
  const ref = 'userPrincipalName' in subject ? { id: subject.id, userPrincipalName: subject.userPrincipalName, displayName: subject.displayName } : { id: null, userPrincipalName: subject.upn, displayName: subject.displayName };
  return {
    id,
    kind,
    version: 3,
    status,
    account: ref,
    requestedBy: PERSON.admin,
    needsApproval: false,
    createdAt: at(-12),
    updatedAt: at(-2),
    steps: steps.map(([step, state]) => ({ step, state })),
  };
}

const note = (refusal: Refusal): StepState['note'] => ({ reason: refusal.reason, params: refusal.params });

function request(plan: Plan, status: ChangeRequest['status'], decision?: ChangeRequest['decision']): ChangeRequest {
  return {
    id: plan.id,
    kind: plan.kind,
    account: plan.account,
    requestedBy: { ...PERSON.admin, userId: ADMIN.id },
    proposedBy: PERSON.admin,
    status,
    version: 2,
    createdAt: at(-12),
    expiresAt: at(60 * 24 - 12),
    ...(decision ? { decision } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// The catalogue

function addAccountForms(state: TenantState, locale: Locale): CatalogueEntry[] {
  const facts = factsOf(state);
  const mainLine = account(state, 'mainLine');
  // Every Resource Account seat taken: the refused form says so under the license.
  const exhausted = { ...facts, skus: facts.skus.map((s) => (s.kind === 'resourceAccount' ? { ...s, consumed: s.enabled } : s)) };
  const resourceAccount = exhausted.skus.find((s) => s.kind === 'resourceAccount');
  const noSeat = resourceAccount ? checkFreeSeat(resourceAccount) : null;
  const inUse = checkUpnUnused(mainLine);
  const refusals = [inUse, noSeat].filter((r): r is Refusal => r !== null);
  return [
    {
      name: 'add-account-form',
      template: 'add-account-form',
      description: "Add form, new: default domain, the tenant's country and the Resource Account license preselected (Teams Phone Standard is not offered).",
      card: addAccountFormCard(facts, locale),
    },
    {
      name: 'add-account-form-errors',
      template: 'add-account-form',
      description: 'Add form sent back refused: username already used, no free Resource Account seat; typed values kept.',
      card: addAccountFormCard(
        exhausted,
        locale,
        { ...EMPTY_FORM, displayName: 'Main line', username: 'aa-main', domain: DEMO.domains.custom, accountType: 'autoAttendant', usageLocation: 'US', license: 'resourceAccount' },
        refusals,
      ),
    },
  ];
}

function accountDetails(state: TenantState, locale: Locale): CatalogueEntry[] {
  const skus = state.skus;
  const created: ResourceAccount = {
    id: 'a0000000-0000-4000-8000-000000000099',
    userPrincipalName: `cq-billing@${DEMO.domains.custom}`,
    displayName: 'Billing',
    accountType: 'callQueue',
    accountEnabled: false,
    usageLocation: 'US',
    assignedLicenses: [DEMO.skus.resourceAccount.skuId],
    phoneNumber: null,
    associations: [],
    broken: false,
    createdAt: NOW.toISOString(),
  };
  return [
    { name: 'account-details', template: 'account-details', description: 'An AA account with license, number and association: the changes the rules allow (more in the … menu).', card: accountDetailsCard(account(state, 'mainLine'), skus, locale) },
    { name: 'account-details-created', template: 'account-details', description: 'A just-created, licensed CQ account, with the next step (assign a number).', card: accountDetailsCard(created, skus, locale, true) },
    { name: 'account-details-phone-system', template: 'account-details', description: 'An account on a full Phone System license: "Switch license" offered.', card: accountDetailsCard(account(state, 'reception'), skus, locale) },
    { name: 'account-details-unlicensed', template: 'account-details', description: 'An unlicensed account: next step says to license it first.', card: accountDetailsCard(account(state, 'paris'), skus, locale) },
    { name: 'account-details-broken', template: 'account-details', description: 'A broken account (license switched in two steps): marked, no number offered.', card: accountDetailsCard({ ...account(state, 'reception'), phoneNumber: null, broken: true }, skus, locale) },
    {
      name: 'account-details-refused',
      template: 'account-details',
      description: 'A stale button of this card refused (licensed meanwhile): the account as it stands now, with why.',
      card: accountDetailsCard(account(state, 'mainLine'), skus, locale, false, true, describeRefusal(refuse('LICENSE_ALREADY_ASSIGNED'), locale)),
    },
    { name: 'account-details-read-only', template: 'account-details', description: 'As an approver sees it: no change buttons.', card: accountDetailsCard(account(state, 'sales'), skus, locale, false, false) },
  ];
}

function accountLists(locale: Locale): CatalogueEntry[] {
  const big = largerTenant();
  const list = (filters: ListFilters, offset: number) => accountListCard(listAccounts(big, accountQuery(filters, offset, LIST_PAGE_SIZE)), big.skus, locale, filters);
  const filtered: ListFilters = { accountType: 'callQueue', license: 'unlicensed', number: 'all', text: '' };
  const nothing: ListFilters = { ...NO_FILTERS, text: 'warehouse' };
  return [
    { name: 'account-list', template: 'account-list', description: 'First page of 25 accounts: Next only.', card: list(NO_FILTERS, 0) },
    { name: 'account-list-page-2', template: 'account-list', description: 'Middle page: Previous and Next.', card: list(NO_FILTERS, LIST_PAGE_SIZE) },
    { name: 'account-list-filtered', template: 'account-list', description: 'Filtered to unlicensed call queues: one page.', card: list(filtered, 0) },
    { name: 'account-list-empty', template: 'account-list', description: 'A search that matches nothing.', card: list(nothing, 0) },
  ];
}

function plans(state: TenantState, locale: Locale): CatalogueEntry[] {
  const facts = factsOf(state);
  const s = strings(locale);
  const supportFr = account(state, 'supportFr');
  const paris = account(state, 'paris');
  const mainLine = account(state, 'mainLine');
  const reception = account(state, 'reception');
  const pending: StepState = { status: 'pending' };
  const done: StepState = { status: 'done', finishedAt: at(-3) };
  const frNumber = DEMO.numbers.frToll[0];

  const add = makePlan('p-add-billing', 'addAccount', 'awaitingConfirmation', { upn: `cq-billing@${DEMO.domains.custom}`, displayName: 'Billing' }, [
    [{ kind: 'createAccount', userPrincipalName: `cq-billing@${DEMO.domains.custom}`, displayName: 'Billing', accountType: 'callQueue' }, pending],
    [{ kind: 'setUsageLocation', usageLocation: 'US' }, pending],
    [{ kind: 'assignLicense', license: 'resourceAccount' }, pending],
  ]);
  const waiting = makePlan('p-number-support-fr', 'assignNumber', 'waiting', supportFr, [
    [{ kind: 'awaitLicense' }, { status: 'waiting', waits: 3, note: note(refuse('LICENSE_PROVISIONING_PENDING', { upn: supportFr.userPrincipalName })) }],
    [{ kind: 'assignNumber', telephoneNumber: frNumber, numberType: 'callingPlan' }, pending],
  ]);
  const failed = makePlan('p-number-support-fr-2', 'assignNumber', 'failed', supportFr, [
    [{ kind: 'awaitLicense' }, done],
    [
      { kind: 'assignNumber', telephoneNumber: frNumber, numberType: 'callingPlan' },
      { status: 'failed', note: note(refuse('TENANT_OPERATION_FAILED', { upn: supportFr.userPrincipalName, detail: 'The telephone number is already assigned to another target (ErrorCode: PhoneNumberAlreadyAssigned).' })) },
    ],
  ]);
  const running = makePlan('p-switch-reception', 'switchLicense', 'running', reception, [[{ kind: 'switchLicense' }, pending]]);
  const edited = makePlan('p-edit-main', 'editAccount', 'done', mainLine, [[{ kind: 'updateAccount', displayName: 'Main line (24/7)' }, done]]);
  const deletePlan = makePlan('p-delete-paris', 'deleteAccount', 'awaitingConfirmation', paris, [[{ kind: 'deleteAccount' }, pending]]);
  const broken = account(state, 'invoices');
  const replacement = buildFix(
    { code: 'BROKEN_BY_LICENSE_SWITCH', severity: 'error', subjectId: broken.id, params: { upn: broken.userPrincipalName } },
    { scan: scanOf(state), facts, actor: PERSON.admin },
  );
  if (!replacement.ok) throw new Error(`the demo tenant's broken account has no replacement plan: ${replacement.reason}`);
  const replace = makePlan('p-replace-invoices', 'replaceAccount', 'awaitingConfirmation', { upn: replacement.value.account.userPrincipalName, displayName: broken.displayName }, replacement.value.steps.map((step) => [step, pending]));
  const cancelled = makePlan('p-dissociate-sales', 'dissociate', 'cancelled', account(state, 'sales'), [[{ kind: 'dissociate', configurationId: DEMO.voiceApps.sales.configurationId, name: DEMO.voiceApps.sales.name }, pending]]);

  const deleteRequest = request(deletePlan, 'pending');
  const approval: ApprovalState = {
    line: approvalStatusLine(deleteRequest, deletePlan, locale),
    tone: 'warning',
    pending: true,
    endedPlan: false,
    requestId: deleteRequest.id,
    note: format(s.approval.sentTo, { names: [APPROVER.name, APPROVER_2.name].join(', ') }),
  };
  return [
    { name: 'plan-awaiting-confirmation', template: 'plan', description: 'New account plan waiting for Confirm / Cancel.', card: planCard(add, facts, locale) },
    { name: 'plan-awaiting-approval', template: 'plan', description: "Delete plan as its requester sees it while an approver decides.", card: planCard(deletePlan, facts, locale, paris, approval) },
    { name: 'plan-running', template: 'plan', description: 'License switch running (Refresh).', card: planCard(running, facts, locale, reception) },
    { name: 'plan-waiting', template: 'plan', description: 'Number plan waiting for license provisioning (Refresh).', card: planCard(waiting, facts, locale, supportFr) },
    { name: 'plan-failed', template: 'plan', description: 'Number plan failed at step 2 with the tenant\'s words (Retry / Cancel).', card: planCard(failed, facts, locale, supportFr) },
    { name: 'plan-done', template: 'plan', description: 'Edit plan done (Show account).', card: planCard(edited, facts, locale, null) },
    {
      name: 'plan-done-approved',
      template: 'plan',
      description: 'Delete plan done after an approval, as its requester sees it: by whom.',
      card: (() => {
        const deleted = makePlan('p-delete-paris', 'deleteAccount', 'done', paris, [[{ kind: 'deleteAccount' }, done]]);
        const decided = request(deleted, 'done', { ...PERSON.approver, at: at(-2) });
        return planCard(deleted, facts, locale, null, { line: approvalStatusLine(decided, deleted, locale), tone: 'default', pending: false, endedPlan: false, requestId: decided.id, note: '', done: true });
      })(),
    },
    { name: 'plan-replace-broken', template: 'plan', description: 'A doctor fix: replacing an account broken by a two-step license switch (steps on the old account name it).', card: planCard(replace, facts, locale) },
    { name: 'plan-cancelled', template: 'plan', description: 'Dissociate plan cancelled: no buttons but "Show commands".', card: planCard(cancelled, facts, locale, account(state, 'sales')) },
  ];
}

function approvals(state: TenantState, locale: Locale): CatalogueEntry[] {
  const paris = account(state, 'paris');
  const supportFr = account(state, 'supportFr');
  const pendingPlan = makePlan('p-delete-paris', 'deleteAccount', 'awaitingConfirmation', paris, [[{ kind: 'deleteAccount' }, { status: 'pending' }]]);
  const pending = request(pendingPlan, 'pending');
  const refreshIds = [ADMIN.aadObjectId, APPROVER.aadObjectId, APPROVER_2.aadObjectId];
  const view = (r: ChangeRequest, plan: Plan, viewer: Viewer, unreachable: string[] = []) => approvalRequestCard(r, plan, viewer, locale, refreshIds, unreachable);
  const decision = (minutes: number, reason?: string): NonNullable<ChangeRequest['decision']> => ({ ...PERSON.approver, at: at(minutes), ...(reason ? { reason } : {}) });

  const donePlan = makePlan('p-delete-paris', 'deleteAccount', 'done', paris, [[{ kind: 'deleteAccount' }, { status: 'done', finishedAt: at(-1) }]]);
  const failedPlan = makePlan('p-number-support-fr-2', 'assignNumber', 'failed', supportFr, [
    [{ kind: 'awaitLicense' }, { status: 'done', finishedAt: at(-3) }],
    [
      { kind: 'assignNumber', telephoneNumber: DEMO.numbers.frToll[0], numberType: 'callingPlan' },
      { status: 'failed', note: note(refuse('TENANT_OPERATION_FAILED', { upn: supportFr.userPrincipalName, detail: 'The telephone number is already assigned to another target.' })) },
    ],
  ]);
  return [
    { name: 'approval-request-approver', template: 'approval-request', description: 'Pending request as an approver sees it: reason box, Approve / Reject.', card: view(pending, pendingPlan, 'approver') },
    {
      name: 'approval-request-requester',
      template: 'approval-request',
      description: 'Pending request as its requester sees it: Cancel request, and who could not be reached.',
      card: view(pending, pendingPlan, 'requester', [APPROVER_2.name]),
    },
    { name: 'approval-request-bystander', template: 'approval-request', description: 'Pending request as anyone else sees it: read-only.', card: view(pending, pendingPlan, 'other') },
    { name: 'approval-request-done', template: 'approval-request', description: 'Approved and carried out: final for everyone.', card: view(request(donePlan, 'done', decision(-2)), donePlan, 'approver') },
    {
      name: 'approval-request-rejected',
      template: 'approval-request',
      description: 'Rejected, with the approver\'s reason.',
      card: view(request(pendingPlan, 'rejected', decision(-2, 'Paris still forwards calls to this AA until the end of March.')), pendingPlan, 'requester'),
    },
    { name: 'approval-request-failed', template: 'approval-request', description: 'Approved, then failed in the tenant.', card: view(request(failedPlan, 'failed', decision(-4)), failedPlan, 'requester') },
    { name: 'approval-request-expired', template: 'approval-request', description: 'Expired without a decision.', card: view({ ...pending, status: 'expired', expiresAt: at(-1) }, pendingPlan, 'other') },
  ];
}

function associateForms(state: TenantState, locale: Locale): CatalogueEntry[] {
  const apps = voiceAppsOf(state);
  const paris = account(state, 'paris');
  const helpdesk = account(state, 'helpdesk');
  const mismatch = refuse('ASSOCIATION_TYPE_MISMATCH', { upn: paris.userPrincipalName, accountType: 'autoAttendant', voiceApp: DEMO.voiceApps.sales.name }, 'voiceApplication');
  return [
    { name: 'associate-form', template: 'associate-form', description: 'Unassociated AA account: the auto attendants to choose from.', card: associateFormCard(paris, apps, locale) },
    {
      name: 'associate-form-refused',
      template: 'associate-form',
      description: 'Refused pick sent back with the reason under the list and the pick kept.',
      card: associateFormCard(paris, apps, locale, { selected: DEMO.voiceApps.afterHours.configurationId, refusal: mismatch }),
    },
    { name: 'associate-form-associated', template: 'associate-form', description: 'Already associated: offers removing the association instead.', card: associateFormCard(account(state, 'sales'), apps, locale) },
    { name: 'associate-form-no-match', template: 'associate-form', description: '"associate <username> <text>" matching no call queue.', card: associateFormCard(helpdesk, apps, locale, { text: 'night' }) },
  ];
}

function editForms(state: TenantState, locale: Locale): CatalogueEntry[] {
  const sales = account(state, 'sales');
  const blocked = refuse('EDIT_TYPE_WHILE_ASSOCIATED', { upn: sales.userPrincipalName, voiceApp: DEMO.voiceApps.sales.name }, 'accountType');
  const longName = 'Sales '.repeat(50).trim();
  const tooLong = checkDisplayName(longName);
  if (tooLong.ok) throw new Error('a 299-character display name is no longer refused');
  return [
    { name: 'edit-account-form', template: 'edit-account-form', description: 'Edit form for an associated account: says which CQ uses it.', card: editAccountFormCard(sales, locale) },
    {
      name: 'edit-account-form-errors',
      template: 'edit-account-form',
      description: 'Type change refused while associated: errors under the fields and "Remove association".',
      card: editAccountFormCard(sales, locale, { displayName: longName, accountType: 'autoAttendant' }, [tooLong, blocked]),
    },
  ];
}

function helps(locale: Locale): CatalogueEntry[] {
  return [
    { name: 'help', template: 'help', description: 'Help for an admin who is also an approver.', card: helpCard(locale, { admin: true, approver: true }, ADMIN.aadObjectId) },
    { name: 'help-unknown-command', template: 'help', description: 'Help after an unknown command, for a user with no role.', card: helpCard(locale, { admin: false, approver: false }, 'c3c3c3c3-0000-4000-8000-000000000003', 'reboot the PBX') },
  ];
}

function messages(state: TenantState, locale: Locale): CatalogueEntry[] {
  const s = strings(locale);
  const busy = refuse('PLAN_ACCOUNT_BUSY', { upn: account(state, 'supportFr').userPrincipalName });
  return [
    { name: 'message-refused', template: 'message', description: 'A refusal.', card: messageCard(s.errors.refusedTitle, describeRefusal(busy, locale), 'attention') },
    { name: 'message-cancelled', template: 'message', description: 'A plain confirmation.', card: messageCard(s.errors.cancelled, '', 'default') },
    {
      name: 'message-internal-error',
      template: 'message',
      description: 'An internal error, with a correlation id as detail.',
      card: messageCard(s.errors.title, format(s.errors.internal, { correlationId: 'f3a9c2d1-7b41-4e0c-9a55-2f1e8d6b0c47' }), 'attention', 'correlation id f3a9c2d1-7b41-4e0c-9a55-2f1e8d6b0c47'),
    },
  ];
}

function numberCards(state: TenantState, locale: Locale): CatalogueEntry[] {
  const skus = state.skus;
  const supportFr = account(state, 'supportFr');
  const mainLine = account(state, 'mainLine');
  const paris = account(state, 'paris');
  const helpdesk = account(state, 'helpdesk');
  const broken: ResourceAccount = { ...account(state, 'reception'), phoneNumber: null, broken: true };
  const s = strings(locale).number;

  const search = (numberType: SearchableNumberType, filter: NumberFilter, extra: { picked?: string; errors?: { telephoneNumber?: string; prefix?: string } } = {}) =>
    numberSearchCard(
      {
        account: supportFr,
        skus,
        numberType,
        filter,
        page: extra.errors?.prefix
          ? null
          : listPhoneNumbers(state, {
              numberType,
              assignableOnly: true,
              offset: filter.offset,
              limit: NUMBER_PAGE_SIZE,
              ...(filter.country ? { isoCountryCode: filter.country } : {}),
              ...(filter.prefix ? { prefix: filter.prefix } : {}),
            }),
        ...extra,
      },
      locale,
    );
  const usNumber = DEMO.numbers.usToll[0];
  const mismatch = checkNumberCountry(usNumber, 'US', supportFr);

  const hasNumber = checkAccountHasNoNumber(mainLine);
  const unlicensed = checkLicensedForNumber(paris, skus);
  const noLocation = checkLicensedForNumber(helpdesk, skus);
  if (!hasNumber || !unlicensed || !noLocation || !mismatch) throw new Error('the demo tenant no longer has the accounts the number cards need');
  return [
    { name: 'number-type', template: 'number-type', description: 'Assign number, step 1: the number type.', card: numberTypeCard(supportFr, skus, locale) },
    { name: 'number-type-error', template: 'number-type', description: 'Number type sent back without a choice.', card: numberTypeCard(supportFr, skus, locale, '', s.typeRequired) },
    { name: 'number-search', template: 'number-search', description: 'Calling Plan numbers in France: one page.', card: search('callingPlan', { country: 'FR', prefix: '', offset: 0 }) },
    { name: 'number-search-paged', template: 'number-search', description: 'Any country, second page of 15: country shown per number, Previous page / Next page.', card: search('callingPlan', { country: '', prefix: '', offset: NUMBER_PAGE_SIZE }) },
    {
      name: 'number-search-refused',
      template: 'number-search',
      description: 'A US number picked for a French account: refused under the list, pick kept.',
      card: search('callingPlan', { country: 'US', prefix: '1425555', offset: 0 }, { picked: usNumber, errors: { telephoneNumber: describeNumberRefusal(mismatch, locale) } }),
    },
    { name: 'number-search-empty', template: 'number-search', description: 'Operator Connect numbers with a prefix that matches none.', card: search('operatorConnect', { country: 'FR', prefix: '3390', offset: 0 }) },
    {
      name: 'number-search-bad-prefix',
      template: 'number-search',
      description: 'A prefix that is not digits: nothing searched, error under the field.',
      card: search('callingPlan', { country: 'FR', prefix: '+33 (1)', offset: 0 }, { errors: { prefix: format(s.prefixInvalid, { value: '+33 (1)' }) } }),
    },
    { name: 'number-direct-routing', template: 'number-direct-routing', description: 'Direct Routing: type the number in.', card: numberDirectRoutingCard(supportFr, skus, locale) },
    {
      name: 'number-direct-routing-error',
      template: 'number-direct-routing',
      description: 'Direct Routing number refused, typed value kept.',
      card: numberDirectRoutingCard(supportFr, skus, locale, '0170000100', describeNumberRefusal(refuse('NUMBER_INVALID_FORMAT', { value: '0170000100' }, 'telephoneNumber'), locale)),
    },
    { name: 'number-not-ready-unlicensed', template: 'number-not-ready', description: 'Unlicensed account: license it first (free seats counted; Assign license).', card: numberNotReadyCard(paris, factsOf(state), unlicensed, locale) },
    {
      name: 'number-not-ready-no-location',
      template: 'number-not-ready',
      description: "No usage location yet: Assign license sets the tenant's country first, or the admin center for another.",
      card: numberNotReadyCard(helpdesk, factsOf(state), noLocation, locale),
    },
    {
      name: 'number-not-ready-no-seat',
      template: 'number-not-ready',
      description: 'Unlicensed, and no free seat: how to get one, and no Assign license.',
      card: numberNotReadyCard(paris, { ...factsOf(state), skus: skus.map((k) => (k.kind === 'resourceAccount' ? { ...k, consumed: k.enabled } : k)) }, unlicensed, locale),
    },
    {
      name: 'number-not-ready-broken',
      template: 'number-not-ready',
      description: 'Broken account: only a new account helps (Add account).',
      card: numberNotReadyCard(broken, { skus }, refuse('ACCOUNT_BROKEN', { upn: broken.userPrincipalName }), locale),
    },
    { name: 'number-already-assigned', template: 'number-already-assigned', description: 'The account already has a number: offers to unassign it.', card: numberAlreadyAssignedCard(mainLine, skus, hasNumber, locale) },
  ];
}

function histories(state: TenantState, locale: Locale): CatalogueEntry[] {
  const admin = PERSON.admin;
  const approver = PERSON.approver;
  const billing = `cq-billing@${DEMO.domains.custom}`;
  const supportFr = account(state, 'supportFr').userPrincipalName;
  const paris = account(state, 'paris').userPrincipalName;
  // What the services record (src/provisioning/runner.ts, src/approvals/service.ts, src/bot/SwitchboardBot.ts), oldest first.
  const rows: Omit<AuditEntry, 'id' | 'at'>[] = [
    { actor: admin, action: 'account.create', target: billing, outcome: 'refused', reason: 'UPN_IN_USE' },
    { actor: admin, action: 'plan.addAccount', target: billing, outcome: 'requested', requestId: 'p-add-billing' },
    { actor: admin, action: 'plan.confirm', target: billing, outcome: 'succeeded', requestId: 'p-add-billing' },
    { actor: admin, action: 'account.create', target: billing, outcome: 'succeeded', requestId: 'p-add-billing' },
    { actor: admin, action: 'account.setUsageLocation', target: billing, outcome: 'succeeded', requestId: 'p-add-billing' },
    { actor: admin, action: 'license.assign', target: billing, outcome: 'succeeded', requestId: 'p-add-billing' },
    { actor: admin, action: 'plan.addAccount', target: billing, outcome: 'succeeded', requestId: 'p-add-billing' },
    { actor: admin, action: 'plan.assignNumber', target: supportFr, outcome: 'requested', requestId: 'p-number-support-fr-2' },
    { actor: admin, action: 'plan.confirm', target: supportFr, outcome: 'succeeded', requestId: 'p-number-support-fr-2' },
    { actor: admin, action: 'license.provisioned', target: supportFr, outcome: 'succeeded', requestId: 'p-number-support-fr-2' },
    { actor: admin, action: 'number.assign', target: supportFr, outcome: 'failed', reason: 'TENANT_OPERATION_FAILED', requestId: 'p-number-support-fr-2' },
    { actor: admin, action: 'plan.retry', target: supportFr, outcome: 'succeeded', requestId: 'p-number-support-fr-2' },
    { actor: admin, action: 'number.assign', target: supportFr, outcome: 'succeeded', requestId: 'p-number-support-fr-2' },
    { actor: admin, action: 'plan.assignNumber', target: supportFr, outcome: 'succeeded', requestId: 'p-number-support-fr-2' },
    { actor: { aadObjectId: 'c3c3c3c3-0000-4000-8000-000000000003', name: 'Cy Colleague' }, action: 'confirmPlan', target: '-', outcome: 'refused', reason: 'NOT_ADMIN' },
    { actor: admin, action: 'plan.deleteAccount', target: paris, outcome: 'requested', requestId: 'p-delete-paris' },
    { actor: admin, action: 'request.created', target: paris, outcome: 'requested', requestId: 'p-delete-paris' },
    { actor: approver, action: 'request.rejected', target: paris, outcome: 'refused', requestId: 'p-delete-paris' },
    { actor: admin, action: 'plan.editAccount', target: account(state, 'mainLine').userPrincipalName, outcome: 'requested', requestId: 'p-edit-main' },
    { actor: admin, action: 'plan.confirm', target: account(state, 'mainLine').userPrincipalName, outcome: 'succeeded', requestId: 'p-edit-main' },
    { actor: admin, action: 'account.update', target: account(state, 'mainLine').userPrincipalName, outcome: 'succeeded', requestId: 'p-edit-main' },
    { actor: admin, action: 'plan.editAccount', target: account(state, 'mainLine').userPrincipalName, outcome: 'succeeded', requestId: 'p-edit-main' },
    { actor: admin, action: 'plan.switchLicense', target: account(state, 'reception').userPrincipalName, outcome: 'requested', requestId: 'p-switch-reception' },
  ];
  const all: AuditEntry[] = rows.map((row, i) => ({ id: `e0000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`, at: at(-7 * (rows.length - i)), ...row }));
  return [
    { name: 'history', template: 'history', description: 'The audit log, second page of 10, newest first (Newer / Older).', card: historyCard(historyPage(all, 10, HISTORY_PAGE_SIZE), locale, '') },
    { name: 'history-account', template: 'history', description: 'The history of one account.', card: historyCard(historyPage(all, 0, HISTORY_PAGE_SIZE, 'cq-support-fr'), locale, 'cq-support-fr') },
    { name: 'history-empty', template: 'history', description: 'Nothing recorded for that account.', card: historyCard(historyPage(all, 0, HISTORY_PAGE_SIZE, 'aa-tokyo'), locale, 'aa-tokyo') },
  ];
}

// ---------------------------------------------------------------------------------------------
// Bulk import (issue 12)

const IMPORT_LINK = { url: 'https://switchboard.contoso.com/exports/5f0c3a9e1b7d4c2a8e6f0b1d3c5a7e9f.csv', expires: '2026-03-02 09:40 UTC' };

/** A batch of `ready` rows (call queues, some with a number) and the refused rows given, as a preview would make it. */
function batchPlan(status: PlanStatus, ready: number, refused: RefusedRow[], concurrency = 4): Plan {
  const rows: BatchRow[] = Array.from({ length: ready }, (_, i) => {
    const aa = i % 5 === 0;
    const city = ['Boston', 'Dublin', 'Lyon', 'Madrid', 'Oslo'][i % 5]!;
    return {
      line: i + 2,
      displayName: `${city} ${aa ? 'office' : 'front desk'} ${Math.floor(i / 5) + 1}`,
      userPrincipalName: `${aa ? 'aa' : 'cq'}-${city.toLowerCase()}-${Math.floor(i / 5) + 1}@${DEMO.domains.custom}`,
      accountType: aa ? 'autoAttendant' : 'callQueue',
      usageLocation: city === 'Lyon' ? 'FR' : 'US',
      license: i % 10 === 3 ? null : 'resourceAccount',
      ...(i === 0 ? { numberType: 'callingPlan' as const, telephoneNumber: DEMO.numbers.usPool[0] } : {}),
    };
  });
  return {
    ...makePlan('p-import-3f2a9c1b', 'importAccounts', status, { upn: 'import-3f2a9c1b', displayName: 'import-3f2a9c1b' }, []),
    batch: { source: 'file', fileName: 'resource-accounts-march.csv', total: ready + refused.length, rows, refused, concurrency },
  };
}

/** How the rows stand: the first `done` done, then `failed` failed (with a reason each), then `waiting`, then `running`. */
function batchProgressOf(plan: Plan, done: number, failed: Refusal[], waiting = 0, running = 0): BatchProgress {
  const rows = plan.batch!.rows;
  const children = rows.map((row, i): Plan | undefined => {
    const status: PlanStatus | undefined =
      i < done ? 'done' : i < done + failed.length ? 'failed' : i < done + failed.length + waiting ? 'waiting' : i < done + failed.length + waiting + running ? 'running' : undefined;
    if (!status) return undefined;
    const failure = failed[i - done];
    const steps: [Step, StepState][] = [[{ kind: 'createAccount', userPrincipalName: row.userPrincipalName, displayName: row.displayName, accountType: row.accountType }, status === 'failed' && failure ? { status: 'failed', note: note(failure) } : { status: status === 'done' ? 'done' : 'pending' }]];
    return { ...makePlan(`${plan.id}:${i}`, 'addAccount', status, { upn: row.userPrincipalName, displayName: row.displayName }, steps), parentId: plan.id };
  });
  const count = (s: PlanStatus) => children.filter((c) => c?.status === s).length;
  return { count: rows.length, done: count('done'), failed: count('failed'), waiting: count('waiting'), running: count('running'), notStarted: children.filter((c) => !c).length, children, versions: 0 };
}

function imports(state: TenantState, locale: Locale): CatalogueEntry[] {
  const facts = factsOf(state);
  const cell = (values: string[]): string[] => values;
  const refusedRow = (line: number, values: string[], refusal: Refusal): RefusedRow => ({ line, cells: cell(values), reasons: [note(refusal)!] });
  const ps = state.skus.find((x) => x.kind === 'phoneSystem')!;
  const refused: RefusedRow[] = [
    refusedRow(22, ['Tokyo office', 'aa-tokyo', 'fabrikam.com', 'autoAttendant', 'JP', 'resourceAccount', '', ''], refuse('UPN_DOMAIN_NOT_VERIFIED', { domain: 'fabrikam.com' }, 'domain')),
    refusedRow(23, ['Main line', 'aa-main', DEMO.domains.custom, 'autoAttendant', 'US', 'resourceAccount', '', ''], refuse('UPN_IN_USE', { upn: DEMO.accounts.mainLine.upn }, 'username')),
    refusedRow(24, ['Oslo desk', 'cq-oslo-2', DEMO.domains.custom, 'callQueue', 'NO', 'resourceAccount', '', ''], refuse('IMPORT_DUPLICATE_USERNAME', { upn: `cq-oslo-2@${DEMO.domains.custom}`, lines: '11, 24' }, 'username')),
    refusedRow(25, ['Reception 2', 'aa-reception-2', DEMO.domains.custom, 'autoAttendant', 'US', 'phoneSystem', '', ''], refuse('LICENSE_NO_FREE_SEAT', { sku: ps.skuPartNumber, enabled: ps.enabled, free: 0 }, 'license')),
    refusedRow(26, ['Lyon desk 9', 'cq-lyon-9', DEMO.domains.custom, 'callQueue', 'FR', 'resourceAccount', 'callingPlan', DEMO.numbers.usPool[1]!], refuse('NUMBER_COUNTRY_MISMATCH', { number: DEMO.numbers.usPool[1]!, numberCountry: 'US', upn: `cq-lyon-9@${DEMO.domains.custom}`, usageLocation: 'FR' }, 'telephoneNumber')),
    refusedRow(27, ['Boston desk 40', 'cq-boston-40', DEMO.domains.custom, 'callQueue', 'US', 'resourceAccount', '', ''], refuse('IMPORT_NO_SEAT_LEFT', { sku: DEMO.skus.resourceAccount.skuPartNumber, free: 20, needed: 21 }, 'license')),
  ];
  const preview = batchPlan('awaitingConfirmation', 20, refused);
  const allRefused = batchPlan('awaitingConfirmation', 0, refused.slice(0, 3));
  const pendingRequest = request(preview, 'pending');
  const approval: ApprovalState = {
    line: approvalStatusLine(pendingRequest, preview, locale),
    tone: 'warning',
    endedPlan: false,
    pending: true,
    requestId: pendingRequest.id,
    note: format(strings(locale).approval.sentTo, { names: APPROVER.name }),
  };
  const running = batchPlan('running', 20, refused);
  const waiting = batchPlan('waiting', 20, refused);
  const failedPlan = batchPlan('failed', 20, refused);
  const doneBatch = batchPlan('done', 20, refused);
  const failures = [
    refuse('LICENSE_NO_FREE_SEAT', { sku: DEMO.skus.resourceAccount.skuPartNumber, enabled: 25, free: 0 }, 'license'),
    refuse('TENANT_UNAVAILABLE', { upn: `cq-dublin-4@${DEMO.domains.custom}`, detail: 'HTTP 429' }),
  ];
  const view = (plan: Plan, progress: BatchProgress, extra: Partial<Parameters<typeof importBatchCard>[0]> = {}) => importBatchCard({ plan, progress, facts, locale, ...extra });
  // The largest batch card: 500 rows, every one refused with long values and reasons, then as many failures.
  const longName = 'Very long display name for a branch office front desk that somebody typed in full '.repeat(2).trim();
  const worst = batchPlan('failed', 250, Array.from({ length: 250 }, (_, i) => refusedRow(252 + i, [longName, `cq-${'x'.repeat(60)}`, 'fabrikam.com', 'callQueue', 'US', 'resourceAccount', '', ''], refuse('UPN_LOCAL_PART_TOO_LONG', { max: 64, length: 66 }, 'username'))));
  const worstFailures = Array.from({ length: 250 }, () => refuse('TENANT_OPERATION_FAILED', { upn: `cq-${'x'.repeat(60)}@contoso.com`, detail: 'The tenant says something long about why this account could not be created. '.repeat(3) }));
  const importRequest = request(preview, 'pending');
  return [
    { name: 'import-form', template: 'import-form', description: '"import": paste CSV, or send the file in the chat; columns and limits stated.', card: importFormCard(locale) },
    {
      name: 'import-form-refused',
      template: 'import-form',
      description: 'Pasted CSV refused as a whole (a column missing): the reason, the text kept.',
      card: importFormCard(locale, { problem: describeImportProblem({ problem: 'missingColumns', columns: 'usageLocation, license' }, locale), csv: 'displayName,username,domain,type\nNight line,aa-night,contoso.com,autoAttendant' }),
    },
    { name: 'import-form-template', template: 'import-form', description: 'After "Download template": a one-time link to the template CSV.', card: importFormCard(locale, { download: IMPORT_LINK }) },
    { name: 'import-batch-preview', template: 'import-batch', description: 'Preview of a 26-row file: 20 ready, 6 refused with their reasons (Confirm import / Download rows not imported / Cancel).', card: view(preview, batchProgressOf(preview, 0, [])) },
    { name: 'import-batch-all-refused', template: 'import-batch', description: 'Preview where every row was refused: no Confirm.', card: view(allRefused, batchProgressOf(allRefused, 0, [])) },
    { name: 'import-batch-awaiting-approval', template: 'import-batch', description: 'Confirmed; one approval for the whole batch is pending (Refresh / Cancel request).', card: view(preview, batchProgressOf(preview, 0, []), { approval }) },
    { name: 'import-batch-running', template: 'import-batch', description: 'Running: 12 of 20 rows done, 4 at a time; updated in place.', card: view(running, batchProgressOf(running, 12, [], 0, 4)) },
    { name: 'import-batch-waiting', template: 'import-batch', description: 'Rows waiting for license provisioning; it carries on by itself.', card: view(waiting, batchProgressOf(waiting, 18, [], 2)) },
    { name: 'import-batch-failed', template: 'import-batch', description: 'Stopped with 2 failed rows (seats gone, throttled): Retry failed rows.', card: view(failedPlan, batchProgressOf(failedPlan, 18, failures)) },
    { name: 'import-batch-download', template: 'import-batch', description: 'After "Download rows not imported": the one-time link under the card.', card: view(failedPlan, batchProgressOf(failedPlan, 18, failures), { download: IMPORT_LINK }) },
    { name: 'import-batch-done', template: 'import-batch', description: 'Done: every ready row created; the refused rows still downloadable.', card: view(doneBatch, batchProgressOf(doneBatch, 20, [])) },
    { name: 'import-batch-largest', template: 'import-batch', description: 'The largest a batch card gets: 500 rows, 250 refused and 250 failed, long values; 10 listed.', card: view(worst, batchProgressOf(worst, 0, worstFailures)) },
    { name: 'approval-request-import', template: 'approval-request', description: 'One approval for a whole import batch, as an approver sees it: what approving it does.', card: approvalRequestCard(importRequest, preview, 'approver', locale, [ADMIN.aadObjectId]) },
  ];
}

/** Builds every catalogue card afresh in one language (renderers return new objects, so callers may mutate them). */
export function buildCatalogue(locale: Locale = 'en'): CatalogueEntry[] {
  const state = tenant();
  return [
    ...addAccountForms(state, locale),
    ...accountDetails(state, locale),
    ...accountLists(locale),
    ...plans(state, locale),
    ...approvals(state, locale),
    ...associateForms(state, locale),
    ...editForms(state, locale),
    ...numberCards(state, locale),
    ...helps(locale),
    ...messages(state, locale),
    ...histories(state, locale),
    ...imports(state, locale),
    ...doctorReports(state, locale),
  ];
}

function doctorReports(state: TenantState, locale: Locale): CatalogueEntry[] {
  const diagnosis = diagnose(scanOf(state), factsOf(state));
  const healthy = diagnose({ accounts: [], numbers: [], voiceApplications: [], usersWithResourceAccountLicense: [] }, factsOf(state));
  const gone = describeRefusal(refuse('DOCTOR_FINDING_GONE'), locale);
  return [
    { name: 'doctor-report', template: 'doctor-report', description: '"doctor" on the demo tenant: first page, errors first, each with its fix.', card: doctorReportCard(diagnosis, locale, { offset: 0, canChange: true }) },
    { name: 'doctor-report-last-page', template: 'doctor-report', description: 'Its last page: unused accounts (Delete it / Use with AA / CQ), the count of what came before.', card: doctorReportCard(diagnosis, locale, { offset: 16, canChange: true }) },
    { name: 'doctor-report-approver', template: 'doctor-report', description: 'Page 2 as an approver sees it: no fix buttons; the license on a user says what to do instead.', card: doctorReportCard(diagnosis, locale, { offset: 8, canChange: false }) },
    { name: 'doctor-report-notice', template: 'doctor-report', description: 'A Fix clicked after the problem was gone: the report again, saying so.', card: doctorReportCard(diagnosis, locale, { offset: 0, canChange: true, notice: gone }) },
    { name: 'doctor-report-healthy', template: 'doctor-report', description: 'A tenant with nothing to fix.', card: doctorReportCard(healthy, locale, { offset: 0, canChange: true }) },
  ];
}

/** The catalogue as a list of {name, card}, in English: what the gallery renders. */
export const catalogue: readonly CatalogueEntry[] = buildCatalogue('en');
