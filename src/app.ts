import path from 'node:path';
import { SwitchboardAdapter } from './bot/adapter';
import { CardUpdates } from './bot/cardUpdates';
import { SwitchboardBot } from './bot/SwitchboardBot';
import { StartupError, type Config } from './config';
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
}

export interface App {
  config: Config;
  log: Logger;
  directory: TenantDirectory;
  audit: AuditLog;
  provisioning: ProvisioningService;
  plans: PlanRunner;
  bot: SwitchboardBot;
  adapter: SwitchboardAdapter;
  cardUpdates: CardUpdates;
  start(): Promise<RunningServer>;
  /** Flushes every store (after the last turn). */
  flush(): Promise<void>;
  /** Flushes and releases the store files (a later createApp on the same directory re-reads them). */
  close(): Promise<void>;
}

async function openDirectory(config: Config, options: AppOptions): Promise<SimulatedTenant> {
  if (config.backend === 'microsoft') {
    throw new StartupError('SWITCHBOARD_BACKEND=microsoft: the Microsoft 365 backend is not available in this version; use simulated.');
  }
  return SimulatedTenant.open({
    file: path.join(config.dataDir, 'tenant.json'),
    tenantId: config.tenantId,
    ...(options.now ? { now: options.now } : {}),
    slowness: options.slowness ?? config.simulatedSlowness,
  });
}

/** Composition root: config → stores → directory → services → bot → server. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger(config.logLevel);
  const audit = new AuditLog(path.join(config.dataDir, 'audit.jsonl'), options.now);
  const directory = await openDirectory(config, options);
  const planRepository = await LowdbPlanRepository.open(path.join(config.dataDir, 'plans.json'));
  const plans = new PlanRunner(planRepository, directory, audit, {
    pollMs: config.planPollMs,
    ...(options.now ? { now: options.now } : {}),
    onFault: (error, plan) => log.error({ err: error, planId: plan.id }, 'plan step fault'),
  });
  const provisioning = new ProvisioningService(directory, audit, plans);
  const bot = new SwitchboardBot({
    gate: { tenantId: config.tenantId, requireTeamsChannel: !config.localMode, adminIds: config.adminIds, approverIds: config.approverIds },
    services: { provisioning },
    audit,
    log,
  });
  const adapter = new SwitchboardAdapter(config, log);
  const cardUpdates = new CardUpdates(adapter, config.bot.appId, provisioning, log);
  // Plans that were running or waiting when the process stopped carry on.
  plans.resumeAll();
  const flush = async () => {
    await plans.stop();
    await cardUpdates.idle();
    await Promise.all([audit.flush(), directory.flush(), planRepository.flush()]);
  };
  return {
    config,
    log,
    directory,
    audit,
    provisioning,
    plans,
    bot,
    adapter,
    cardUpdates,
    flush,
    close: async () => {
      await flush();
      await Promise.all([directory.close(), planRepository.close()]);
    },
    start: () =>
      createServer({
        config,
        adapter,
        bot,
        log,
        flush,
        health: [{ name: 'backend', check: () => directory.health() }],
      }).start(),
  };
}
