import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import restify from 'restify';
import { z } from 'zod';
import type { Activity } from 'botbuilder';
import type { SwitchboardAdapter } from './bot/adapter';
import type { SwitchboardBot } from './bot/SwitchboardBot';
import type { Config } from './config';
import type { Logger } from './log/logger';
import { once } from 'node:events';
import type { ExportLinks } from './audit/exports';
import { accountFilter, AUDIT_CSV_HEADER, auditCsvRow } from './audit/history';
import type { AuditLog } from './store/audit';

/**
 * The activity's outer shape, checked before botbuilder sees it: a missing or non-string `type` and
 * similar malformed bodies otherwise end in a 500 (ARCHITECTURE.md, "Where a straightforward
 * botbuilder bot returns 5xx").
 */
const ActivityEnvelope = z.looseObject({
  type: z.string().min(1).max(64),
  serviceUrl: z.string().max(2048).optional(),
  channelId: z.string().max(64).optional(),
  text: z.string().max(28_000).optional(),
  from: z.looseObject({ id: z.string().max(512).optional(), aadObjectId: z.string().max(64).optional() }).optional(),
  conversation: z.looseObject({ id: z.string().max(1024) }).optional(),
});

const LOOPBACK_SERVICE_URL = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/i;

export interface HealthSource {
  name: string;
  check(): Promise<{ ok: boolean; detail: string }>;
}

export interface ServerDependencies {
  config: Config;
  adapter: SwitchboardAdapter;
  bot: SwitchboardBot;
  log: Logger;
  health: HealthSource[];
  /** Flushed on shutdown after the last turn finished. */
  flush: () => Promise<void>;
  exports: ExportLinks;
  audit: AuditLog;
}

export interface RunningServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function createServer(deps: ServerDependencies): { start(): Promise<RunningServer> } {
  const { config, adapter, bot, log } = deps;
  const server = restify.createServer({ name: 'switchboard', handleUncaughtExceptions: false });
  server.use(restify.plugins.bodyParser({ maxBodySize: 256 * 1024, mapParams: false }));
  let inFlight = 0;
  let stopping = false;
  let drained: (() => void) | undefined;

  server.post('/api/messages', async (req: restify.Request, res: restify.Response) => {
    if (stopping) {
      res.send(503, { error: 'shutting down' });
      return;
    }
    const parsed = ActivityEnvelope.safeParse(req.body);
    if (!parsed.success) {
      res.send(400, { error: 'not a valid activity' });
      return;
    }
    // Without authentication the bot would post its replies to any serviceUrl it is given (SSRF):
    // in local mode only loopback service URLs make sense.
    if (config.localMode && parsed.data.serviceUrl && !LOOPBACK_SERVICE_URL.test(parsed.data.serviceUrl)) {
      res.send(400, { error: 'in local mode the serviceUrl must be a loopback address' });
      return;
    }
    inFlight += 1;
    try {
      const authorization = typeof req.headers.authorization === 'string' ? req.headers.authorization : '';
      const outcome = await adapter.handle(authorization, parsed.data as unknown as Activity, (context) => bot.run(context));
      if (outcome.kind === 'unauthorized') {
        log.warn({ path: '/api/messages' }, 'rejected: no valid Bot Framework token');
        res.send(401, { error: 'unauthorized' });
      } else if (outcome.kind === 'fault') {
        const correlationId = randomUUID();
        log.error({ err: outcome.error, correlationId }, 'request failed');
        res.send(500, { error: 'internal error', correlationId });
      } else if (outcome.invokeResponse) {
        res.send(outcome.invokeResponse.status, outcome.invokeResponse.body);
      } else {
        res.send(200);
      }
    } finally {
      inFlight -= 1;
      if (stopping && inFlight === 0) drained?.();
    }
  });

  // History exports: a one-time, short-lived link created for an admin in the chat (src/audit/exports.ts),
  // streamed from the audit log so that memory stays flat whatever its length.
  server.get('/exports/:file', async (req: restify.Request, res: restify.Response) => {
    const token = /^([0-9a-f]{32})\.csv$/.exec(String(req.params.file ?? ''))?.[1];
    const found = token ? deps.exports.take(token) : undefined;
    if (!found) {
      res.send(404, { error: 'this export link is unknown, used or expired; export again from the chat' });
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${found.fileName}"`,
      'cache-control': 'no-store',
    });
    let chunk = AUDIT_CSV_HEADER;
    for await (const entry of deps.audit.entries(accountFilter(found.username))) {
      chunk += auditCsvRow(entry);
      if (chunk.length > 64 * 1024) {
        if (!res.write(chunk)) await once(res, 'drain');
        chunk = '';
      }
    }
    res.end(chunk);
  });

  server.get('/healthz', async (_req: restify.Request, res: restify.Response) => {
    const checks = await Promise.all(
      deps.health.map(async (h) => {
        try {
          return { name: h.name, ...(await h.check()) };
        } catch (e) {
          return { name: h.name, ok: false, detail: e instanceof Error ? e.message : 'unavailable' };
        }
      }),
    );
    const ok = checks.every((c) => c.ok);
    res.send(ok ? 200 : 503, { status: ok ? 'ok' : 'degraded', localMode: config.localMode, checks });
  });

  return {
    start: () =>
      new Promise<RunningServer>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          const { port } = server.address() as AddressInfo;
          const host = config.host.includes(':') ? `[${config.host}]` : config.host;
          resolve({
            url: `http://${host}:${port}`,
            port,
            stop: async () => {
              stopping = true;
              const closed = new Promise<void>((done) => server.close(() => done()));
              // Finish in-flight turns, then flush the stores.
              if (inFlight > 0) await new Promise<void>((done) => (drained = done));
              server.server.closeIdleConnections?.();
              await deps.flush();
              server.server.closeAllConnections?.();
              await closed;
            },
          });
        });
      }),
  };
}
