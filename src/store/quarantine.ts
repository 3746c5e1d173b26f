import { appendFile } from 'node:fs/promises';
import type { z } from 'zod';

export interface QuarantinedRecord {
  /** The store file the record came from. */
  file: string;
  collection: string;
  key: string;
  /** Why it was set aside (the schema's first problems). */
  problems: string;
}

export type QuarantineListener = (record: QuarantinedRecord) => void;

/**
 * A stored record that no longer parses (hand-edited file, older bug, disk trouble) is moved to
 * `<file>.quarantine.jsonl` with the reason, and start-up goes on without it: one bad record never
 * blocks the bot, and nothing is silently dropped (issue 9 item 11).
 */
export class Quarantine {
  private readonly found: QuarantinedRecord[] = [];

  constructor(
    private readonly file: string,
    private readonly onRecord: QuarantineListener = () => undefined,
  ) {}

  /** Parses each entry of a collection; the good ones are returned, the bad ones set aside. */
  async sift<T>(collection: string, entries: Record<string, unknown>, schema: z.ZodType<T>, keyOf?: (value: T) => string): Promise<Record<string, T>> {
    const kept: Record<string, T> = {};
    for (const [key, value] of Object.entries(entries)) {
      const parsed = schema.safeParse(value);
      if (parsed.success && (!keyOf || keyOf(parsed.data) === key)) {
        kept[key] = parsed.data;
        continue;
      }
      const problems = parsed.success
        ? 'key does not match the record it holds'
        : parsed.error.issues
            .slice(0, 3)
            .map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`)
            .join('; ');
      await this.setAside(collection, key, problems, value);
    }
    return kept;
  }

  /** Records set aside so far. */
  get records(): readonly QuarantinedRecord[] {
    return this.found;
  }

  async setAside(collection: string, key: string, problems: string, value: unknown): Promise<void> {
    const record: QuarantinedRecord = { file: this.file, collection, key: key.slice(0, 200), problems: problems.slice(0, 500) };
    const line = JSON.stringify({ at: new Date().toISOString(), ...record, value }) + '\n';
    await appendFile(`${this.file}.quarantine.jsonl`, line, { encoding: 'utf8', mode: 0o600 });
    this.found.push(record);
    this.onRecord(record);
  }
}
