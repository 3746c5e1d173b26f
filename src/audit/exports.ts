import { randomBytes } from 'node:crypto';

interface PendingExport {
  /** Whose history: a username, or '' for everything. The CSV is streamed from the log on download. */
  username: string;
  fileName: string;
  expiresAt: number;
}

/**
 * One-time download links for history exports. A bot cannot hand a file to a personal chat without
 * the file-consent flow, so the card carries a link instead: 128 random bits, valid for a few
 * minutes, usable once, created only for admins and approvers. Kept in memory: a restart voids them.
 */
export class ExportLinks {
  private readonly pending = new Map<string, PendingExport>();
  private baseUrl = '';

  constructor(
    private readonly ttlMs = 10 * 60_000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Where the server is reachable, known once it listens (or from SWITCHBOARD_PUBLIC_URL). */
  setBaseUrl(url: string): void {
    this.baseUrl = url.replace(/\/+$/, '');
  }

  create(username: string, fileName: string): { url: string; expiresAt: Date } {
    this.sweep();
    const token = randomBytes(16).toString('hex');
    const expiresAt = this.now() + this.ttlMs;
    this.pending.set(token, { username, fileName, expiresAt });
    return { url: `${this.baseUrl}/exports/${token}.csv`, expiresAt: new Date(expiresAt) };
  }

  /**
   * Whether the link is still good, without using it up: a link previewer (Teams unfurls links in
   * chat) opens the link with a GET, and only the user's own click on the page may take it.
   */
  has(token: string): boolean {
    this.sweep();
    return this.pending.has(token);
  }

  /** Hands the export out once; an unknown, used or expired token gets nothing. */
  take(token: string): { username: string; fileName: string } | undefined {
    this.sweep();
    const found = this.pending.get(token);
    if (!found) return undefined;
    this.pending.delete(token);
    return { username: found.username, fileName: found.fileName };
  }

  private sweep(): void {
    const at = this.now();
    for (const [token, pending] of this.pending) if (pending.expiresAt <= at) this.pending.delete(token);
  }
}
