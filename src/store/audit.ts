import path from 'node:path';
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { appendFile, mkdir, open, readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

export const AuditEntrySchema = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.object({ aadObjectId: z.string(), name: z.string() }),
  /** What was attempted, e.g. "account.create", "license.assign". */
  action: z.string(),
  /** The account (UPN) or other object concerned. */
  target: z.string(),
  outcome: z.enum(['requested', 'succeeded', 'refused', 'failed']),
  reason: z.string().optional(),
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  requestId: z.string().optional(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'>;

/**
 * A refusal's message values, kept in an entry's detail beside its reason code ("param.number"; "param.1.value" for the second of several codes), so
 * that history can say the reason in words later, in the reader's language (src/audit/sentences.ts).
 * Values are bounded: they come from users and the tenant.
 */
export function reasonDetail(params: Record<string, string | number>, index?: number): Record<string, string | number> {
  const detail: Record<string, string | number> = {};
  const prefix = index === undefined ? 'param.' : `param.${index}.`;
  for (const [key, value] of Object.entries(params).slice(0, 12)) detail[`${prefix}${key.slice(0, 40)}`] = typeof value === 'string' ? value.slice(0, 200) : value;
  return detail;
}

/** Which entries a page or a count is about; all of them when empty. */
export interface AuditFilter {
  /** Only the entries about this target (e.g. a UPN), compared case-insensitively. */
  target?: string;
  /**
   * Only the entries about one account: a full UPN, or a username alone (that username in any
   * domain, deleted accounts too). Every store implements it (a database as an indexed query).
   */
  account?: string;
  /** Only the entries this accepts (e.g. "this username in any domain"). */
  match?: (entry: AuditEntry) => boolean;
  /**
   * A speed-up for `match`: text (case-insensitive) that every line it accepts contains, so that
   * other lines are skipped without being parsed. Implied by `target`.
   */
  contains?: string;
}

export interface AuditPageQuery extends AuditFilter {
  /** How many (matching) entries to skip, newest first. */
  offset?: number;
  limit: number;
}

export interface AuditPage {
  /** Newest first. */
  items: AuditEntry[];
  offset: number;
  limit: number;
  /** Older matching entries exist beyond this page. */
  hasMore: boolean;
}

/** The file is read from its end in chunks: 64 KiB first (a newest page), doubling up to 1 MiB (long scans). */
const FIRST_CHUNK_BYTES = 64 * 1024;
const MAX_CHUNK_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

function parseLine(line: string): AuditEntry | undefined {
  if (!line.trim()) return undefined;
  try {
    const parsed = AuditEntrySchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // torn line
  }
}

interface Acceptor {
  /** The entry on this line if it is one the filter wants. */
  accepts: (line: string) => AuditEntry | undefined;
  /** Lines without a match cannot be wanted: they are skipped without being decoded one by one. */
  prefilter?: RegExp;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Entries about one account: by full UPN, or by username alone in any domain. */
export function matchesAccount(entry: AuditEntry, username: string): boolean {
  const wanted = username.trim().toLowerCase();
  const target = entry.target.toLowerCase();
  return wanted.includes('@') ? target === wanted : target.split('@')[0] === wanted && target.includes('@');
}

function acceptor(given: AuditFilter): Acceptor {
  const account = given.account?.trim();
  const filter: AuditFilter = account
    ? {
        ...given,
        match: (e) => matchesAccount(e, account) && (!given.match || given.match(e)),
        contains: given.contains ?? account.toLowerCase(),
      }
    : given;
  const target = filter.target?.toLowerCase();
  // JSON.stringify escapes only quotes, backslashes and control characters: the target's text as it
  // appears in a line, so that most lines are skipped without being parsed.
  const needles = [target === undefined ? undefined : JSON.stringify(target).slice(1, -1), filter.contains?.toLowerCase()].filter(
    (n): n is string => n !== undefined && n !== '',
  );
  // A case-insensitive search over a whole chunk finds the candidate lines; for ASCII text only,
  // where it agrees with toLowerCase() (the check below still decides).
  const ascii = needles.find((n) => /^[\x20-\x7e]+$/.test(n));
  return {
    ...(ascii ? { prefilter: new RegExp(escapeRegExp(ascii), 'giu') } : {}),
    accepts: (line) => {
      if (needles.length > 0) {
        const lower = line.toLowerCase();
        if (!needles.every((n) => lower.includes(n))) return undefined;
      }
      const entry = parseLine(line);
      if (!entry) return undefined;
      if (target !== undefined && entry.target.toLowerCase() !== target) return undefined;
      if (filter.match && !filter.match(entry)) return undefined;
      return entry;
    },
  };
}

/**
 * Calls `visit` with the lines of `text` (complete lines), last first, until it returns false; with
 * a prefilter, only the lines it matches. Returns false when `visit` asked to stop.
 */
function visitLines(text: string, visit: (line: string) => boolean, prefilter?: RegExp): boolean {
  if (prefilter) {
    const lines: [number, number][] = [];
    prefilter.lastIndex = 0;
    // Bounded: each match moves lastIndex past the end of its line.
    for (let match = prefilter.exec(text); match !== null; match = prefilter.exec(text)) {
      const start = text.lastIndexOf('\n', match.index) + 1;
      const newline = text.indexOf('\n', match.index);
      const end = newline < 0 ? text.length : newline;
      lines.push([start, end]);
      prefilter.lastIndex = end + 1;
    }
    for (let i = lines.length - 1; i >= 0; i--) if (!visit(text.slice(lines[i]![0], lines[i]![1]))) return false;
    return true;
  }
  let end = text.length;
  // Bounded: `end` moves back by at least one character each time.
  while (end > 0) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    if (start < end && !visit(text.slice(start, end))) return false;
    end = start - 1;
  }
  return true;
}

/**
 * What reads and appends the audit log: JSON lines in a file by default, a table when several
 * instances share PostgreSQL. Entries that record a change are written with the change, by the
 * workflow store; append() is for the rest (refusals, which change nothing).
 */
export interface AuditStore {
  append(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Every entry, oldest first (tests, small logs). */
  readAll(): Promise<AuditEntry[]>;
  /** Every wanted entry, oldest first, streamed: memory stays flat however long the log is. */
  entries(filter?: AuditFilter): AsyncGenerator<AuditEntry>;
  /** One page, newest first. */
  page(query: AuditPageQuery): Promise<AuditPage>;
  count(filter?: AuditFilter): Promise<number>;
  flush(): Promise<void>;
}

/**
 * The audit log is append-only JSON lines, kept outside the lowdb documents: lowdb rewrites its whole
 * file on every write, which is neither append-only nor cheap at 100k entries (stack.md §3).
 * Appends are serialized in-process so lines never interleave. Reading a page walks the file
 * backwards from its end, so the newest entries cost the same at 100 or 100,000 entries.
 */
/** Enough to cover every entry a workflow store can have queued between two drains. */
const WRITTEN_IDS_KEPT = 50_000;

export class AuditLog implements AuditStore {
  private tail: Promise<void> = Promise.resolve();
  private ready: Promise<void> | undefined;
  /** The file ended without a newline (a crash mid-append): the next line starts on a line of its own. */
  private tornEnd = false;
  /** Entries in the file, once count() has counted them; kept up to date by append(). */
  private counted: number | undefined;
  /**
   * Ids this process wrote, newest last (bounded): the workflow store hands a committed entry over
   * once on the fast path and again from a drain after a failed write may have put it back in its
   * queue; whichever comes second must not make a second line. Checked inside the serialized append,
   * so two hand-overs racing cannot both pass.
   */
  private readonly written = new Set<string>();

  constructor(
    readonly file: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Stamps an entry with its id and time (the workflow store stamps entries inside its transaction). */
  entryOf(entry: NewAuditEntry): AuditEntry {
    return { id: randomUUID(), at: this.now().toISOString(), ...entry };
  }

  append(entry: NewAuditEntry): Promise<AuditEntry> {
    const full = this.entryOf(entry);
    return this.appendEntries([full]).then(() => full);
  }

  /**
   * Appends entries already stamped, in one write, after those appended before. A failed write (disk
   * full) may leave a torn line: the file's end is looked at again before the next append.
   */
  appendEntries(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return this.tail;
    this.ready ??= this.prepare();
    const write = this.tail
      .then(() => this.ready)
      .then(async () => {
        const fresh = entries.filter((e) => !this.written.has(e.id));
        if (fresh.length === 0) return;
        const lines = fresh.map((e) => JSON.stringify(e) + '\n').join('');
        // Without this, the torn line and the new one would make one unreadable line together.
        await appendFile(this.file, this.tornEnd ? `\n${lines}` : lines, 'utf8');
        this.tornEnd = false;
        if (this.counted !== undefined) this.counted += fresh.length;
        for (const entry of fresh) this.written.add(entry.id);
        for (const id of this.written) {
          if (this.written.size <= WRITTEN_IDS_KEPT) break;
          this.written.delete(id);
        }
      });
    this.tail = write.catch(() => {
      this.ready = undefined;
      this.counted = undefined;
    });
    return write;
  }

  /**
   * The ids of the newest entries (up to `lines` lines from the end): which of the entries a crash
   * may have left unwritten are already in the file.
   */
  async recentIds(lines: number): Promise<Set<string>> {
    await this.tail;
    const ids = new Set<string>();
    let seen = 0;
    await this.eachLineFromEnd((line) => {
      const id = /^\{"id":"([^"]{1,64})"/.exec(line)?.[1] ?? parseLine(line)?.id;
      if (id) ids.add(id);
      seen += 1;
      return seen < lines;
    });
    return ids;
  }

  /** Entries oldest first; a torn last line (crash mid-append) is skipped. */
  async readAll(): Promise<AuditEntry[]> {
    await this.tail;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const entries: AuditEntry[] = [];
    for (const line of text.split('\n')) {
      const entry = parseLine(line);
      if (entry) entries.push(entry);
    }
    return entries;
  }

  /**
   * Every wanted entry, oldest first, read line by line: memory stays flat however long the log is
   * (a history export of 100,000 entries streams instead of loading them all).
   */
  async *entries(filter: AuditFilter = {}): AsyncGenerator<AuditEntry> {
    await this.tail;
    const { accepts } = acceptor(filter);
    let input;
    try {
      input = createReadStream(this.file, { encoding: 'utf8' });
      await once(input, 'open');
    } catch (e) {
      input?.destroy();
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    const lines = createInterface({ input, crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        const entry = accepts(line);
        if (entry) yield entry;
      }
    } finally {
      lines.close();
      input.destroy();
    }
  }

  /**
   * One page of entries, newest first, read from the end of the file: the cost grows with
   * offset + limit (and, with a target, with how far back its entries lie), not with the log's size.
   */
  async page(query: AuditPageQuery): Promise<AuditPage> {
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    const limit = Math.max(0, Math.floor(query.limit));
    const { accepts, prefilter } = acceptor(query);
    const items: AuditEntry[] = [];
    let skipped = 0;
    let hasMore = false;
    await this.tail;
    await this.eachLineFromEnd((line) => {
      const entry = accepts(line);
      if (!entry) return true;
      if (skipped < offset) {
        skipped += 1;
        return true;
      }
      if (items.length < limit) {
        items.push(entry);
        return true;
      }
      hasMore = true;
      return false;
    }, prefilter);
    return { items, offset, limit, hasMore };
  }

  /**
   * How many entries the log holds. Unfiltered, the first call reads the file once (complete lines
   * that look like entries; a line torn by a crash is not counted) and appends keep the count from
   * then on. With a filter, every call reads the whole file (parsing only the lines that contain
   * the target or `contains` text).
   */
  async count(filter: AuditFilter = {}): Promise<number> {
    if (filter.target !== undefined || filter.match || filter.contains !== undefined || filter.account) {
      await this.tail;
      const { accepts, prefilter } = acceptor(filter);
      let n = 0;
      await this.eachLineFromEnd((line) => {
        if (accepts(line)) n += 1;
        return true;
      }, prefilter);
      return n;
    }
    const counting = this.tail.then(async () => {
      if (this.counted !== undefined) return this.counted;
      let n = 0;
      await this.eachLineFromEnd((line) => {
        const trimmed = line.trim();
        if (trimmed.startsWith('{') && trimmed.endsWith('}')) n += 1;
        return true;
      });
      this.counted = n;
      return n;
    });
    this.tail = counting.then(
      () => undefined,
      () => undefined,
    );
    return counting;
  }

  async flush(): Promise<void> {
    await this.tail;
  }

  private async prepare(): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const handle = await open(this.file, 'r').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (!handle) return;
    try {
      const { size } = await handle.stat();
      if (size === 0) return;
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      this.tornEnd = last[0] !== NEWLINE;
    } finally {
      await handle.close();
    }
  }

  /**
   * Calls `visit` with each line of the file (as it was when the call started), last line first,
   * until `visit` returns false; with a prefilter, only the lines it matches. The file is read
   * backwards in chunks, each cut at its first newline byte (which never occurs inside a multi-byte
   * UTF-8 character) and decoded once.
   */
  private async eachLineFromEnd(visit: (line: string) => boolean, prefilter?: RegExp): Promise<void> {
    const handle = await open(this.file, 'r').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (!handle) return;
    try {
      let position = (await handle.stat()).size;
      // The start of the line that continues into the chunk read before (a later part of the file).
      let carry: Buffer = Buffer.alloc(0);
      let chunkBytes = FIRST_CHUNK_BYTES;
      // Bounded by the file's size: each pass moves `position` back by up to one chunk.
      while (position > 0) {
        const length = Math.min(chunkBytes, position);
        chunkBytes = Math.min(MAX_CHUNK_BYTES, chunkBytes * 2);
        position -= length;
        const chunk = Buffer.allocUnsafe(length);
        let read = 0;
        while (read < length) {
          const { bytesRead } = await handle.read(chunk, read, length - read, position + read);
          if (bytesRead === 0) break;
          read += bytesRead;
        }
        const buffer = carry.length > 0 ? Buffer.concat([chunk.subarray(0, read), carry]) : chunk.subarray(0, read);
        let from = 0;
        if (position > 0) {
          // Everything before the first newline belongs to a line that starts in an earlier chunk.
          const cut = buffer.indexOf(NEWLINE);
          if (cut < 0) {
            carry = Buffer.from(buffer);
            continue;
          }
          carry = Buffer.from(buffer.subarray(0, cut));
          from = cut + 1;
        }
        if (!visitLines(buffer.toString('utf8', from), visit, prefilter)) return;
      }
    } finally {
      await handle.close();
    }
  }
}
