import { z } from 'zod';
import { GraphError } from './errors';

/**
 * Reads that GraphClient.readMany sends together: every request ready at the same time goes out in one
 * JSON $batch (up to 20 per batch, Graph's limit), then every next page of every collection in the
 * next one. A listing of 1,000 accounts with their numbers and the tenant's licenses is then two or
 * three round trips instead of one per page per collection.
 *
 * Each read is a small cursor: it names its next URL (or none when done) and takes the answer.
 */

export type Query = Record<string, string | number | undefined>;

/** What a cursor needs from the client: building URLs and judging where a nextLink points. */
export interface CursorHost {
  url(path: string, query?: Query): string;
  /** Refuses a URL that would take the token to another host. */
  checkOwn(url: string, what: string): string;
}

export interface Cursor<T> {
  /** The next URL to GET, or null when the read is complete. */
  next(): string | null;
  /** A 2xx answer to next(). */
  take(body: unknown): void;
  /** A final error answer to next() (not retried): thrown, unless the read expects it (404 → null). */
  fail(error: GraphError): void;
  result(): T;
}

/** A read, not started yet; `T` is what readMany gives back for it. */
export interface Read<T> {
  cursor(host: CursorHost): Cursor<T>;
}

export type ResultOf<R> = R extends Read<infer T> ? T : never;

const MAX_PAGES = 1_000;

function parseBody<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new Error(`Graph ${what}: unexpected answer (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return parsed.data;
}

export function pageOf<S extends z.ZodType>(item: S) {
  return z.object({ value: z.array(item), '@odata.nextLink': z.string().optional() });
}

/** One entity. With `orNull`, a 404 is null (an unknown user is not a fault). */
export function one<S extends z.ZodType>(path: string, schema: S, query?: Query): Read<z.infer<S>>;
export function one<S extends z.ZodType>(path: string, schema: S, query: Query | undefined, orNull: true): Read<z.infer<S> | null>;
export function one<S extends z.ZodType>(path: string, schema: S, query?: Query, orNull = false): Read<z.infer<S> | null> {
  return {
    cursor(host) {
      let url: string | null = host.url(path, query);
      let value: z.infer<S> | null = null;
      return {
        next: () => url,
        take(body) {
          url = null;
          value = parseBody(schema, body, `GET ${path}`);
        },
        fail(error) {
          if (error.status !== 404 || !orNull) throw error;
          url = null;
        },
        result: () => value,
      };
    },
  };
}

/** Every item of a collection, following @odata.nextLink (only to Graph itself). */
export function all<S extends z.ZodType>(path: string, item: S, query?: Query): Read<z.infer<S>[]> {
  return {
    cursor(host) {
      const items: z.infer<S>[] = [];
      let url: string | null = host.url(path, query);
      let pages = 0;
      return {
        next: () => url,
        fail(error) {
          throw error;
        },
        take(body) {
          if (++pages >= MAX_PAGES) throw new Error(`Graph GET ${path}: more than 1,000 pages; refusing to go on`);
          const page = parseBody(pageOf(item), body, `GET ${path}`);
          items.push(...page.value);
          const link = page['@odata.nextLink'];
          url = link ? host.checkOwn(link, `GET ${path}`) : null;
        },
        result: () => items,
      };
    },
  };
}

/**
 * Every item of a collection that pages by $top/$skip, as the numberAssignments page documents ("$Top
 * … Default number of results is 500 entries and maximum 1,000 entries allowed per query", "$Skip …
 * skip first X number of results"; no @odata.nextLink is documented and none is reportedly returned).
 * Reads pages of `top` until a short page; an @odata.nextLink that does come is followed too.
 */
export function allBySkip<S extends z.ZodType>(path: string, item: S, query: Query = {}, top = 1_000): Read<z.infer<S>[]> {
  return {
    cursor(host) {
      const items: z.infer<S>[] = [];
      let url: string | null = host.url(path, { ...query, $top: top, $skip: 0 });
      let followingLink = false;
      let previousFirst: string | undefined;
      let pages = 0;
      return {
        next: () => url,
        fail(error) {
          throw error;
        },
        take(body) {
          if (++pages >= MAX_PAGES) throw new Error(`Graph GET ${path}: more than 1,000 pages; refusing to go on`);
          const page = parseBody(pageOf(item), body, `GET ${path}`);
          // A service that ignored $skip would hand out page one forever: stop instead of looping.
          const first = page.value.length > 0 ? JSON.stringify(page.value[0]) : undefined;
          if (!followingLink && pages > 1 && first !== undefined && first === previousFirst) {
            throw new Error(`Graph GET ${path}: $skip=${items.length} answered the previous page again`);
          }
          previousFirst = first;
          items.push(...page.value);
          const link = page['@odata.nextLink'];
          followingLink = Boolean(link);
          if (link) url = host.checkOwn(link, `GET ${path}`);
          else url = page.value.length < top ? null : host.url(path, { ...query, $top: top, $skip: items.length });
        },
        result: () => items,
      };
    },
  };
}

/** A $batch answer (Graph's JSON batching): responses in any order, matched by id. */
export const BatchAnswerSchema = z.object({
  responses: z.array(
    z.object({
      id: z.string(),
      status: z.number().int(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
    }),
  ),
});

/** Graph accepts at most 20 requests in one $batch. */
export const MAX_BATCH = 20;
