import { z } from 'zod';
import type { Meter } from '../meter';
import { GraphError, GraphOutcomeUnknownError, GraphThrottledError, GraphTimeoutError } from './errors';
import { all, allBySkip, BatchAnswerSchema, MAX_BATCH, one, type Cursor, type Query, type Read, type ResultOf } from './reads';

export { all, allBySkip, one, type Query, type Read } from './reads';

/**
 * A small Graph client over Node's fetch: bearer token, JSON, bounded retries for throttling and
 * transient faults, @odata.nextLink paging. Everything slow (sleep, clock, randomness) is injected so
 * tests run at full speed.
 */

export interface HttpDeps {
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
  random: () => number;
  /** Counts requests and batches per command (meter.ts). */
  meter?: Meter;
}

export interface RetryPolicy {
  /** Retries after the first attempt (429/503/504, and transport faults of idempotent calls). */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited out: the call fails as throttled. */
  maxRetryAfterMs: number;
  /** One request (answer and body) may take this long before it is aborted. */
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 4, baseDelayMs: 1_000, maxDelayMs: 30_000, maxRetryAfterMs: 120_000, timeoutMs: 30_000 };

/** Graph asks clients to back off on these (teams-apis.md §1.9); other 4xx are final. */
const RETRYABLE = new Set([429, 503, 504]);
const IDEMPOTENT = new Set(['GET', 'PATCH', 'DELETE']);
/**
 * 429 and 503 say the request was not processed (throttled, unavailable), so even a POST may be sent
 * again. A 504, a timeout of ours or a broken connection say nothing of the kind: the POST may have been
 * accepted behind the gateway, so it is never repeated blindly (GraphOutcomeUnknownError; the caller
 * looks at the tenant first, telephony.ts).
 */
const NOT_PROCESSED = new Set([429, 503]);


export interface GraphResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export class GraphClient {
  private readonly origin: string;

  constructor(
    private readonly baseUrl: string,
    private readonly token: () => Promise<string>,
    private readonly deps: HttpDeps,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {
    this.origin = new URL(baseUrl).origin;
  }

  /** A Graph URL from a path below the base (segments are encoded by the caller) and a query. */
  url(path: string, query: Query = {}): string {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  async get<S extends z.ZodType>(path: string, schema: S, query?: Query): Promise<z.infer<S>> {
    return (await this.readMany({ read: one(path, schema, query) })).read;
  }

  /** GET that answers null on 404 (an unknown user or number is not a fault). */
  async getOrNull<S extends z.ZodType>(path: string, schema: S, query?: Query): Promise<z.infer<S> | null> {
    return (await this.readMany({ read: one(path, schema, query, true) })).read;
  }

  /** Every item of a collection, following @odata.nextLink (teams-apis.md §2: $top ≤ 1,000). */
  async getAll<S extends z.ZodType>(path: string, item: S, query?: Query): Promise<z.infer<S>[]> {
    return (await this.readMany({ read: all(path, item, query) })).read;
  }

  /** Every item of a collection that pages by $top/$skip (reads.ts allBySkip). */
  async getAllBySkip<S extends z.ZodType>(path: string, item: S, query: Query = {}, top = 1_000): Promise<z.infer<S>[]> {
    return (await this.readMany({ read: allBySkip(path, item, query, top) })).read;
  }

  /**
   * Several reads at once: whatever is due at the same time goes out as one JSON $batch (one request
   * alone goes out plain), then the next pages of every collection together, until all are complete.
   * Only GETs are batched, so a batch that fails on the way may be sent again (it changes nothing).
   */
  async readMany<R extends Record<string, Read<unknown>>>(reads: R): Promise<{ [K in keyof R]: ResultOf<R[K]> }> {
    const cursors = Object.entries(reads).map(([key, read]) => ({ key, cursor: read.cursor(this) }));
    for (;;) {
      const due = cursors.map((c) => c.cursor).filter((c) => c.next() !== null);
      if (due.length === 0) break;
      const chunks: Cursor<unknown>[][] = [];
      for (let i = 0; i < due.length; i += MAX_BATCH) chunks.push(due.slice(i, i + MAX_BATCH));
      await Promise.all(chunks.map((chunk) => (chunk.length === 1 ? this.readOne(chunk[0]!) : this.batch(chunk))));
    }
    return Object.fromEntries(cursors.map((c) => [c.key, c.cursor.result()])) as { [K in keyof R]: ResultOf<R[K]> };
  }

  /** The token goes only to Graph itself, never to a host a response names. */
  checkOwn(url: string, what: string): string {
    if (new URL(url).origin !== this.origin) throw new Error(`Graph ${what}: nextLink leaves ${this.origin}`);
    return url;
  }

  private async readOne(cursor: Cursor<unknown>): Promise<void> {
    const url = cursor.next() ?? '';
    let answer: GraphResponse;
    try {
      answer = await this.send('GET', url);
    } catch (e) {
      if (e instanceof GraphError) {
        cursor.fail(e);
        return;
      }
      throw e;
    }
    cursor.take(answer.body);
  }

  /**
   * One POST /$batch of GETs (Graph JSON batching; at most 20). Each answer is judged on its own: a
   * 429/503/504 inside the batch is sent again (in a batch with the others that need it) after the
   * longest Retry-After asked, within the same bounds as a single request.
   */
  private async batch(cursors: Cursor<unknown>[]): Promise<void> {
    let pending = cursors;
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (pending.length === 1) return this.readOne(pending[0]!);
      const requests = pending.map((cursor, i) => ({ id: String(i + 1), method: 'GET', url: this.relative(cursor.next() ?? '') }));
      this.deps.meter?.add('graphBatches');
      this.deps.meter?.add('graphBatched', requests.length);
      const answer = await this.send('POST', this.url('/$batch'), { requests }, { idempotent: true });
      const { responses } = parseBody(BatchAnswerSchema, answer.body, 'POST /$batch');
      const again: Cursor<unknown>[] = [];
      let wait = 0;
      let throttled: { path: string; status: number; retryAfter: number | null } | undefined;
      for (const [i, cursor] of pending.entries()) {
        const response = responses.find((r) => r.id === String(i + 1));
        const path = new URL(cursor.next() ?? this.baseUrl).pathname;
        if (!response) throw new Error(`Graph POST /$batch: no answer for GET ${path}`);
        if (response.status >= 200 && response.status < 300) {
          cursor.take(response.body);
        } else if (RETRYABLE.has(response.status)) {
          const header = Object.entries(response.headers ?? {}).find(([name]) => name.toLowerCase() === 'retry-after')?.[1] ?? null;
          const retryAfter = this.retryAfterMs(header);
          wait = Math.max(wait, retryAfter ?? this.backoff(attempt));
          throttled ??= { path, status: response.status, retryAfter };
          again.push(cursor);
        } else {
          cursor.fail(GraphError.fromBody('GET', path, response.status, response.body));
        }
      }
      if (throttled && (attempt >= this.retry.maxRetries || wait > this.retry.maxRetryAfterMs)) {
        throw new GraphThrottledError('GET', throttled.path, throttled.status, attempt + 1, throttled.retryAfter);
      }
      if (again.length > 0) await this.deps.sleep(wait);
      pending = again;
    }
  }

  /** A batched request names its URL relative to the version root ("/users?…"). */
  private relative(url: string): string {
    const base = `${this.baseUrl}/`;
    if (!url.startsWith(base)) throw new Error(`Graph $batch: ${new URL(url).pathname} is not below ${this.baseUrl}`);
    return url.slice(this.baseUrl.length);
  }

  /**
   * One request with bounded retries; a non-2xx answer that is not retried throws GraphError.
   * `idempotent` marks a POST that only reads (a $batch of GETs), which may be sent again.
   */
  async send(method: string, url: string, body?: unknown, options: { idempotent?: boolean } = {}): Promise<GraphResponse> {
    const path = new URL(url).pathname;
    const idempotent = options.idempotent ?? IDEMPOTENT.has(method);
    for (let attempt = 0; ; attempt += 1) {
      let answer: GraphResponse;
      try {
        answer = await this.once(method, url, body);
      } catch (e) {
        const timedOut = e instanceof RequestTimeout;
        // The request may have reached Graph: only idempotent calls are repeated.
        if (!idempotent) throw new GraphOutcomeUnknownError(method, path, timedOut ? 'timeout' : 'connection', messageOf(e));
        if (attempt >= this.retry.maxRetries) {
          if (timedOut) throw new GraphTimeoutError(method, path, attempt + 1, this.retry.timeoutMs);
          throw e;
        }
        await this.deps.sleep(this.backoff(attempt));
        continue;
      }
      if (answer.status >= 200 && answer.status < 300) return answer;
      if (!RETRYABLE.has(answer.status)) throw GraphError.fromBody(method, path, answer.status, answer.body);
      if (!idempotent && !NOT_PROCESSED.has(answer.status)) throw new GraphOutcomeUnknownError(method, path, `HTTP ${answer.status}`, '');
      const retryAfter = this.retryAfterMs(answer.headers.get('retry-after'));
      if (attempt >= this.retry.maxRetries || (retryAfter ?? 0) > this.retry.maxRetryAfterMs) {
        throw new GraphThrottledError(method, path, answer.status, attempt + 1, retryAfter);
      }
      // On 429 wait exactly what Graph asks; without Retry-After back off exponentially with jitter (§1.9).
      await this.deps.sleep(retryAfter ?? this.backoff(attempt));
    }
  }

  /** One HTTP exchange, body included, aborted after timeoutMs (real time: a hung socket never holds a click). */
  private async once(method: string, url: string, body: unknown): Promise<GraphResponse> {
    this.deps.meter?.add('graphRequests');
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new RequestTimeout()), this.retry.timeoutMs);
    try {
      const response = await this.deps.fetch(url, { ...(await this.init(method, body)), signal: controller.signal });
      return { status: response.status, headers: response.headers, body: await readJson(response) };
    } catch (e) {
      throw controller.signal.aborted ? new RequestTimeout() : e;
    } finally {
      clearTimeout(timer);
    }
  }

  private async init(method: string, body: unknown): Promise<RequestInit> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${await this.token()}`,
      accept: 'application/json',
      // An admin is waiting in the chat for every call (teams-apis.md §1.9).
      'x-ms-throttle-priority': 'High',
    };
    if (body === undefined) return { method, headers };
    return { method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) };
  }

  /** Exponential, capped, with "equal jitter": between half and all of the step. */
  private backoff(attempt: number): number {
    const step = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** attempt);
    return Math.round(step / 2 + (this.deps.random() * step) / 2);
  }

  /** Retry-After is delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
  private retryAfterMs(header: string | null): number | null {
    if (header === null || header.trim() === '') return null;
    if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
    const at = Date.parse(header);
    return Number.isNaN(at) ? null : Math.max(0, at - this.deps.now().getTime());
  }
}

/** Our own deadline passed (the AbortSignal's reason). */
class RequestTimeout extends Error {
  constructor() {
    super('no answer in time');
    this.name = 'RequestTimeout';
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function parseBody<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new Error(`Graph ${what}: unexpected answer (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return parsed.data;
}
