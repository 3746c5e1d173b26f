import path from 'node:path';
import { SimulatedTenant } from '../../src/backends/simulated/tenant';
import type { WorkflowStore } from '../../src/store/workflow';
import { execute, type Who } from '../helpers/activities';
import { post } from '../helpers/connector';
import { cardTexts } from '../helpers/conversation';
import { ADMIN, APPROVER } from '../helpers/identities';

/**
 * The work and the checks of the kill -9 tests (crash.test.ts on files, crash-postgres.test.ts on
 * PostgreSQL with two instances): users add accounts and delete them with an approver's click, over
 * real HTTP; what the bot acknowledged is written down in a ledger, and after the last life the stores
 * must hold all of it, with nothing half made and nothing stuck.
 */
export interface Ledger {
  /** Accounts whose creation the bot answered as done (the account card). */
  created: Map<string, string>;
  /** Add plans the bot answered as running: they must end done. */
  addPlans: Set<string>;
  /** Deletions an approver saw approved: they must end done, the account gone. */
  approvedDeletes: Map<string, string>;
  /** Requests the bot answered as sent for approval ("Sent for approval to …"): approvers must get the card. */
  requested: Set<string>;
  /**
   * Requests the bot answered as waiting for an approver, sent or not yet: one still undecided at the
   * end must have reached the approver. One approved before its card went out needs no card (the
   * delivery drops it: nothing to ask any more).
   */
  waiting: Set<string>;
  /** Accounts an approve click was sent for: they may be gone even if the answer never came. */
  deleteAsked: Set<string>;
  /** Accounts whose add was answered "nothing was done" (the store was unavailable): they must not exist. */
  addNotDone: Set<string>;
  /** Requests whose approval was answered "nothing was done": they must not have been approved. */
  approvalNotDone: Set<string>;
}

/** The fault card's words when a turn got nothing committed (src/i18n/en.ts errors.storeUnavailable). */
const NOTHING_DONE = /so nothing was done and the tenant was not changed/;

export function newLedger(): Ledger {
  return { created: new Map(), addPlans: new Set(), approvedDeletes: new Map(), requested: new Set(), waiting: new Set(), deleteAsked: new Set(), addNotDone: new Set(), approvalNotDone: new Set() };
}

type Card = Record<string, unknown>;
export const idOn = (card: unknown, key: string): string | undefined => new RegExp(`"${key}":"([0-9a-f-]{36})"`).exec(JSON.stringify(card))?.[1];

/** An Action.Execute click on the bot at `url`: the card it answered with; a connection that broke throws. */
export async function invoke(url: string, serviceUrl: string, verb: string, data: Record<string, unknown>, from: Who = ADMIN): Promise<Card | undefined> {
  // A click that hangs fails here, saying so, not as the test's own time-out.
  const response = await Promise.race([
    post(`${url}/api/messages`, execute(verb, data, { from, serviceUrl })),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer to ${verb} from ${url} within 30 s`)), 30_000).unref()),
  ]);
  if (response.status !== 200) throw new Error(`HTTP ${response.status} for ${verb}`);
  return (response.body as { value?: Card }).value;
}

/**
 * One user's step: add an account, or delete one that exists, with the approver's click. `at` says
 * which bot each click goes to (the same one, or any of several instances).
 */
/** What a step got acknowledged (an add's plan still running, with its id). */
export type Acknowledged = { kind: 'created' } | { kind: 'addPlan'; planId: string } | { kind: 'approved' };

export async function work(at: () => string, serviceUrl: string, random: () => number, ledger: Ledger, life: number, n: number): Promise<Acknowledged | undefined> {
  const existing = [...ledger.created.entries()].filter(([upn]) => ![...ledger.approvedDeletes.values()].includes(upn));
  if (existing.length > 0 && random() < 0.4) {
    const [upn, accountId] = existing[Math.floor(random() * existing.length)]!;
    const proposed = await invoke(at(), serviceUrl, 'requestDelete', { accountId });
    const planId = proposed && idOn(proposed, 'planId');
    if (!planId) return undefined;
    const confirmed = await invoke(at(), serviceUrl, 'confirmPlan', { planId });
    // "Waiting for an approver" alone is not "sent": the Confirm waits at most 1 s for the cards to go
    // out, and the approval below may come first (seen in CI under load).
    if (confirmed && cardTexts(confirmed).some((t) => /Sent for approval/.test(t))) ledger.requested.add(planId);
    if (confirmed && cardTexts(confirmed).some((t) => /Waiting for an approver/.test(t))) ledger.waiting.add(planId);
    ledger.deleteAsked.add(upn);
    const approved = await invoke(at(), serviceUrl, 'approveRequest', { requestId: planId }, APPROVER);
    if (approved && /^Approved by /.test(cardTexts(approved)[1] ?? '')) {
      ledger.approvedDeletes.set(planId, upn);
      return { kind: 'approved' };
    }
    if (approved && cardTexts(approved).some((t) => NOTHING_DONE.test(t))) ledger.approvalNotDone.add(planId);
    return undefined;
  }
  const username = `crash-${life}-${n}`;
  const card = await invoke(at(), serviceUrl, 'addAccount', {
    displayName: `Crash ${life} ${n}`,
    username,
    domain: 'contoso.com',
    accountType: n % 2 ? 'callQueue' : 'autoAttendant',
    usageLocation: 'US',
    license: 'resourceAccount',
  });
  if (!card) return undefined;
  const texts = cardTexts(card);
  const upn = `${username}@contoso.com`;
  // A plan card (it names its plan: still running, waiting for the licence, or parked) before the
  // account card of a finished add (which names no plan), though both may show the username.
  const planId = idOn(card, 'planId');
  if (planId) {
    ledger.addPlans.add(planId);
    return { kind: 'addPlan', planId };
  }
  if (texts.includes(`Username: ${upn}`) && idOn(card, 'accountId')) {
    ledger.created.set(upn, idOn(card, 'accountId')!);
    return { kind: 'created' };
  }
  if (texts.some((t) => NOTHING_DONE.test(t))) ledger.addNotDone.add(upn);
  return undefined;
}

/**
 * Every acknowledged change is in the stores, whole; every plan and request is finished or parked
 * with its reason; approvers got every request the bot said it sent (`posted`: the connector's calls).
 */
export async function expectLedgerKept(ledger: Ledger, workflow: WorkflowStore, tenant: SimulatedTenant, posted: readonly { method: string; url: string; body: unknown }[]): Promise<void> {
  const plans = await workflow.plans();
  const deleted = new Set(ledger.approvedDeletes.values());
  for (const [upn, accountId] of ledger.created) {
    const account = await tenant.getAccount(accountId);
    if (deleted.has(upn)) continue;
    // An approval sent just before a kill may have run without its answer reaching the user: then its deletion is done.
    if (!account && ledger.deleteAsked.has(upn)) {
      const deletion = plans.find((p) => p.kind === 'deleteAccount' && p.account.userPrincipalName === upn && p.status === 'done');
      expect({ upn, deletedBy: deletion ? 'a done deletion' : 'nothing' }).toEqual({ upn, deletedBy: 'a done deletion' });
      continue;
    }
    // Acknowledged as created: there, and whole (usage location and license, not half made).
    expect({ upn, account: account && { usageLocation: account.usageLocation, licensed: account.assignedLicenses.length } }).toEqual({ upn, account: { usageLocation: 'US', licensed: 1 } });
  }
  // Every add answered with its plan still running is in the store; its outcome is checked with every plan's, below.
  for (const planId of ledger.addPlans) expect({ planId, stored: (await workflow.plan(planId)) !== undefined }).toEqual({ planId, stored: true });
  // Every plan, acknowledged or not (answers lost in a kill): an add starts at once and is finished
  // (its account whole) or parked for want of a seat (each username is tried once: UPN_IN_USE would be
  // a plan's own earlier attempt not recognised); a deletion is finished, or waits for a person
  // (confirmation, approval), or was cancelled. None stopped by a fault or a failed step of ours.
  const allowed: Record<string, RegExp> = { addAccount: /^(done|failed: LICENSE_NO_FREE_SEAT)$/, deleteAccount: /^(done|cancelled|awaitingConfirmation)$/ };
  for (const plan of plans) {
    const stopped = plan.steps.find((x) => x.state.status !== 'done');
    const outcome = plan.status === 'failed' ? `failed: ${stopped?.state.note?.reason ?? 'no reason'}` : plan.status;
    expect({ plan: plan.id, kind: plan.kind, outcome }).toEqual({ plan: plan.id, kind: plan.kind, outcome: expect.stringMatching(allowed[plan.kind] ?? /^$/) });
    if (plan.kind !== 'addAccount' || plan.status !== 'done') continue;
    const upn = plan.account.userPrincipalName;
    const account = await tenant.findAccountByUpn(upn);
    const state = account ? (account.usageLocation === 'US' && account.assignedLicenses.length === 1 ? 'whole' : 'half made') : 'missing';
    // Gone only if a deletion of it is done.
    const gone = !account && plans.some((p) => p.kind === 'deleteAccount' && p.account.userPrincipalName === upn && p.status === 'done');
    expect({ plan: plan.id, upn, account: gone ? 'deleted' : state }).toEqual({ plan: plan.id, upn, account: expect.stringMatching(/^(whole|deleted)$/) });
  }
  // Every account the run made is whole, or parked without its license for want of a seat: none half made by a plan whose answer was lost.
  for (const account of (await tenant.listAccounts({ offset: 0, limit: 10_000, text: 'crash-' })).items) {
    const upn = account.userPrincipalName;
    if (!/^crash-\d+-\d+@/.test(upn)) continue;
    const parked = plans.some((p) => p.account.userPrincipalName === upn && p.status === 'failed');
    const whole = account.usageLocation === 'US' && account.assignedLicenses.length === 1;
    expect({ upn, whole: whole || parked }).toEqual({ upn, whole: true });
  }
  for (const [planId, upn] of ledger.approvedDeletes) {
    const [plan, request] = await Promise.all([workflow.plan(planId), workflow.request(planId)]);
    expect({ planId, plan: plan?.status, request: request?.status }).toEqual({ planId, plan: 'done', request: 'done' });
    expect(await tenant.findAccountByUpn(upn)).toBeNull();
  }
  // "Nothing was done" was true: no such account, no approval (each username is tried once, each request approved once).
  for (const upn of ledger.addNotDone) expect({ upn, account: await tenant.findAccountByUpn(upn) }).toEqual({ upn, account: null });
  for (const planId of ledger.approvalNotDone) {
    const request = await workflow.request(planId);
    // None: its confirmation was not recorded either.
    expect({ planId, status: request?.status ?? 'none' }).toEqual({ planId, status: expect.stringMatching(/^(none|pending|rejected|cancelled|expired)$/) });
  }
  // Approvers heard of every request the bot said it sent: a new message in the approver's chat.
  const approverChat = `/v3/conversations/${encodeURIComponent(`a:personal-${APPROVER.id}`)}/activities`;
  const sent = JSON.stringify(posted.filter((p) => p.method === 'POST' && p.url.startsWith(approverChat)).map((p) => p.body));
  for (const planId of ledger.requested) expect({ planId, delivered: sent.includes(`"requestId":"${planId}"`) }).toEqual({ planId, delivered: true });
  for (const planId of ledger.waiting) {
    if ((await workflow.request(planId))?.status !== 'pending') continue;
    expect({ planId, pending: true, delivered: sent.includes(`"requestId":"${planId}"`) }).toEqual({ planId, pending: true, delivered: true });
  }
  // Nothing stuck: no plan left running or waiting, every request agrees with its plan.
  const stuck = (await workflow.plans(['running', 'waiting'])).map((p) => `${p.id} ${p.status}`);
  expect(stuck).toEqual([]);
  for (const request of await workflow.requests()) {
    const plan = await workflow.plan(request.id);
    const agree =
      (request.status === 'pending' && plan?.status === 'awaitingConfirmation') ||
      (['rejected', 'cancelled', 'expired'].includes(request.status) && plan?.status === 'cancelled') ||
      (request.status === 'done' && plan?.status === 'done') ||
      (request.status === 'failed' && (plan?.status === 'failed' || plan?.status === 'cancelled'));
    expect({ request: request.id, status: request.status, plan: plan?.status, agree }).toMatchObject({ agree: true });
  }
  // The run did real work: some of everything was acknowledged before the kills.
  expect({ created: ledger.created.size + ledger.addPlans.size > 0, approved: ledger.approvedDeletes.size + ledger.waiting.size > 0 }).toEqual({ created: true, approved: true });
}

/** The tenant agrees with itself: numbers and their accounts, seats and the licenses held (against a fresh seed made in `scratchDir`). */
export async function expectConsistentTenant(tenant: SimulatedTenant, scratchDir: string): Promise<void> {
  const facts = await tenant.getTenantFacts();
  const accounts = (await tenant.listAccounts({ offset: 0, limit: 10_000 })).items;
  for (const account of accounts) {
    if (!account.phoneNumber) continue;
    const number = await tenant.getPhoneNumber(account.phoneNumber);
    expect({ account: account.userPrincipalName, heldBy: number?.assignmentTargetId }).toEqual({ account: account.userPrincipalName, heldBy: account.id });
  }
  // Seats consumed by the simulation's accounts: the seed's holders outside it are constant.
  const seed = await SimulatedTenant.open({ file: path.join(scratchDir, 'seed-check', 'tenant.json'), tenantId: facts.tenantId });
  try {
    const seedFacts = await seed.getTenantFacts();
    const seedAccounts = (await seed.listAccounts({ offset: 0, limit: 10_000 })).items;
    for (const sku of facts.skus) {
      const holders = accounts.filter((a) => a.assignedLicenses.includes(sku.skuId)).length;
      const seedHolders = seedAccounts.filter((a) => a.assignedLicenses.includes(sku.skuId)).length;
      const seedSku = seedFacts.skus.find((s) => s.skuId === sku.skuId)!;
      expect({ sku: sku.skuPartNumber, consumed: sku.consumed - holders }).toEqual({ sku: sku.skuPartNumber, consumed: seedSku.consumed - seedHolders });
    }
  } finally {
    await seed.close();
  }
}
