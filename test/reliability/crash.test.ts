import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { SimulatedTenant } from '../../src/backends/simulated/tenant';
import { AuditLog } from '../../src/store/audit';
import { LowdbWorkflowStore } from '../../src/store/lowdbWorkflow';
import { execute, message } from '../helpers/activities';
import { tempDir } from '../helpers/app';
import { ensureBuilt, startBot, type BotProcess } from '../helpers/botProcess';
import { cardTexts } from '../helpers/conversation';
import { captureServer, post } from '../helpers/connector';
import { ADMIN, APPROVER, TENANT } from '../helpers/identities';
import { seeded } from '../helpers/random';

/**
 * Crash consistency (issue 9): the bot runs as a child process; adds, deletes and approvals are
 * clicked over real HTTP by a few users at once, and the process is killed with SIGKILL at random
 * moments (seeded). What the bot acknowledged is written down; after each restart, and at the end,
 * the stores on disk must hold every acknowledged change, no account may be half made, and every
 * plan and request must be finished or resumable — nothing stuck.
 *
 * CRASH_LIVES (default 6) sets how many times the bot is killed; CRASH_SEED the seed.
 */
const LIVES = Number(process.env.CRASH_LIVES ?? 6);
const SEED = Number(process.env.CRASH_SEED ?? 20261130);

interface Ledger {
  /** Accounts whose creation the bot answered as done (the account card). */
  created: Map<string, string>;
  /** Add plans the bot answered as running: they must end done. */
  addPlans: Set<string>;
  /** Deletions an approver saw approved: they must end done, the account gone. */
  approvedDeletes: Map<string, string>;
  /** Requests the bot answered as sent for approval: approvers must get the card. */
  requested: Set<string>;
  /** Accounts an approve click was sent for: they may be gone even if the answer never came. */
  deleteAsked: Set<string>;
}

type Card = Record<string, unknown>;
const idOn = (card: unknown, key: string): string | undefined => new RegExp(`"${key}":"([0-9a-f-]{36})"`).exec(JSON.stringify(card))?.[1];

describe('kill -9 at random moments: nothing acknowledged is lost, nothing is stuck', () => {
  jest.setTimeout(240_000);
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let connector: Awaited<ReturnType<typeof captureServer>>;
  let bot: BotProcess | undefined;

  beforeAll(async () => {
    await ensureBuilt();
  });

  beforeEach(async () => {
    dir = await tempDir('switchboard-crash-');
    connector = await captureServer();
  });

  afterEach(async () => {
    await bot?.kill9().catch(() => undefined);
    await connector.close();
    await dir.remove();
  });

  const env = () => ({
    SWITCHBOARD_DATA_DIR: dir.dir,
    SWITCHBOARD_TENANT_ID: TENANT,
    SWITCHBOARD_ADMIN_IDS: ADMIN.aadObjectId,
    SWITCHBOARD_APPROVER_IDS: APPROVER.aadObjectId,
    SWITCHBOARD_PLAN_POLL_MS: '20',
    SWITCHBOARD_SIM_NUMBER_DELAY_MS: '50',
    SWITCHBOARD_SIM_LICENSE_DELAY_MS: '30',
  });

  async function invoke(url: string, verb: string, data: Record<string, unknown>, from = ADMIN): Promise<Card | undefined> {
    const response = await post(`${url}/api/messages`, execute(verb, data, { from, serviceUrl: connector.url }));
    if (response.status !== 200) throw new Error(`HTTP ${response.status} for ${verb}`);
    return (response.body as { value?: Card }).value;
  }

  /** One user's work: add an account, or delete one that exists, with the approver's click. */
  async function work(url: string, random: () => number, ledger: Ledger, life: number, n: number): Promise<void> {
    const existing = [...ledger.created.entries()].filter(([upn]) => ![...ledger.approvedDeletes.values()].includes(upn));
    if (existing.length > 0 && random() < 0.4) {
      const [upn, accountId] = existing[Math.floor(random() * existing.length)]!;
      const proposed = await invoke(url, 'requestDelete', { accountId });
      const planId = proposed && idOn(proposed, 'planId');
      if (!planId) return;
      const confirmed = await invoke(url, 'confirmPlan', { planId });
      if (confirmed && cardTexts(confirmed).some((t) => /Waiting for an approver|Sent for approval/.test(t))) ledger.requested.add(planId);
      ledger.deleteAsked.add(upn);
      const approved = await invoke(url, 'approveRequest', { requestId: planId }, APPROVER);
      if (approved && /^Approved by /.test(cardTexts(approved)[1] ?? '')) ledger.approvedDeletes.set(planId, upn);
      return;
    }
    const username = `crash-${life}-${n}`;
    const card = await invoke(url, 'addAccount', { displayName: `Crash ${life} ${n}`, username, domain: 'contoso.com', accountType: n % 2 ? 'callQueue' : 'autoAttendant', usageLocation: 'US', license: 'resourceAccount' });
    if (!card) return;
    const texts = cardTexts(card);
    const upn = `${username}@contoso.com`;
    if (texts.includes(`Username: ${upn}`) && idOn(card, 'accountId')) ledger.created.set(upn, idOn(card, 'accountId')!);
    else if (idOn(card, 'planId')) ledger.addPlans.add(idOn(card, 'planId')!);
  }

  it('keeps every acknowledged add, delete and approval across many crashes', async () => {
    const random = seeded(SEED);
    const ledger: Ledger = { created: new Map(), addPlans: new Set(), approvedDeletes: new Map(), requested: new Set(), deleteAsked: new Set() };
    for (let life = 0; life < LIVES; life++) {
      bot = await startBot(env());
      const url = bot.url;
      // The approver has talked to the bot, so that approval cards can reach them.
      if (life === 0) await post(`${url}/api/messages`, message('help', { from: APPROVER, serviceUrl: connector.url }));
      const killAt = 200 + Math.floor(random() * 1_800);
      let n = 0;
      const users = Array.from({ length: 3 }, async () => {
        while (true) {
          n += 1;
          try {
            await work(url, random, ledger, life, n);
          } catch {
            return; // the bot is gone: what was not answered was not acknowledged
          }
        }
      });
      await new Promise((r) => setTimeout(r, killAt));
      await bot.kill9();
      await Promise.all(users);
    }

    // The last life: the bot finishes what is resumable, then stops cleanly.
    bot = await startBot(env());
    const last = bot;
    await settle(dir.dir);
    expect(await last.stop()).toBe('0');
    bot = undefined;

    const workflow = await LowdbWorkflowStore.open(path.join(dir.dir, 'workflow.json'), { audit: new AuditLog(path.join(dir.dir, 'audit.jsonl')) });
    const tenant = await SimulatedTenant.open({ file: path.join(dir.dir, 'tenant.json'), tenantId: TENANT });
    try {
      const deleted = new Set(ledger.approvedDeletes.values());
      for (const [upn, accountId] of ledger.created) {
        const account = await tenant.getAccount(accountId);
        if (deleted.has(upn)) continue;
        // An approval sent just before a kill may have run without its answer reaching the user.
        if (!account && ledger.deleteAsked.has(upn)) continue;
        // Acknowledged as created: there, and whole (usage location and license, not half made).
        expect({ upn, account: account && { usageLocation: account.usageLocation, licensed: account.assignedLicenses.length } }).toEqual({ upn, account: { usageLocation: 'US', licensed: 1 } });
      }
      for (const planId of ledger.addPlans) {
        const plan = await workflow.plan(planId);
        // Done, or parked at a step with its reason and Retry (e.g. the tenant's seats ran out): never
        // left running, never failed without saying why.
        const stopped = plan?.steps.find((x) => x.state.status !== 'done');
        const outcome = plan?.status === 'done' ? 'done' : plan?.status === 'failed' && stopped?.state.note ? `parked: ${stopped.state.note.reason}` : `stuck: ${plan?.status}`;
        expect({ planId, outcome }).toEqual({ planId, outcome: expect.stringMatching(/^(done|parked: (LICENSE_NO_FREE_SEAT|UPN_IN_USE))$/) });
        const account = await tenant.findAccountByUpn(plan!.account.userPrincipalName);
        if (account && plan?.status === 'done') expect(account.assignedLicenses).toHaveLength(1);
      }
      for (const [planId, upn] of ledger.approvedDeletes) {
        const [plan, request] = await Promise.all([workflow.plan(planId), workflow.request(planId)]);
        expect({ planId, plan: plan?.status, request: request?.status }).toEqual({ planId, plan: 'done', request: 'done' });
        expect(await tenant.findAccountByUpn(upn)).toBeNull();
      }
      // Approvers heard of every request the bot said it sent.
      const posted = JSON.stringify(connector.posts.map((p) => p.body));
      for (const planId of ledger.requested) expect({ planId, delivered: posted.includes(`"requestId":"${planId}"`) }).toEqual({ planId, delivered: true });
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
      // The tenant agrees with itself: numbers and their accounts, seats and the licenses held.
      await expectConsistentTenant(tenant, dir.dir);
    } finally {
      await Promise.all([workflow.close(), tenant.close()]);
    }
    // The run did real work: some of everything was acknowledged before the kills.
    expect({ created: ledger.created.size + ledger.addPlans.size > 0, approved: ledger.approvedDeletes.size + ledger.requested.size > 0 }).toEqual({ created: true, approved: true });
  });

  it('an import batch killed mid-run resumes: every row ends created once, nothing stuck (issue 12)', async () => {
    const random = seeded(SEED + 12);
    const ROWS = 150;
    const rows = Array.from({ length: ROWS }, (_, i) => `Crash import ${i},cq-crash-import-${i},contoso.com,callQueue,US,none`);
    const csv = ['displayName,username,domain,type,usageLocation,license', ...rows].join('\n');
    const importEnv = { ...env(), SWITCHBOARD_IMPORT_CONCURRENCY: '1' };
    bot = await startBot(importEnv);
    const preview = await invoke(bot.url, 'previewImport', { csv });
    const planId = preview && idOn(preview, 'planId');
    expect(cardTexts(preview)[1]).toMatch(new RegExp(`^${ROWS} of ${ROWS} rows are ready`));
    await invoke(bot.url, 'confirmPlan', { planId: planId! });
    // Killed while rows run, twice (once a few rows are done, then once a few more are, plus a random
    // moment); each restart carries on from the files. The audit log is append-only: safe to read meanwhile.
    const createdSoFar = async () =>
      (await readFile(path.join(dir.dir, 'audit.jsonl'), 'utf8').catch(() => '')).split('\n').filter((l) => l.includes('"account.create"') && l.includes('cq-crash-import-')).length;
    let threshold = 5;
    for (let life = 0; life < 2; life++) {
      const deadline = Date.now() + 60_000;
      while ((await createdSoFar()) < threshold && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, Math.floor(random() * 50)));
      await bot.kill9();
      const killedAt = await createdSoFar();
      expect(killedAt).toBeLessThan(ROWS);
      threshold = killedAt + 5;
      bot = await startBot(importEnv);
    }
    const last = bot;
    await settle(dir.dir);
    expect(await last.stop()).toBe('0');
    bot = undefined;

    const workflow = await LowdbWorkflowStore.open(path.join(dir.dir, 'workflow.json'), { audit: new AuditLog(path.join(dir.dir, 'audit.jsonl')) });
    const tenant = await SimulatedTenant.open({ file: path.join(dir.dir, 'tenant.json'), tenantId: TENANT });
    try {
      expect((await workflow.plan(planId!))?.status).toBe('done');
      expect((await workflow.plans(['running', 'waiting'])).map((p) => p.id)).toEqual([]);
      const accounts = (await tenant.listAccounts({ offset: 0, limit: 10_000, text: 'cq-crash-import-' })).items;
      expect(accounts.map((a) => a.userPrincipalName).sort()).toEqual(rows.map((_, i) => `cq-crash-import-${i}@contoso.com`).sort());
      expect(accounts).toHaveLength(ROWS);
      for (const account of accounts) expect({ upn: account.userPrincipalName, usageLocation: account.usageLocation }).toEqual({ upn: account.userPrincipalName, usageLocation: 'US' });
      // Each creation is in the audit log once: a row found done after a kill is recorded as such, not twice.
      const audit = (await readFile(path.join(dir.dir, 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { action: string; target: string; outcome: string });
      const creations = audit.filter((e) => e.action === 'account.create' && e.outcome === 'succeeded' && e.target.startsWith('cq-crash-import-'));
      expect(creations).toHaveLength(ROWS);
      expect(new Set(creations.map((e) => e.target)).size).toBe(ROWS);
      await expectConsistentTenant(tenant, dir.dir);
    } finally {
      await Promise.all([workflow.close(), tenant.close()]);
    }
  });
});

/** Waits until the bot has nothing running or waiting and nothing to deliver (read from its files). */
async function settle(dataDir: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const text = await readFile(path.join(dataDir, 'workflow.json'), 'utf8').catch(() => '{}');
    const doc = JSON.parse(text) as { plans?: Record<string, { status: string }>; outbox?: Record<string, { status: string }> };
    const busy = Object.values(doc.plans ?? {}).some((p) => p.status === 'running' || p.status === 'waiting') || Object.values(doc.outbox ?? {}).some((m) => m.status === 'pending');
    if (!busy || Date.now() > deadline) return;
  }
}

async function expectConsistentTenant(tenant: SimulatedTenant, dataDir: string): Promise<void> {
  const facts = await tenant.getTenantFacts();
  const accounts = (await tenant.listAccounts({ offset: 0, limit: 10_000 })).items;
  for (const account of accounts) {
    if (!account.phoneNumber) continue;
    const number = await tenant.getPhoneNumber(account.phoneNumber);
    expect({ account: account.userPrincipalName, heldBy: number?.assignmentTargetId }).toEqual({ account: account.userPrincipalName, heldBy: account.id });
  }
  // Seats consumed by the simulation's accounts: the seed's holders outside it are constant.
  const seed = await SimulatedTenant.open({ file: path.join(dataDir, 'seed-check', 'tenant.json'), tenantId: facts.tenantId });
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
