import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import restify from 'restify';
import type { SwitchboardAdapter } from './bot/adapter';
import { CHECKED_ACTIVITY, parseActivity } from './bot/activity';
import type { SwitchboardBot } from './bot/SwitchboardBot';
import type { Config } from './config';
import type { Logger } from './log/logger';
import type { ExportGrant, ExportLinks } from './audit/exports';
import { accountFilter } from './audit/history';
import { readBody, readJsonBody } from './http/body';
import { EXPORT_IDLE_MS, sendExportGone, sendExportPage, streamCsv, streamLines } from './http/exportDownload';
import { isLoopbackHost, isLoopbackOrigin, requestAuthority } from './http/loopback';
import type { AuditStore } from './store/audit';

/**
 * Bot Framework activities are small (Teams caps a message at about 28 KB); the limit leaves room for
 * card data and Teams' channelData while keeping what an unauthenticated caller can make us buffer small.
 */
export const MAX_ACTIVITY_BYTES = 256 * 1024;
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** The export form posts nothing we need (the token is in the path): any body is read up to this, then dropped. */
const MAX_EXPORT_FORM_BYTES = 1024;

const LOOPBACK_SERVICE_URL = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/i;
const EXPORT_FILE = /^([0-9a-f]{32})\.csv$/;

/**
 * Answers with a short JSON error and closes the connection: the request body may be unread, and
 * keeping the connection would make Node read (and drop) all of it first.
 */
function refuse(res: restify.Response, status: number, error: string): void {
  res.header('connection', 'close');
  res.send(status, { error });
}

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
  audit: AuditStore;
  /** How long an export download may make no progress before it is dropped (default EXPORT_IDLE_MS). */
  exportIdleMs?: number;
  /** The CSV of a link that is not a history export (import template, accounts, rows not imported). */
  csvExport?: (grant: ExportGrant) => Promise<AsyncGenerator<string> | undefined>;
}

export interface RunningServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function createServer(deps: ServerDependencies): { start(): Promise<RunningServer> } {
  const { config, adapter, bot, log } = deps;
  // noWriteContinue: a client's `Expect: 100-continue` is answered in src/http/body.ts, after our checks.
  const server = restify.createServer({ name: 'switchboard', handleUncaughtExceptions: false, noWriteContinue: true });
  // No restify bodyParser: it writes multipart uploads to the temp folder before authentication
  // (issue 9). /api/messages reads its JSON itself (src/http/body.ts); no other route takes a body.
  // Node's own bounds on a connection, before any handler runs (attack9: a slow client must not hold
  // a socket for Node's default requestTimeout of 300 s). Node enforces the first two on a 30 s check
  // (connectionsCheckingInterval, which restify does not let us set), so they are backstops; a body is
  // held to a few seconds by src/http/body.ts itself.
  // - headersTimeout: the request line and headers must arrive within 10 s;
  // - requestTimeout: the whole request (headers and body) within 30 s;
  // - keepAliveTimeout: an idle kept-alive connection is closed after 5 s (Node's default, said here).
  server.server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  let inFlight = 0;
  let stopping = false;
  let drained: (() => void) | undefined;

  // Without handleUpgrades restify re-emits a request carrying `Upgrade:` (e.g. a WebSocket, which any
  // web page may open to 127.0.0.1) as an event nobody handles: the connection hung open forever.
  // No route upgrades, so such a request gets a plain refusal and the connection closes.
  server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    socket.on('error', () => undefined);
  });

  if (config.localMode) {
    // Authentication is off and the Playground's user is an admin: a page whose DNS name was re-bound
    // to 127.0.0.1 must not reach any route (src/http/loopback.ts). Its Host names the page's site.
    server.pre((req: restify.Request, res: restify.Response, next: restify.Next) => {
      if (isLoopbackHost(requestAuthority(req.url, req.headers.host))) return next();
      log.warn({ path: req.path() }, 'refused: a non-loopback Host in local mode');
      refuse(res, 421, 'in local mode only a loopback Host (localhost, 127.0.0.1, [::1]) is answered');
      return next(false);
    });
  }

  server.post('/api/messages', async (req: restify.Request, res: restify.Response) => {
    if (stopping) {
      refuse(res, 503, 'shutting down');
      return;
    }
    // A browser sends Origin with every cross-site POST (a sandboxed page sends "null"); the
    // Playground posts from its own Node server without one. Nothing in a web page may drive a bot
    // that has no authentication.
    const origin = req.headers.origin;
    if (config.localMode && origin !== undefined && !isLoopbackOrigin(origin)) {
      log.warn({ path: '/api/messages' }, 'refused: a cross-origin request in local mode');
      refuse(res, 403, 'in local mode requests from web pages are refused');
      return;
    }
    const body = await readJsonBody(req, res, MAX_ACTIVITY_BYTES);
    if (!body.ok) {
      refuse(res, body.status, body.error);
      return;
    }
    const parsed = parseActivity(body.value);
    if (!parsed.ok) {
      res.send(400, { error: 'not a valid activity', detail: parsed.detail });
      return;
    }
    const activity = parsed.activity;
    // Without authentication the bot would post its replies to any serviceUrl it is given (SSRF):
    // in local mode only loopback service URLs make sense. A missing one is no better: botbuilder's
    // connector then falls back to https://api.botframework.com (and retries for seconds).
    if (config.localMode && !(activity.serviceUrl && LOOPBACK_SERVICE_URL.test(activity.serviceUrl))) {
      res.send(400, { error: 'in local mode the serviceUrl must be a loopback address' });
      return;
    }
    inFlight += 1;
    try {
      const authorization = typeof req.headers.authorization === 'string' ? req.headers.authorization : '';
      const outcome = await adapter.handle(authorization, activity, (context) => {
        context.turnState.set(CHECKED_ACTIVITY, activity);
        return bot.run(context);
      });
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

  // History exports: a one-time, short-lived link created for an admin in the chat (src/audit/exports.ts).
  // GET shows a page with a button (link previewers only GET); the button's POST takes the link and
  // streams the CSV from the audit log, so that memory stays flat whatever its length.
  // A link used, expired or unknown was opened by a person in a browser: a page says what to do.
  const gone = (req: restify.Request, res: restify.Response) => {
    const language = req.headers['accept-language'];
    sendExportGone(res, typeof language === 'string' ? language : undefined);
  };
  server.get('/exports/:file', async (req: restify.Request, res: restify.Response) => {
    const token = EXPORT_FILE.exec(String(req.params.file ?? ''))?.[1];
    if (!token || !(await deps.exports.has(token))) {
      gone(req, res);
      return;
    }
    const language = req.headers['accept-language'];
    sendExportPage(res, token, typeof language === 'string' ? language : undefined);
  });

  server.post('/exports/:file', async (req: restify.Request, res: restify.Response) => {
    const token = EXPORT_FILE.exec(String(req.params.file ?? ''))?.[1];
    if (!token || !(await deps.exports.has(token))) {
      gone(req, res);
      return;
    }
    // The form's body is empty (its button has no name); whatever comes is read up to a small bound
    // in memory and dropped, never written anywhere.
    const body = await readBody(req, res, MAX_EXPORT_FORM_BYTES);
    if (!body.ok) {
      refuse(res, body.status, body.error);
      return;
    }
    const found = await deps.exports.take(token);
    if (!found) {
      gone(req, res);
      return;
    }
    const history = !found.kind || found.kind === 'history';
    const lines = history ? undefined : await deps.csvExport?.(found);
    if (!history && !lines) {
      gone(req, res);
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${found.fileName}"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    try {
      const idle = deps.exportIdleMs ?? EXPORT_IDLE_MS;
      const outcome = lines ? await streamLines(res, lines, idle) : await streamCsv(res, deps.audit.entries(accountFilter(found.username)), idle);
      if (outcome !== 'done') log.info({ outcome, kind: found.kind ?? 'history' }, 'export download stopped before the end');
    } catch (error) {
      // The headers are out: the only honest signal left is a cut-off response.
      log.error({ err: error, kind: found.kind ?? 'history' }, 'export failed');
      res.destroy();
    }
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
    // Anyone who can reach the port may ask: the answer says only whether each part works; what the
    // tenant is called and what it holds go to the log.
    if (ok) log.debug({ checks }, 'health: ok');
    else log.warn({ checks }, 'health: degraded');
    res.send(ok ? 200 : 503, { status: ok ? 'ok' : 'degraded', checks: checks.map((c) => ({ name: c.name, ok: c.ok })) });
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
