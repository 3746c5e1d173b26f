import type { App } from '../../src/app';
import type { RunningServer } from '../../src/server';
import { message } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { captureServer } from '../helpers/connector';
import { rawRequest, type RawResponse } from '../helpers/rawHttp';

/**
 * A request body must arrive in a few seconds (src/http/body.ts BODY_DEADLINE). Before, a body one
 * byte short of its Content-Length held the socket and a pending handler for Node's requestTimeout
 * (300 s) — before authentication, so anyone who reaches the port could hold them, many times over
 * (slowloris, attack9).
 */
describe('a request body that does not arrive', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;
  let connector: Awaited<ReturnType<typeof captureServer>>;

  beforeAll(async () => {
    dir = await tempDir();
    connector = await captureServer();
    app = await testApp(dir.dir);
    server = await app.start();
  });

  afterAll(async () => {
    await server.stop();
    await app.close();
    await connector.close();
    await dir.remove();
  });

  /**
   * Sends the headers of `body` (its full Content-Length), then its bytes in `pieces` `everyMs` apart,
   * holding back the last `missing` bytes; waits for the answer (at most `giveUpMs`).
   */
  async function slowPost(options: { pieces: number; everyMs: number; missing: number; giveUpMs: number }): Promise<{ answer: RawResponse | undefined; tookMs: number }> {
    const body = JSON.stringify(message('help', { serviceUrl: connector.url }));
    const sent = body.slice(0, body.length - options.missing);
    const started = Date.now();
    const answer = await rawRequest(`${server.url}/api/messages`, {
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      write: async (req, answered) => {
        req.flushHeaders();
        const size = Math.ceil(sent.length / options.pieces);
        for (let i = 0; i < options.pieces && !answered() && !req.destroyed; i++) {
          await new Promise((r) => setTimeout(r, options.everyMs));
          req.write(sent.slice(i * size, (i + 1) * size));
        }
        const deadline = started + options.giveUpMs;
        while (!answered() && !req.destroyed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        if (!answered()) req.destroy();
      },
    }).catch(() => undefined);
    return { answer, tookMs: Date.now() - started };
  }

  it('a body one byte short is answered 408 within 5 s, and the connection is closed', async () => {
    const { answer, tookMs } = await slowPost({ pieces: 1, everyMs: 0, missing: 1, giveUpMs: 8_000 });
    expect(answer?.status).toBe(408);
    expect(answer?.headers.connection).toBe('close');
    expect(tookMs).toBeLessThan(5_000);
    // The server goes on answering.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  }, 20_000);

  it('a body trickled a byte at a time (never idle for long) is cut off at the total deadline', async () => {
    const { answer, tookMs } = await slowPost({ pieces: 400, everyMs: 500, missing: 0, giveUpMs: 16_000 });
    expect(answer?.status).toBe(408);
    expect(tookMs).toBeGreaterThanOrEqual(9_000);
    expect(tookMs).toBeLessThan(13_000);
  }, 25_000);

  it('a body sent in pieces a second apart, complete in time, is read as usual', async () => {
    const { answer } = await slowPost({ pieces: 3, everyMs: 1_000, missing: 0, giveUpMs: 10_000 });
    expect(answer?.status).toBe(200);
  }, 20_000);

  it('a body that arrived while the server was stalled (a busy machine) is read, not taken for a late one', async () => {
    const body = JSON.stringify(message('help', { serviceUrl: connector.url }));
    const answer = await rawRequest(`${server.url}/api/messages`, {
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      write: async (req) => {
        req.write(body.slice(0, 10));
        await new Promise((r) => setTimeout(r, 300)); // the handler is reading, its idle timer running
        req.write(body.slice(10));
        // The rest is in the socket; this process (the server's too) stalls past the idle deadline.
        const until = Date.now() + 3_500;
        while (Date.now() < until) {
          // busy: no timer, no I/O runs
        }
      },
    });
    expect(answer.status).toBe(200);
  }, 20_000);
});
