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
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight turns');
    running
      .stop()
      .then(() => process.exit(0))
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
