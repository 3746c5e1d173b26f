import { z } from 'zod';

/** The form `toISOString()` writes for years 0000–9999: the one form in which text order is time order. */
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * An RFC 3339 date-time (§5.6), with what ISO 8601 and hand edits add: a space or a lower-case `t`
 * between date and time, no seconds, any number of fraction digits (or a comma), a space before the
 * zone, an offset without its colon or its minutes. A zone is required: without one a time names no
 * instant.
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)? ?(?:[Zz]|([+-])(\d{2})(?::?(\d{2}))?)$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

/** The number written in `count` ASCII digits of `text` from `from` (the caller's pattern matched digits there). */
function digits(text: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i += 1) n = n * 10 + text.charCodeAt(i) - 48;
  return n;
}

function validDateTime(year: number, month: number, day: number, hour: number, minute: number, second: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hour <= 23 && minute <= 59 && second <= 60;
}

/**
 * The instant `text` names, as `toISOString()` writes it, or undefined when it names none: not a
 * date-time with a zone, a day the month does not have (`Date.parse` takes 2026-02-30 for 2 March),
 * or an instant outside the years 0000–9999, which `toISOString()` writes in another form.
 */
export function canonicalInstant(text: string): string | undefined {
  // What code writes, read on every load and every PostgreSQL row: checked without allocating.
  if (CANONICAL.test(text)) {
    const second = digits(text, 17, 2);
    if (!validDateTime(digits(text, 0, 4), digits(text, 5, 2), digits(text, 8, 2), digits(text, 11, 2), digits(text, 14, 2), second)) return undefined;
    if (second !== 60) return text;
  }
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (!validDateTime(year, month, day, hour, minute, second)) return undefined;
  const offsetHours = m[9] === undefined ? 0 : Number(m[9]);
  const offsetMinutes = m[10] === undefined ? 0 : Number(m[10]);
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  // RFC 3339 §5.7 allows a leap second; JavaScript's time has none: it is the minute's last millisecond.
  const ms = second === 60 ? 999 : Number(`${m[7] ?? ''}000`.slice(0, 3));
  const at = new Date(0);
  // setUTCFullYear, not Date.UTC, which reads the years 0–99 as 1900–1999.
  at.setUTCFullYear(year, month - 1, day);
  at.setUTCHours(hour, minute, Math.min(second, 59), ms);
  const sign = m[8] === '-' ? -1 : 1;
  const utc = new Date(at.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000).toISOString();
  return CANONICAL.test(utc) ? utc : undefined;
}

/**
 * An instant as the stores keep it: ISO 8601 in UTC with milliseconds, the form `toISOString()` writes.
 * Code writes every stored instant that way, and the lowdb stores and the outbox compare and sort
 * some of them as text (the next message due, a plan or request past its retention, the number
 * operations' order), which orders instants only in that one form. A record edited by hand, or
 * written by another tool, may hold the same instant spelt another way (an offset, no milliseconds,
 * a space for the T): it is read back in the canonical form. A value that names no instant makes its
 * record unusable, like any other bad field, rather than running it at a guessed time or never:
 * lowdb quarantines it; on PostgreSQL the workflow store skips the row and logs why, and a contact
 * row counts as unknown until that user's next activity saves it again.
 */
export const StoredInstant = z.string().transform((text, ctx) => {
  const canonical = canonicalInstant(text);
  if (canonical !== undefined) return canonical;
  ctx.issues.push({ code: 'custom', input: text, message: 'not an instant: an ISO 8601 date-time with Z or an offset is expected, e.g. 2026-11-30T20:00:00.000Z' });
  return z.NEVER;
});
