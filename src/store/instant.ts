import { z } from 'zod';

/**
 * An instant as the stores keep it: ISO 8601 in UTC with milliseconds, the form `toISOString()` writes.
 * Code writes every stored instant that way, and the stores, the outbox and the runner compare and sort
 * them as text (the next message due, a lease still held, a plan past its retention), which orders
 * instants only in that one form. A record edited by hand, or written by another tool, may hold the
 * same instant with an offset or another precision: it is read back in the canonical form. A value
 * that is not an ISO 8601 date-time with a zone names no instant, so its record does not parse and is
 * set aside like any other unusable record (quarantined), rather than run at a guessed time or never.
 */
export const StoredInstant = z.iso.datetime({ offset: true }).transform((text) => new Date(text).toISOString());
