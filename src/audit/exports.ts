import { createHash, randomBytes } from 'node:crypto';

/**
 * What a link downloads: the audit history (links of earlier versions have no kind), every resource
 * account in the import format, the import template, or the rows of an import batch that were not
 * imported (issue 12).
 */
export type ExportKind = 'history' | 'accounts' | 'importTemplate' | 'importRows';

/** What a link hands out: whose history ('' for everything) and the file name; the CSV is streamed on download. */
export interface ExportGrant {
  username: string;
  fileName: string;
  kind?: ExportKind;
  /** importRows: the batch plan's id. */
  subject?: string;
  /** The language of the reasons written in the file. */
  locale?: 'en' | 'fr';
}

/**
 * Where one-time export links are kept. Tokens are stored hashed (SHA-256): the store never holds a
 * usable link. `take` hands a grant out once, atomically, so two clicks (or two instances) cannot both
 * download it.
 */
export interface ExportTokenStore {
  put(tokenHash: string, grant: ExportGrant, expiresAt: Date): Promise<void>;
  has(tokenHash: string, at: Date): Promise<boolean>;
  take(tokenHash: string, at: Date): Promise<ExportGrant | undefined>;
}

/** One process: links live in memory (a restart voids them — they last ten minutes anyway). */
export class MemoryExportTokens implements ExportTokenStore {
  private readonly pending = new Map<string, ExportGrant & { expiresAt: number }>();

  async put(tokenHash: string, grant: ExportGrant, expiresAt: Date): Promise<void> {
    this.pending.set(tokenHash, { ...grant, expiresAt: expiresAt.getTime() });
  }

  async has(tokenHash: string, at: Date): Promise<boolean> {
    this.sweep(at);
    return this.pending.has(tokenHash);
  }

  async take(tokenHash: string, at: Date): Promise<ExportGrant | undefined> {
    this.sweep(at);
    const found = this.pending.get(tokenHash);
    if (!found) return undefined;
    this.pending.delete(tokenHash);
    const { expiresAt: _expiresAt, ...grant } = found;
    return grant;
  }

  private sweep(at: Date): void {
    for (const [token, pending] of this.pending) if (pending.expiresAt <= at.getTime()) this.pending.delete(token);
  }
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * One-time download links for history exports. A bot cannot hand a file to a personal chat without
 * the file-consent flow, so the card carries a link instead: 128 random bits, valid for a few
 * minutes, usable once, created only for admins and approvers.
 */
export class ExportLinks {
  private baseUrl = '';

  constructor(
    private readonly store: ExportTokenStore = new MemoryExportTokens(),
    private readonly ttlMs = 10 * 60_000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Where the server is reachable, known once it listens (or from SWITCHBOARD_PUBLIC_URL). */
  setBaseUrl(url: string): void {
    this.baseUrl = url.replace(/\/+$/, '');
  }

  async create(username: string, fileName: string, more: Pick<ExportGrant, 'kind' | 'subject' | 'locale'> = {}): Promise<{ url: string; expiresAt: Date }> {
    const token = randomBytes(16).toString('hex');
    const expiresAt = new Date(this.now() + this.ttlMs);
    await this.store.put(hash(token), { username, fileName, ...more }, expiresAt);
    return { url: `${this.baseUrl}/exports/${token}.csv`, expiresAt };
  }

  /**
   * Whether the link is still good, without using it up: a link previewer (Teams unfurls links in
   * chat) opens the link with a GET, and only the user's own click on the page may take it.
   */
  has(token: string): Promise<boolean> {
    return this.store.has(hash(token), new Date(this.now()));
  }

  /** Hands the export out once; an unknown, used or expired token gets nothing. */
  take(token: string): Promise<ExportGrant | undefined> {
    return this.store.take(hash(token), new Date(this.now()));
  }
}
