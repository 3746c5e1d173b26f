import { z } from 'zod';
import { IMPORT_LIMITS } from '../../provisioning/import';
import { previewImport as preview } from '../importFlow';
import type { CardAction } from '../scope';

/**
 * The pasted CSV, bounded a little above the stated limit so that a longer paste gets the limit's
 * own message rather than "malformed data" (the card's maxLength stops it earlier in Teams).
 */
const Data = z.object({ csv: z.string().max(IMPORT_LIMITS.pasteChars + 4_000).default('') });

/** "Check rows" on the import card: every row checked, then the preview (nothing changes yet). */
export const previewImport: CardAction<z.infer<typeof Data>> = {
  verb: 'previewImport',
  requires: 'admin',
  data: Data,
  handle: (scope, data) => preview(scope, data.csv, { kind: 'paste' }),
};
