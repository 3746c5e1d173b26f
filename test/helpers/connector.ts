import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Activity } from 'botbuilder';
import { until } from './waiting';

export interface Captured {
  method: string;
  url: string;
  body: Record<string, unknown>;
  /** The error status the call was answered with (absent: 200). */
  status?: number;
  /** A held call that the bot gave up on (closed the connection) before it was answered. */
  abandoned?: boolean;
}

/**
 * A stand-in for the Bot Connector on loopback: records what the bot posts to its serviceUrl. `status`
 * may answer a call with an error instead (a connector outage for one conversation, say); every call
 * is recorded with the status it got. `answer` gives the body of a call that reads (a roster member).
 */
export async function captureServer(
  options: {
    status?: (call: Captured) => number;
    answer?: (call: Captured) => Record<string, unknown> | undefined;
    /** Calls taken and not answered until release() (a roster that hangs, say); recorded at once. */
    hold?: (call: Captured) => boolean;
  } = {},
): Promise<{ url: string; posts: Captured[]; release(): void; close(): Promise<void> }> {
  const posts: Captured[] = [];
  const held: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const call: Captured = { method: req.method ?? '', url: req.url ?? '', body: JSON.parse(body || '{}') as Record<string, unknown> };
      const status = options.status?.(call) ?? 200;
      const recorded: Captured = { ...call, ...(status !== 200 ? { status } : {}) };
      posts.push(recorded);
      const respond = () => {
        if (res.destroyed) return;
        // restify patches ServerResponse.writeHead process-wide (stack.md §1): call end separately.
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status === 200 ? (options.answer?.(call) ?? { id: `posted-${posts.length}` }) : { error: { code: 'ServiceError', message: 'the test connector failed this call' } }));
      };
      if (!options.hold?.(call)) return respond();
      res.on('close', () => {
        if (!res.writableFinished) recorded.abandoned = true;
      });
      held.push(respond);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    posts,
    release: () => held.splice(0).forEach((respond) => respond()),
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/**
 * The reply to a message, once the bot has posted it: replies go out after the HTTP answer (src/bot/replies.ts),
 * as replies to the message (POST …/activities/<its id>).
 */
export async function replyTo(connector: { posts: Captured[] }, activity: Partial<Activity>, timeoutMs = 5_000): Promise<Captured> {
  const suffix = `/activities/${encodeURIComponent(activity.id ?? '')}`;
  const find = () => connector.posts.find((p) => p.method === 'POST' && p.url.endsWith(suffix));
  await until(() => find() !== undefined, timeoutMs, `the reply to ${activity.id}`);
  return find()!;
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

export type ConnectorState = 'up' | 'hanging' | 'refusing';

/**
 * A Bot Connector on loopback that can be down, on one port throughout: `refusing` (nothing listens:
 * connections are refused), `hanging` (requests are taken and never answered), or `up` (answers like
 * captureServer, and records the posts). `attempts` counts the requests that reached it while hanging.
 * While up, `refuse` may name requests it answers with an error status instead (Teams' 403 for a bot
 * that is not in the conversation, 404 for a message that is gone); those are not recorded.
 */
export async function switchableConnector(initially: ConnectorState = 'up') {
  const posts: Captured[] = [];
  let state: ConnectorState = 'up';
  let attempts = 0;
  let refuse: (request: { method: string; url: string }) => number | undefined = () => undefined;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (state !== 'up') {
        attempts += 1;
        return;
      }
      const status = refuse({ method: req.method ?? '', url: req.url ?? '' });
      if (status) {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: status === 403 ? 'BotNotInConversationRoster' : 'ActivityNotFoundInConversation', message: 'refused by the test connector' } }));
        return;
      }
      posts.push({ method: req.method ?? '', url: req.url ?? '', body: JSON.parse(body || '{}') as Record<string, unknown> });
      // restify patches ServerResponse.writeHead process-wide (stack.md §1): call end separately.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `posted-${posts.length}` }));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  const listen = () => new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  const close = () =>
    new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    });
  const to = async (next: ConnectorState) => {
    if (next === state) return;
    const wasListening = state !== 'refusing';
    // Requests left hanging are cut off: a connector that comes back answers new requests only.
    if (state === 'hanging') server.closeAllConnections();
    state = next;
    if (next === 'refusing' && wasListening) await close();
    if (next !== 'refusing' && !wasListening) await listen();
  };
  await to(initially);
  return {
    url: `http://127.0.0.1:${port}/`,
    posts,
    get attempts() {
      return attempts;
    },
    to,
    refuse: (which: typeof refuse) => {
      refuse = which;
    },
    close: () => (state === 'refusing' ? Promise.resolve() : close()),
  };
}
