import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Captured {
  method: string;
  url: string;
  body: Record<string, unknown>;
}

/** A stand-in for the Bot Connector on loopback: records what the bot posts to its serviceUrl. */
export async function captureServer(): Promise<{ url: string; posts: Captured[]; close(): Promise<void> }> {
  const posts: Captured[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      posts.push({ method: req.method ?? '', url: req.url ?? '', body: JSON.parse(body || '{}') as Record<string, unknown> });
      // restify patches ServerResponse.writeHead process-wide (stack.md §1): call end separately.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `posted-${posts.length}` }));
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
