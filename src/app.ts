import path from 'node:path';
import { SwitchboardAdapter } from './bot/adapter';
import { CardCopies } from './bot/cardCopies';
import { OutboxWorker } from './bot/delivery';
import { ReplyQueue } from './bot/replies';
import { Views } from './bot/planView';
import { MemberNames } from './bot/memberNames';
import { ApprovalService } from './approvals/service';
import { ExportLinks } from './audit/exports';
import { importExport } from './audit/importExports';
import { ImportService, IMPORT_LIMITS } from './provisioning/import';
import type { ContactStore } from './store/conversations';
import { SwitchboardBot } from './bot/SwitchboardBot';
import type { Config } from './config';
import { openMicrosoftDirectory } from './backends/microsoft';
import { createLogger, type Logger } from './log/logger';
import type { TenantDirectory } from './provisioning/directory';
import { PlanRunner } from './provisioning/runner';
import { ProvisioningService } from './provisioning/service';
import { postgresStorage, SimulatedTenant, type Slowness } from './backends/simulated/tenant';
import { loadCardTemplates } from './cards/render';
import { createServer, type RunningServer } from './server';
import type { AuditStore } from './store/audit';
import { noteCommits } from './store/commitLog';
import { openStores } from './store/open';
import type { Database } from './store/pg/database';
import type { WorkflowStore } from './store/workflow';

export interface AppOptions {
  log?: Logger;
  now?: () => Date;
  slowness?: Slowness;
  /** The environment the Microsoft 365 backend reads its own settings from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Wraps the tenant port (fault injection in tests). */
  wrapDirectory?: (directory: TenantDirectory) => TenantDirectory;
  /** How long a history download may make no progress before it is dropped (default 60 s). */
  exportIdleMs?: number;
  /** How many times a reply to a message is tried before it is dropped (default REPLY_ATTEMPTS, src/bot/replies.ts). */
  replyAttempts?: number;
  /** How long Teams has to name a member, and how long a failure is not asked again (src/bot/memberNames.ts). */
  memberNames?: { budgetMs?: number; retryMs?: number };
}

export interface App {
  config: Config;
  log: Logger;
  directory: TenantDirectory;
  audit: AuditStore;
  workflow: WorkflowStore;
  provisioning: ProvisioningService;
  imports: ImportService;
  plans: PlanRunner;
  approvals: ApprovalService;
  views: Views;
  copies: CardCopies;
  delivery: OutboxWorker;
  contacts: ContactStore;
  exports: ExportLinks;
  bot: SwitchboardBot;
  adapter: SwitchboardAdapter;
  start(): Promise<RunningServer>;
  /** Stops background work and flushes every store (after the last turn). */
  flush(): Promise<void>;
  /** Flushes and releases the store files (a later createApp on the same directory re-reads them). */
  close(): Promise<void>;
}

type Directory = TenantDirectory & { flush(): Promise<void>; close(): Promise<void> };

/**
 * The tenant port. The simulated tenant lives where the stores do: with PostgreSQL (`database`) every
 * instance shares the one tenant held in the database (issue 11), otherwise it is a file in the data
 * folder, which only this process opens.
 */
async function openDirectory(config: Config, options: AppOptions, log: Logger, database: Database | undefined, usedBefore: string | undefined): Promise<Directory> {
  if (config.backend === 'microsoft') {
    // Its own variables (SWITCHBOARD_M365_*) are parsed there; docs/microsoft-backend.md.
    return openMicrosoftDirectory(options.env ?? process.env, { log, ...(options.now ? { now: options.now } : {}) });
  }
  const where = database ? 'set aside in the table sim_quarantine' : 'moved to tenant.json.quarantine.jsonl';
  return SimulatedTenant.open({
    ...(database ? { storage: postgresStorage(database, { log }) } : { file: path.join(config.dataDir, 'tenant.json') }),
    tenantId: config.tenantId,
    ...(options.now ? { now: options.now } : {}),
    slowness: options.slowness ?? config.simulatedSlowness,
    // A bad stored record is moved aside and start-up goes on (issue 9 item 11): say so in the log.
    onQuarantine: (item) => log.warn({ quarantined: item }, `simulated tenant: a stored record was unusable; ${where}`),
    // Decided before the stores wrote their first files: an empty tenant.json is seeded on a first start only.
    ...(usedBefore ? { usedBefore } : {}),
  });
}

/** Composition root: config → stores → directory → services → bot → server. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger(config.logLevel);
  const stores = await openStores(config, { log, ...(options.now ? { now: options.now } : {}) });
  const { audit, contacts, exports } = stores;
  // Each turn learns what it got committed, so a store failure is reported truthfully (src/bot/SwitchboardBot.ts).
  const workflow = noteCommits(stores.workflow);
  let opened: Directory;
  try {
    opened = await openDirectory(config, options, log, stores.database, stores.usedBefore);
  } catch (error) {
    await stores.close();
    throw error;
  }
  const directory: TenantDirectory = options.wrapDirectory ? options.wrapDirectory(opened) : opened;
  const kinds = new Set(config.approvals.kinds);
  const plans = new PlanRunner(workflow, directory, {
    pollMs: config.planPollMs,
    stepTimeoutMs: config.stepTimeoutMs,
    leaseMs: config.planLeaseMs,
    needsApproval: (kind) => kinds.has(kind),
    exclusive: stores.exclusive,
    ...(options.now ? { now: options.now } : {}),
    onFault: (error, planId) => log.error({ err: error, planId }, 'plan step fault'),
    // An instance that stalled or lost its store: worth an operator's look, but the plan goes on elsewhere or later.
    onLeaseLost: ({ fault, ...event }) => log.warn({ ...event, ...(fault !== undefined ? { err: fault } : {}) }, "plan run stopped: its lease is no longer this instance's"),
    onStep: (event) => log.debug({ ...event }, 'plan step'),
  });
  const provisioning = new ProvisioningService(directory, audit, plans, config.hybrid);
  const imports = new ImportService(provisioning, plans, audit, { concurrency: config.importConcurrency });
  const approvals = new ApprovalService(
    workflow,
    plans,
    { kinds, expiresAfterMs: config.approvals.expiresAfterMs, approverIds: config.approverIds },
    {
      channel: config.approvals.channelId !== undefined,
      retentionMs: config.retentionMs,
      onFault: (error, what) => log.error({ err: error, what }, 'approval work failed'),
      onSweep: (round) => log.debug({ ...round }, 'approvals sweep'),
      ...(options.now ? { now: options.now } : {}),
    },
  );
  const adapter = new SwitchboardAdapter(config, log);
  const views = new Views({ provisioning, approvals }, contacts);
  const copies = new CardCopies(workflow, log, options.now);
  const replies = new ReplyQueue(workflow);
  const delivery = new OutboxWorker(adapter, workflow, { provisioning, approvals, views }, contacts, copies, {
    appId: config.bot.appId,
    channelId: config.approvals.channelId,
    log,
    callTimeoutMs: config.connectorTimeoutMs,
    replies,
    ...(options.replyAttempts ? { replyAttempts: options.replyAttempts } : {}),
  });
  workflow.onCommit(() => delivery.kick());
  if (config.publicUrl) exports.setBaseUrl(config.publicUrl);
  // Files sent in the chat: from a loopback address only in local mode, https otherwise (src/bot/importFile.ts).
  const downloads = { localMode: config.localMode, maxBytes: IMPORT_LIMITS.fileBytes, timeoutMs: 10_000 };
  const services = { provisioning, approvals, views, delivery, audit, exports, imports, downloads };
  const memberNames = new MemberNames(contacts, log, options.memberNames);
  /** Re-queues of held approval cards under way: a graceful stop lets them commit before the stores close. */
  const reaching = new Set<Promise<void>>();
  const bot = new SwitchboardBot({
    gate: { tenantId: config.tenantId, requireTeamsChannel: !config.localMode, adminIds: config.adminIds, approverIds: config.approverIds },
    services,
    audit,
    contacts,
    copies,
    replies,
    connectorTimeoutMs: config.connectorTimeoutMs,
    memberNames,
    onReachable: (aadObjectId) => {
      const work: Promise<void> = delivery
        .reachable(aadObjectId)
        .catch((error: unknown) => log.warn({ err: error }, 'could not retry deliveries'))
        .finally(() => reaching.delete(work));
      reaching.add(work);
    },
    log,
  });
  // Before anything runs: requests and plans that disagree are repaired, due requests expire, and
  // plans that were running or waiting carry on; the same checks run periodically.
  await approvals.reconcile();
  await approvals.expireDue();
  await plans.resumeAll();
  await delivery.reachableSinceLastRun().catch((error: unknown) => log.warn({ err: error }, 'could not retry deliveries to approvers reachable since the last run'));
  // A plan whose runner died (another instance, kill -9) is taken over by the first sweep after its
  // lease expired: sweeping every half lease (at most every 30 s) does that within 1.5 leases.
  plans.startSweeping(Math.min(30_000, Math.max(500, Math.floor(config.planLeaseMs / 2))));
  approvals.startSweeping(config.sweepMs);
  delivery.start();
  let stopped: Promise<void> | undefined;
  const flush = () =>
    (stopped ??= (async () => {
      approvals.stop();
      await memberNames.stop();
      await Promise.all([...reaching]);
      await plans.stop();
      await delivery.stop();
      await Promise.all([opened.flush(), stores.flush()]);
    })());
  return {
    config,
    log,
    directory,
    audit,
    workflow,
    provisioning,
    imports,
    plans,
    approvals,
    views,
    copies,
    delivery,
    contacts,
    exports,
    bot,
    adapter,
    flush,
    close: async () => {
      await flush();
      await opened.close();
      await stores.close();
    },
    start: () => {
      // Every card template is compiled before the first turn, so that no turn pays for it.
      const templates = loadCardTemplates();
      for (const t of templates) if (t.engine === 'library') log.warn({ template: t.name, reason: t.reason }, 'card template expanded by adaptivecards-templating: the compiler does not support it');
      log.info({ compiled: templates.filter((t) => t.engine === 'compiled').length, library: templates.filter((t) => t.engine === 'library').length }, 'card templates loaded');
      return createServer({
        config,
        adapter,
        bot,
        log,
        flush,
        exports,
        audit,
        csvExport: (grant) => importExport(grant, { provisioning }),
        ...(options.exportIdleMs ? { exportIdleMs: options.exportIdleMs } : {}),
        health: [
          { name: 'backend', check: () => directory.health() },
          { name: 'store', check: () => workflow.health() },
        ],
      })
        .start()
        .then((running) => {
          // Export links point at this server unless a public address was configured (only local mode
          // may leave it unset: src/config.ts).
          if (!config.publicUrl) exports.setBaseUrl(running.url);
          return running;
        });
    },
  };
}
