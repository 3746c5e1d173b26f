import path from 'node:path';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
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
 * The audit log is append-only JSON lines, kept outside the lowdb documents: lowdb rewrites its whole
 * file on every write, which is neither append-only nor cheap at 100k entries (stack.md §3).
 * Appends are serialized in-process so lines never interleave.
 */
export class AuditLog {
  private tail: Promise<void> = Promise.resolve();
  private ready: Promise<void> | undefined;

  constructor(
    readonly file: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  append(entry: NewAuditEntry): Promise<AuditEntry> {
    const full: AuditEntry = { id: randomUUID(), at: this.now().toISOString(), ...entry };
    const line = JSON.stringify(full) + '\n';
    this.ready ??= mkdir(path.dirname(this.file), { recursive: true }).then(() => undefined);
    const write = this.tail.then(() => this.ready).then(() => appendFile(this.file, line, 'utf8'));
    this.tail = write.catch(() => undefined);
    return write.then(() => full);
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
      if (!line.trim()) continue;
      try {
        const parsed = AuditEntrySchema.safeParse(JSON.parse(line));
        if (parsed.success) entries.push(parsed.data);
      } catch {
        // torn line: skip
      }
    }
    return entries;
  }

  async flush(): Promise<void> {
    await this.tail;
  }
}
