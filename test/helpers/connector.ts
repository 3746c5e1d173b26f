import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Captured {
  method: string;
  url: string;
  body: Record<string, unknown>;
  /** The error status the call was answered with (absent: 200). */
  status?: number;
}

/**
 * A stand-in for the Bot Connector on loopback: records what the bot posts to its serviceUrl. `status`
 * may answer a call with an error instead (a connector outage for one conversation, say); every call
 * is recorded with the status it got.
 */
export async function captureServer(options: { status?: (call: Captured) => number } = {}): Promise<{ url: string; posts: Captured[]; close(): Promise<void> }> {
  const posts: Captured[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const call: Captured = { method: req.method ?? '', url: req.url ?? '', body: JSON.parse(body || '{}') as Record<string, unknown> };
      const status = options.status?.(call) ?? 200;
      posts.push({ ...call, ...(status !== 200 ? { status } : {}) });
      // restify patches ServerResponse.writeHead process-wide (stack.md §1): call end separately.
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status === 200 ? { id: `posted-${posts.length}` } : { error: { code: 'ServiceError', message: 'the test connector failed this call' } }));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    posts,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}
