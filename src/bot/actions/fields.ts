import { z } from 'zod';

/**
 * A form input as it arrives: a string, absent when empty (Playground omits empty inputs). The bound
 * is well above each domain rule's own limit, so that a too-long value gets the rule's message next
 * to its field, while an absurd payload is refused as malformed.
 */
export const input = (max: number) => z.string().max(max).default('');

/** An object id carried by a card (never identity: that comes from the activity). */
export const id = z.string().min(1).max(100);
