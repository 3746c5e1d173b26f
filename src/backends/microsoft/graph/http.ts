import { z } from 'zod';
import { GraphError, GraphOutcomeUnknownError, GraphThrottledError, GraphTimeoutError } from './errors';

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

export type Query = Record<string, string | number | undefined>;

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
    const response = await this.send('GET', this.url(path, query));
    return parseBody(schema, response.body, `GET ${path}`);
  }

  /** GET that answers null on 404 (an unknown user or number is not a fault). */
  async getOrNull<S extends z.ZodType>(path: string, schema: S, query?: Query): Promise<z.infer<S> | null> {
    try {
      return await this.get(path, schema, query);
    } catch (e) {
      if (e instanceof GraphError && e.status === 404) return null;
      throw e;
    }
  }

  /** Every item of a collection, following @odata.nextLink (teams-apis.md §2: $top ≤ 1,000). */
  async getAll<S extends z.ZodType>(path: string, item: S, query?: Query): Promise<z.infer<S>[]> {
    const items: z.infer<S>[] = [];
    let next: string | undefined = this.url(path, query);
    for (let page = 0; next; page += 1) {
      if (page >= 1_000) throw new Error(`Graph GET ${path}: more than 1,000 pages; refusing to go on`);
      const response = await this.send('GET', next);
      const body = parseBody(pageOf(item), response.body, `GET ${path}`);
      items.push(...body.value);
      next = body['@odata.nextLink'];
      // The token goes only to Graph itself, never to a host a response names.
      if (next && new URL(next).origin !== this.origin) throw new Error(`Graph GET ${path}: nextLink leaves ${this.origin}`);
    }
    return items;
  }

  /**
   * Every item of a collection that pages by $top/$skip, as the numberAssignments page documents ("$Top
   * … Default number of results is 500 entries and maximum 1,000 entries allowed per query", "$Skip …
   * skip first X number of results"; no @odata.nextLink is documented and none is reportedly returned).
   * Reads pages of `top` until a short page; an @odata.nextLink that does come is followed too.
   */
  async getAllBySkip<S extends z.ZodType>(path: string, item: S, query: Query = {}, top = 1_000): Promise<z.infer<S>[]> {
    const items: z.infer<S>[] = [];
    let next: string | undefined;
    let previousFirst: string | undefined;
    for (let page = 0; ; page += 1) {
      if (page >= 1_000) throw new Error(`Graph GET ${path}: more than 1,000 pages; refusing to go on`);
      const url = next ?? this.url(path, { ...query, $top: top, $skip: items.length });
      const response = await this.send('GET', url);
      const body = parseBody(pageOf(item), response.body, `GET ${path}`);
      // A service that ignored $skip would hand out page one forever: stop instead of looping.
      const first = body.value.length > 0 ? JSON.stringify(body.value[0]) : undefined;
      if (!next && page > 0 && first !== undefined && first === previousFirst) {
        throw new Error(`Graph GET ${path}: $skip=${items.length} answered the previous page again`);
      }
      previousFirst = first;
      items.push(...body.value);
      next = body['@odata.nextLink'];
      if (next && new URL(next).origin !== this.origin) throw new Error(`Graph GET ${path}: nextLink leaves ${this.origin}`);
      if (!next && body.value.length < top) return items;
    }
  }

  /** One request with bounded retries; a non-2xx answer that is not retried throws GraphError. */
  async send(method: string, url: string, body?: unknown): Promise<GraphResponse> {
    const path = new URL(url).pathname;
    const idempotent = IDEMPOTENT.has(method);
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

function pageOf<S extends z.ZodType>(item: S) {
  return z.object({ value: z.array(item), '@odata.nextLink': z.string().optional() });
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
