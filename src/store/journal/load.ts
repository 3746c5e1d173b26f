import path from 'node:path';
import { SnapshotEmpty, SnapshotInvalid, SnapshotUnreadable } from '../storeFiles';
import { listSegments } from './files';
import { readText } from './fsx';
import type { SegmentHeader } from './segment';
import { isJsonObject, type DocumentShape, type Json, type Quarantined } from './shape';

/**
 * Start-up: the snapshot, then the journal records that came after it, in order. A bad entry, part or
 * record is quarantined and start-up goes on (issue 9 item 11); only a snapshot that cannot be read or
 * decoded as a whole, or whose parts are unusable, stops it — and an empty snapshot of a store that
 * existed before (src/store/storeFiles.ts states the rule).
 */

export { SnapshotEmpty, SnapshotInvalid, SnapshotUnreadable };

/** The snapshot's own bookkeeping, beside the document's members. */
export const META_KEY = '$journal';

export interface SnapshotMeta {
  /** Which journal continues this snapshot (a new id whenever a snapshot starts without one). */
  lineage: string;
  /** The last journal record the snapshot includes: replay skips records up to this one. */
  seq: number;
}

export interface Loaded {
  doc: Json;
  meta: SnapshotMeta | undefined;
  /** The last record applied (the snapshot's when the journal adds nothing). */
  seq: number;
  /** Records applied from the journal. */
  replayed: number;
  snapshotBytes: number;
  quarantined: Quarantined[];
  /** The highest segment number found (0: none). */
  lastSegment: number;
}

function metaOf(value: unknown): SnapshotMeta | undefined {
  if (!isJsonObject(value)) return undefined;
  const { lineage, seq } = value;
  return typeof lineage === 'string' && lineage !== '' && Number.isSafeInteger(seq) && (seq as number) >= 0
    ? { lineage, seq: seq as number }
    : undefined;
}

/** The document of a snapshot text (or of the seed when there is none), checked entry by entry. */
function snapshotDocument(
  file: string,
  raw: Json,
  shape: DocumentShape,
  quarantine: (item: Quarantined) => void,
): Json {
  const parts: Json = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name !== META_KEY && !shape.collections.includes(name)) parts[name] = value;
  }
  const checked = shape.parts(parts);
  if (!checked.ok) throw new SnapshotInvalid(file, checked.reason);
  const doc: Json = { ...checked.value };
  const source = path.basename(file);
  for (const collection of shape.collections) {
    const entries = raw[collection] ?? {};
    if (!isJsonObject(entries)) throw new SnapshotInvalid(file, `${collection} is not an object keyed by id`);
    const kept: Json = {};
    for (const [key, value] of Object.entries(entries)) {
      const entry = shape.entry(collection, key, value);
      if (entry.ok) kept[key] = entry.value;
      else quarantine({ source, collection, key, reason: entry.reason, value });
    }
    doc[collection] = kept;
  }
  return doc;
}

async function readSnapshot(
  file: string,
  shape: DocumentShape,
  makeDefault: () => Json,
  quarantine: (item: Quarantined) => void,
  usedBefore: string | undefined,
): Promise<{ doc: Json; meta: SnapshotMeta | undefined; bytes: number }> {
  let text: string | undefined;
  try {
    text = await readText(file);
  } catch (error) {
    throw new SnapshotUnreadable(file, String(error));
  }
  // No file: a new document. An empty one (e.g. from `touch`) too, but only on the first start.
  if (text !== undefined && text.trim() === '' && usedBefore) throw new SnapshotEmpty(file, usedBefore);
  if (text === undefined || text.trim() === '') {
    return { doc: snapshotDocument(file, makeDefault(), shape, quarantine), meta: undefined, bytes: 0 };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new SnapshotUnreadable(file, String(error));
  }
  if (!isJsonObject(raw)) throw new SnapshotInvalid(file, 'not a JSON object');
  return { doc: snapshotDocument(file, raw, shape, quarantine), meta: metaOf(raw[META_KEY]), bytes: Buffer.byteLength(text) };
}

function headerOf(line: string): SegmentHeader | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (isJsonObject(value) && typeof value.journal === 'string' && Number.isSafeInteger(value.segment)) {
      return { journal: value.journal, segment: value.segment as number };
    }
  } catch {
    // not a header
  }
  return undefined;
}

interface JournalRecord {
  seq: number;
  entries: Record<string, Json>;
  parts: Json;
}

function recordOf(line: string): JournalRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'undecodable line';
  }
  if (!isJsonObject(value) || !Number.isSafeInteger(value.seq) || (value.seq as number) < 1) return 'not a journal record (no seq)';
  const entries = value.entries ?? {};
  const parts = value.parts ?? {};
  if (!isJsonObject(entries) || !Object.values(entries).every(isJsonObject) || !isJsonObject(parts)) {
    return 'not a journal record (entries or parts malformed)';
  }
  return { seq: value.seq as number, entries: entries as Record<string, Json>, parts };
}

/** Applies one record's post-images; a bad one is quarantined and the rest of the record still applies. */
function apply(doc: Json, record: JournalRecord, shape: DocumentShape, source: string, quarantine: (item: Quarantined) => void): void {
  for (const [collection, entries] of Object.entries(record.entries)) {
    if (!shape.collections.includes(collection)) {
      quarantine({ source, collection, reason: 'not a collection of this document', value: entries });
      continue;
    }
    const target = doc[collection] as Json;
    for (const [key, value] of Object.entries(entries)) {
      if (value === null) {
        delete target[key];
        continue;
      }
      const entry = shape.entry(collection, key, value);
      if (entry.ok) target[key] = entry.value;
      else quarantine({ source, collection, key, reason: entry.reason, value });
    }
  }
  for (const [name, value] of Object.entries(record.parts)) {
    const part = name === META_KEY || shape.collections.includes(name) ? undefined : shape.part(name, value);
    if (part?.ok) doc[name] = part.value;
    else quarantine({ source, part: name, reason: part ? part.reason : 'not a part of this document', value });
  }
}

/**
 * Reads the snapshot and replays the journal after it. Reads only: nothing is written here.
 * `usedBefore` says why the caller knows the store existed before (another file of its folder holds
 * data); the store's own journal segments say so too. Either makes an empty snapshot a refusal.
 */
export async function load(file: string, shape: DocumentShape, makeDefault: () => Json, usedBefore?: string): Promise<Loaded> {
  const quarantined: Quarantined[] = [];
  const quarantine = (item: Quarantined): void => void quarantined.push(item);
  // Every open creates a segment before anything is acknowledged, and compaction creates the next one
  // before it deletes the older: a store that ever started has one beside its snapshot.
  const segments = await listSegments(file);
  const evidence = segments.length > 0 ? `${path.basename(segments[0]!.file)} exists` : usedBefore;
  const snapshot = await readSnapshot(file, shape, makeDefault, quarantine, evidence);
  const { doc, meta } = snapshot;
  let seq = meta?.seq ?? 0;
  let replayed = 0;

  for (const { file: segmentPath } of segments) {
    const source = path.basename(segmentPath);
    let text: string;
    try {
      text = (await readText(segmentPath)) ?? '';
    } catch (error) {
      throw new SnapshotUnreadable(segmentPath, String(error));
    }
    const lines = text.split('\n');
    // The text after the last newline is a line whose append never finished (or nothing).
    const complete = lines.length - 1;
    const header = headerOf(lines[0] ?? '');
    const records = lines.slice(1).map((line, i) => ({ line, at: `${source}:${i + 2}`, torn: i + 1 >= complete }));
    if (!header) {
      // A segment is created with its header synced before any record goes in: without a header,
      // nothing in it was ever acknowledged.
      for (const r of records) if (r.line.trim()) quarantine({ source: r.at, reason: 'journal segment without a header', value: r.line });
      continue;
    }
    if (!meta || header.journal !== meta.lineage) {
      // Left from another snapshot (e.g. tenant.json was replaced or deleted by hand): not ours to apply.
      for (const r of records) {
        if (r.line.trim()) quarantine({ source: r.at, reason: `journal of another snapshot (${header.journal})`, value: r.line });
      }
      continue;
    }
    for (const { line, at, torn } of records) {
      if (!line.trim()) continue;
      const record = recordOf(line);
      if (typeof record === 'string') {
        // A torn last line is an append cut short by a crash: it was never acknowledged.
        const reason = torn ? `torn last line (an append that never completed): ${record}` : record;
        quarantine({ source: at, reason, value: line });
        continue;
      }
      if (record.seq <= meta.seq) continue; // already in the snapshot
      if (record.seq <= seq) {
        quarantine({ source: at, reason: `record ${record.seq} comes after record ${seq}`, value: line });
        continue;
      }
      if (record.seq > seq + 1) {
        quarantine({ source: at, reason: `records ${seq + 1}–${record.seq - 1} are missing before this one`, value: null });
      }
      apply(doc, record, shape, at, quarantine);
      seq = record.seq;
      replayed += 1;
    }
  }
  const lastSegment = segments.length > 0 ? segments[segments.length - 1]!.segment : 0;
  return { doc, meta, seq, replayed, snapshotBytes: snapshot.bytes, quarantined, lastSegment };
}
