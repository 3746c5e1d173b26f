import type { Activity } from 'botbuilder';
import { z } from 'zod';
import { isLoopbackHost } from '../http/loopback';

/**
 * A file sent to the bot in the personal chat (manifest `supportsFiles`). Teams does not put the file
 * in the activity: it stores it in the sender's OneDrive and sends an attachment of this content type
 * whose `downloadUrl` is pre-authorised and short-lived ("Send and receive files using bot",
 * learn.microsoft.com/microsoftteams/platform/bots/how-to/bots-filesv4). The bot fetches it itself,
 * without any token of its own.
 */
export const FILE_DOWNLOAD_INFO = 'application/vnd.microsoft.teams.file.download.info';

const FileAttachment = z.object({
  contentType: z.literal(FILE_DOWNLOAD_INFO),
  name: z.string().max(1024).optional(),
  content: z.object({
    downloadUrl: z.string().min(1).max(4096),
    fileType: z.string().max(64).optional(),
    uniqueId: z.string().max(256).optional(),
  }),
});
export type FileAttachment = z.infer<typeof FileAttachment>;

/** The file attachments of a message; other attachments (cards, images pasted inline) are not files. */
export function fileAttachments(activity: Partial<Activity>): FileAttachment[] {
  const found: FileAttachment[] = [];
  for (const attachment of activity.attachments ?? []) {
    if ((attachment as { contentType?: unknown }).contentType !== FILE_DOWNLOAD_INFO) continue;
    const parsed = FileAttachment.safeParse(attachment);
    if (parsed.success) found.push(parsed.data);
  }
  return found;
}

/** Whether a file looks like CSV by its name or the type Teams gives. */
export function isCsvFile(file: FileAttachment): boolean {
  const type = (file.content.fileType ?? '').toLowerCase();
  return type === 'csv' || type === 'txt' || /\.(csv|txt)$/i.test(file.name ?? '');
}

export interface DownloadPolicy {
  /** Local mode (no bot authentication): loopback download URLs only, as for service URLs. */
  localMode: boolean;
  maxBytes: number;
  timeoutMs: number;
  /** Redirects followed, each to an address the same rules allow. */
  maxRedirects?: number;
}

export type Download =
  | { ok: true; text: string }
  | { ok: false; why: 'refused' | 'tooBig' | 'status' | 'timeout' | 'network'; detail: string };

/**
 * Where a download link may point: https outside local mode (the link carries its own short-lived
 * authorisation and the file's content; never plain http), a loopback address in local mode (an
 * unauthenticated bot must not be made to fetch from anywhere else). Never a URL with credentials.
 */
export function allowedDownloadUrl(raw: string, localMode: boolean): URL | undefined {
  if (!URL.canParse(raw)) return undefined;
  const url = new URL(raw);
  if (url.username || url.password) return undefined;
  if (localMode) return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.host) ? url : undefined;
  return url.protocol === 'https:' ? url : undefined;
}

/** Reads at most `maxBytes` of the body: a larger file is dropped as soon as it is known to be larger. */
async function readCapped(response: Response, maxBytes: number): Promise<Buffer | undefined> {
  const declared = Number(response.headers.get('content-length') ?? '');
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks, size);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const WINDOWS_1252 = new TextDecoder('windows-1252');

/** UTF-8 (with or without a byte order mark); a file that is not valid UTF-8 is read as Windows-1252, which Excel's plain "CSV" writes. */
export function decodeText(bytes: Buffer): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    return WINDOWS_1252.decode(bytes);
  }
}

/** Fetches a file from Teams' download link, within the policy: size, time, and where it may lead. */
export async function downloadFile(raw: string, policy: DownloadPolicy): Promise<Download> {
  const signal = AbortSignal.timeout(policy.timeoutMs);
  let url = allowedDownloadUrl(raw, policy.localMode);
  if (!url) return { ok: false, why: 'refused', detail: policy.localMode ? 'not a loopback address' : 'not an https address' };
  try {
    for (let hop = 0; ; hop++) {
      const response = await fetch(url, { redirect: 'manual', signal, headers: { accept: 'text/csv, text/plain, */*' } });
      if (response.status >= 300 && response.status < 400 && response.headers.has('location')) {
        await response.body?.cancel().catch(() => undefined);
        const next = new URL(response.headers.get('location')!, url).toString();
        url = allowedDownloadUrl(next, policy.localMode);
        if (!url || hop >= (policy.maxRedirects ?? 3)) return { ok: false, why: 'refused', detail: 'redirected elsewhere' };
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        return { ok: false, why: 'status', detail: `HTTP ${response.status}` };
      }
      const bytes = await readCapped(response, policy.maxBytes);
      if (!bytes) return { ok: false, why: 'tooBig', detail: `over ${policy.maxBytes} bytes` };
      return { ok: true, text: decodeText(bytes) };
    }
  } catch (error) {
    if (signal.aborted) return { ok: false, why: 'timeout', detail: `no file within ${Math.round(policy.timeoutMs / 1000)} s` };
    const code = error && typeof error === 'object' && 'cause' in error ? (error.cause as { code?: unknown } | undefined)?.code : undefined;
    return { ok: false, why: 'network', detail: typeof code === 'string' && /^[A-Z_]{3,32}$/.test(code) ? code : 'network error' };
  }
}
