import path from 'node:path';
import { access, constants } from 'node:fs/promises';
import { SwitchboardAdapter } from './bot/adapter';
import { ApprovalCards } from './bot/approvalCards';
import { CardUpdates } from './bot/cardUpdates';
import { ApprovalService } from './approvals/service';
import { ExportLinks } from './audit/exports';
import { ConversationDirectory } from './store/conversations';
import { RequestRepository } from './store/requests';
import { SwitchboardBot } from './bot/SwitchboardBot';
import type { Config } from './config';
import { openMicrosoftDirectory } from './backends/microsoft';
import { createLogger, type Logger } from './log/logger';
import type { TenantDirectory } from './provisioning/directory';
import { PlanRunner } from './provisioning/runner';
import { ProvisioningService } from './provisioning/service';
import { SimulatedTenant, type Slowness } from './backends/simulated/tenant';
import { createServer, type RunningServer } from './server';
import { AuditLog } from './store/audit';
import { LowdbPlanRepository } from './store/plans';

export interface AppOptions {
  log?: Logger;
  now?: () => Date;
  slowness?: Slowness;
  /** The environment the Microsoft 365 backend reads its own settings from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface App {
  config: Config;
  log: Logger;
  directory: TenantDirectory;
  audit: AuditLog;
  provisioning: ProvisioningService;
  plans: PlanRunner;
  approvals: ApprovalService;
  approvalCards: ApprovalCards;
  contacts: ConversationDirectory;
  exports: ExportLinks;
  bot: SwitchboardBot;
  adapter: SwitchboardAdapter;
  cardUpdates: CardUpdates;
  start(): Promise<RunningServer>;
  /** Flushes every store (after the last turn). */
  flush(): Promise<void>;
  /** Flushes and releases the store files (a later createApp on the same directory re-reads them). */
  close(): Promise<void>;
}

type Directory = TenantDirectory & { flush(): Promise<void>; close(): Promise<void> };

async function openDirectory(config: Config, options: AppOptions, log: Logger): Promise<Directory> {
  if (config.backend === 'microsoft') {
    // Its own variables (SWITCHBOARD_M365_*) are parsed there; docs/microsoft-backend.md.
    return openMicrosoftDirectory(options.env ?? process.env, { log, ...(options.now ? { now: options.now } : {}) });
  }
  return SimulatedTenant.open({
    file: path.join(config.dataDir, 'tenant.json'),
    tenantId: config.tenantId,
    ...(options.now ? { now: options.now } : {}),
    slowness: options.slowness ?? config.simulatedSlowness,
    // A bad stored record is moved aside and start-up goes on (issue 9 item 11): say so in the log.
    onQuarantine: (item) => log.warn({ quarantined: item }, 'simulated tenant: a stored record was unusable; moved to tenant.json.quarantine.jsonl'),
  });
}

/** The store is healthy when its folder is writable; the counts tell what it holds. */
async function storeHealth(dataDir: string, plans: PlanRunner, approvals: ApprovalService): Promise<{ ok: boolean; detail: string }> {
  try {
    await access(dataDir, constants.W_OK);
  } catch {
    return { ok: false, detail: `${dataDir} is not writable` };
  }
  const counts = Object.entries(plans.counts()).map(([status, n]) => `${n} ${status}`).join(', ') || 'none';
  return { ok: true, detail: `plans: ${counts}; pending approvals: ${approvals.pendingCount()}` };
}

/** Composition root: config → stores → directory → services → bot → server. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger(config.logLevel);
  const audit = new AuditLog(path.join(config.dataDir, 'audit.jsonl'), options.now);
  const directory = await openDirectory(config, options, log);
  const planRepository = await LowdbPlanRepository.open(path.join(config.dataDir, 'plans.json'));
  const plans = new PlanRunner(planRepository, directory, audit, {
    pollMs: config.planPollMs,
    ...(options.now ? { now: options.now } : {}),
    onFault: (error, plan) => log.error({ err: error, planId: plan.id }, 'plan step fault'),
  });
  const provisioning = new ProvisioningService(directory, audit, plans);
  const [requestRepository, contacts] = await Promise.all([
    RequestRepository.open(path.join(config.dataDir, 'requests.json')),
    ConversationDirectory.open(path.join(config.dataDir, 'conversations.json')),
  ]);
  const approvals = new ApprovalService(
    requestRepository,
    plans,
    audit,
    { kinds: new Set(config.approvals.kinds), expiresAfterMs: config.approvals.expiresAfterMs, approverIds: config.approverIds },
    options.now,
  );
  const adapter = new SwitchboardAdapter(config, log);
  const approvalCards = new ApprovalCards(adapter, config.bot.appId, { approvals, plans }, contacts, config.approvals.channelId, log);
  const exports = new ExportLinks();
  if (config.publicUrl) exports.setBaseUrl(config.publicUrl);
  const services = { provisioning, approvals, approvalCards, audit, exports };
  const bot = new SwitchboardBot({
    gate: { tenantId: config.tenantId, requireTeamsChannel: !config.localMode, adminIds: config.adminIds, approverIds: config.approverIds },
    services,
    audit,
    contacts,
    log,
  });
  const cardUpdates = new CardUpdates(adapter, config.bot.appId, services, log);
  // Plans that were running or waiting when the process stopped carry on; due requests expire.
  plans.resumeAll();
  await approvals.expireDue();
  approvals.startSweeping(60_000);
  const flush = async () => {
    approvals.stop();
    await plans.stop();
    await Promise.all([cardUpdates.idle(), approvalCards.idle()]);
    await Promise.all([audit.flush(), directory.flush(), planRepository.flush(), requestRepository.flush(), contacts.flush()]);
  };
  return {
    config,
    log,
    directory,
    audit,
    provisioning,
    plans,
    approvals,
    approvalCards,
    contacts,
    exports,
    bot,
    adapter,
    cardUpdates,
    flush,
    close: async () => {
      await flush();
      await Promise.all([directory.close(), planRepository.close(), requestRepository.close(), contacts.close()]);
    },
    start: () =>
      createServer({
        config,
        adapter,
        bot,
        log,
        flush,
        exports,
        audit,
        health: [
          { name: 'backend', check: () => directory.health() },
          { name: 'store', check: () => storeHealth(config.dataDir, plans, approvals) },
        ],
      })
        .start()
        .then((running) => {
          // Export links point at this server unless a public address was configured.
          if (!config.publicUrl) exports.setBaseUrl(running.url);
          return running;
        }),
  };
}
