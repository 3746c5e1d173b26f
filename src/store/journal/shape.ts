/**
 * What the journaled store knows about the document it keeps: which top-level members are keyed
 * collections (an entry per id, replaced one by one) and how to check what it reads back. Everything
 * else at the top level is a "part", small and replaced whole (e.g. the tenant's SKUs).
 */

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/** A plain JSON object: the document, a collection, an entry. */
export type Json = Record<string, unknown>;

export interface DocumentShape {
  /** Top-level members that are collections: objects keyed by id, each entry checked on its own. */
  readonly collections: readonly string[];
  /** One entry as stored under `key` (the parsed value is what the store keeps). */
  entry(collection: string, key: string, value: unknown): Checked<unknown>;
  /** One part, as a journal record holds it. */
  part(name: string, value: unknown): Checked<unknown>;
  /**
   * The parts of a snapshot together (the collections removed). A bad one refuses the whole snapshot:
   * without them there is no document to start from.
   */
  parts(value: Json): Checked<Json>;
}

/** A stored record that could not be used, moved aside instead of blocking start-up (issue 9 item 11). */
export interface Quarantined {
  /** The file it was read from, with its line for a journal. */
  source: string;
  collection?: string;
  key?: string;
  part?: string;
  reason: string;
  /** What was stored: the decoded value, or the raw line when it could not be decoded. */
  value: unknown;
}

export function isJsonObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
