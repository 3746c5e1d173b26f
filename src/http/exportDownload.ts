import type { ServerResponse } from 'node:http';
import { AUDIT_CSV_HEADER, auditCsvRow } from '../audit/history';
import { localeOf, strings, type Locale } from '../i18n';
import type { AuditEntry } from '../store/audit';

/** How long a download may make no progress (the client reads nothing) before it is dropped. */
export const EXPORT_IDLE_MS = 60_000;
const CHUNK_CHARS = 64 * 1024;

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The page a GET on an export link answers. Teams unfurls links posted in a chat and other previewers
 * fetch them too: a GET that streamed the CSV would spend the one-time link before the user clicks it.
 * So the GET shows this page and only its form's POST takes the link. It holds no user data (the
 * token is already in the address), runs no script and may only post back to this server.
 */
export function sendExportPage(res: ServerResponse, token: string, acceptLanguage: string | undefined): void {
  const locale = localeOf(acceptLanguage);
  const s = strings(locale).history;
  // Relative, so that it also works behind a reverse proxy that adds a path prefix.
  sendPage(res, 200, locale, s.exportPageText, `<form method="post" action="${token}.csv"><button type="submit">${escapeHtml(s.download)}</button></form>`);
}

/**
 * A link that was used, expired or never was: a person opened it in a browser, so the answer is a page
 * that says what to do, not the JSON error an API client gets.
 */
export function sendExportGone(res: ServerResponse, acceptLanguage: string | undefined): void {
  const locale = localeOf(acceptLanguage);
  sendPage(res, 404, locale, strings(locale).history.exportGoneText);
}

function sendPage(res: ServerResponse, status: number, locale: Locale, text: string, form = ''): void {
  const title = strings(locale).history.exportPageTitle;
  const html = [
    '<!doctype html>',
    `<html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">`,
    `<title>${escapeHtml(title)}</title></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${escapeHtml(text)}</p>`,
    ...(form ? [form] : []),
    '</body></html>',
  ].join('\n');
  // restify patches ServerResponse.writeHead process-wide (stack.md §1): writeHead and end apart.
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; form-action 'self'",
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
  });
  res.end(html);
}

type Stop = 'drain' | 'gone' | 'idle';

/** Waits until the response can take more, the client went away, or nothing moved for `idleMs`. */
function drained(res: ServerResponse, idleMs: number): Promise<Stop> {
  if (res.destroyed) return Promise.resolve('gone');
  return new Promise((resolve) => {
    const done = (why: Stop) => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      res.off('close', onGone);
      res.off('error', onGone);
      resolve(why);
    };
    const onDrain = () => done('drain');
    const onGone = () => done('gone');
    const timer = setTimeout(() => done('idle'), idleMs);
    res.on('drain', onDrain);
    res.on('close', onGone);
    res.on('error', onGone);
  });
}

/**
 * Streams the CSV with back-pressure. Waiting for 'drain' alone never ends when the client has gone
 * (no 'drain' comes after a close), which kept the audit file open for good: the wait also ends on
 * 'close', 'error' or `idleMs` without progress, and leaving the loop returns the generator, whose
 * `finally` closes the file.
 */
export async function streamCsv(res: ServerResponse, entries: AsyncGenerator<AuditEntry>, idleMs = EXPORT_IDLE_MS): Promise<'done' | 'gone' | 'idle'> {
  return streamLines(res, auditLines(entries), idleMs);
}

async function* auditLines(entries: AsyncGenerator<AuditEntry>): AsyncGenerator<string> {
  try {
    yield AUDIT_CSV_HEADER;
    for await (const entry of entries) yield auditCsvRow(entry);
  } finally {
    // Leaving early (the client went away) closes the audit file too.
    await entries.return(undefined);
  }
}

/** Any CSV made line by line (the import exports, src/audit/importExports.ts), streamed the same way. */
export async function streamLines(res: ServerResponse, lines: AsyncGenerator<string>, idleMs = EXPORT_IDLE_MS): Promise<'done' | 'gone' | 'idle'> {
  // A client that goes away is not a fault of ours: an 'error' on the response (a reset socket) must
  // not become an uncaught exception, so it gets a listener that stays for the response's life.
  res.on('error', () => undefined);
  let chunk = '';
  for await (const line of lines) {
    if (res.destroyed) return 'gone';
    chunk += line;
    if (chunk.length > CHUNK_CHARS) {
      const more = res.write(chunk);
      chunk = '';
      if (!more) {
        const why = await drained(res, idleMs);
        if (why !== 'drain') {
          res.destroy();
          return why;
        }
      }
    }
  }
  res.end(chunk);
  return 'done';
}
