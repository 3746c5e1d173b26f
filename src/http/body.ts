import type { IncomingMessage, ServerResponse } from 'node:http';

/** Why a body was not accepted, as the status and the short error the caller gets. */
export interface BodyRefusal {
  ok: false;
  status: 400 | 408 | 413 | 415;
  error: string;
}

/**
 * How long a request body may take (attack9: a body one byte short of its Content-Length held the
 * socket and a pending handler for Node's requestTimeout, 300 s, before authentication — a slowloris).
 * Bodies here are small (activities ≤ 256 KB, sent by a datacenter or by the Playground on loopback):
 * a body that makes no progress for `idleMs`, or is not complete after `totalMs`, is answered with 408
 * and the connection closed. The total also bounds a body trickled one byte at a time.
 */
export interface BodyDeadline {
  idleMs: number;
  totalMs: number;
}

export const BODY_DEADLINE: BodyDeadline = { idleMs: 3_000, totalMs: 10_000 };

export type JsonBody = { ok: true; value: unknown } | BodyRefusal;

/** The media type without its parameters (`application/json; charset=utf-8` → `application/json`). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Reads at most `limit` bytes of the request body into memory, and nothing to disk.
 *
 * Why not restify's bodyParser: it parses multipart/form-data before authentication and leaves the
 * uploaded parts in the temp folder (issue 9: two 3 MB posts that got 401 left 6 MB in os.tmpdir()).
 * Here a Content-Length over the limit is refused before a byte is read, and a chunked body is counted
 * as it streams and dropped at the limit. A refused body is never read further: the caller answers
 * with `Connection: close` (see `refuse` in src/server.ts), so that Node does not drain the rest.
 *
 * A client that sent `Expect: 100-continue` waits for a "continue" before it sends the body (RFC 9110
 * §10.1.1). The server is created with `noWriteContinue` so that it is said here, once the headers
 * passed; a refused client gets its final answer instead of sending a body that nobody reads.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, limit: number, deadline: BodyDeadline = BODY_DEADLINE): Promise<{ ok: true; bytes: Buffer } | BodyRefusal> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.resolve({ ok: false, status: 413, error: `the body is larger than ${limit} bytes` });
  }
  if (/100-continue/i.test(req.headers.expect ?? '')) res.writeContinue();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const late = (): void => {
      req.pause();
      finish({ ok: false, status: 408, error: 'the body did not arrive in time' });
    };
    // Timers run before pending I/O in a turn of the event loop: after a stall of the process (GC, a
    // busy machine) the rest of the body may already wait in the socket. Decide once that was read.
    const total = setTimeout(() => setImmediate(() => !done && late()), deadline.totalMs);
    const idle = setTimeout(() => {
      const seen = size;
      setImmediate(() => !done && size === seen && late());
    }, deadline.idleMs);
    const finish = (result: { ok: true; bytes: Buffer } | BodyRefusal) => {
      done = true;
      clearTimeout(total);
      clearTimeout(idle);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      idle.refresh();
      size += chunk.length;
      if (size > limit) {
        req.pause();
        finish({ ok: false, status: 413, error: `the body is larger than ${limit} bytes` });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish({ ok: true, bytes: Buffer.concat(chunks, size) });
    const onError = () => finish({ ok: false, status: 400, error: 'the body could not be read' });
    // The client went away before the body ended: nobody will read the answer, but the handler ends.
    const onClose = () => {
      if (!req.complete) finish({ ok: false, status: 400, error: 'the body could not be read' });
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A JSON request body: `application/json` only (any parameters, e.g. charset), not encoded, at most
 * `limit` bytes, valid UTF-8 (RFC 8259 §8.1) and valid JSON.
 */
export async function readJsonBody(req: IncomingMessage, res: ServerResponse, limit: number, deadline: BodyDeadline = BODY_DEADLINE): Promise<JsonBody> {
  if (mediaType(req) !== 'application/json') {
    return { ok: false, status: 415, error: 'only application/json is accepted' };
  }
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity') return { ok: false, status: 415, error: 'a content-encoding is not accepted' };
  const body = await readBody(req, res, limit, deadline);
  if (!body.ok) return body;
  let text: string;
  try {
    text = UTF8.decode(body.bytes);
  } catch {
    return { ok: false, status: 400, error: 'the body is not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, status: 400, error: 'the body is not valid JSON' };
  }
}
