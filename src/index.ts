import { existsSync } from 'node:fs';
import { ConfigError, loadConfig, StartupError } from './config';

async function main(): Promise<void> {
  // Settings may come from a .env file beside package.json (see .env.example); the environment wins.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig();
  // The app (restify, botbuilder) loads only once the configuration is known to be good.
  const { createApp } = await import('./app.js');
  const app = await createApp(config);
  // Last line of defence (issue 9 item 5): every background task handles its own failures, but one
  // that slips through is logged and the bot keeps serving instead of dying mid-plan. Plans, requests
  // and deliveries are persisted, so whatever it interrupted is picked up by the sweeps.
  process.on('unhandledRejection', (reason: unknown) => app.log.error({ err: reason }, 'unhandled rejection (kept serving)'));
  process.on('uncaughtException', (error: Error) => app.log.error({ err: error }, 'uncaught exception (kept serving)'));
  const running = await app.start();
  if (config.localMode) {
    app.log.warn(
      { url: running.url },
      'LOCAL MODE: no MicrosoftAppId, so Bot Framework authentication is OFF; listening on loopback only',
    );
    if (config.backend === 'microsoft') {
      // Only reachable with SWITCHBOARD_ALLOW_UNAUTHENTICATED_REAL_TENANT=true (src/config.ts).
      app.log.warn({ tenantId: config.tenantId }, 'LOCAL MODE ON A REAL TENANT: anyone on this machine can change it without signing in');
    }
  }
  app.log.info({ url: `${running.url}/api/messages`, backend: config.backend, tenantId: config.tenantId }, 'Switchboard is listening');
  // SIGTERM (docker stop, Kubernetes) and SIGINT (Ctrl-C) end through app.close(): in-flight turns
  // finish, the stores are flushed and closed, and the data folder's lock is given back — a lock left
  // behind would name a pid that the next container may reuse (attack9). Bounded: an orchestrator
  // kills after its own grace period (docker: 10 s), so we give up first and say so. A lock left then
  // names this process and start time, which the next start recognises as gone.
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      // A second Ctrl-C: the operator does not want to wait.
      app.log.warn({ signal }, 'second signal: exiting now without waiting for the shutdown');
      process.exit(1);
    }
    stopping = true;
    app.log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: finishing in-flight turns');
    const deadline = setTimeout(() => {
      app.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown did not finish in time (SWITCHBOARD_SHUTDOWN_TIMEOUT_SECONDS): exiting anyway');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    running
      .stop()
      .then(() => app.close())
      .then(() => {
        clearTimeout(deadline);
        app.log.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  // A bad configuration stops start-up with one line naming the variable and what is wrong.
  if (error instanceof ConfigError || error instanceof StartupError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`Switchboard failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  }
  process.exit(1);
});
