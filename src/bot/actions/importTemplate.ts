import { z } from 'zod';
import { importFormCard } from '../../cards/importForm';
import { importLink, noUrlCard } from '../importFlow';
import type { CardAction } from '../scope';

/** "Download template" on the import card: the same card, with a one-time link to the template CSV. */
export const importTemplate: CardAction<Record<string, never>> = {
  verb: 'importTemplate',
  requires: 'admin',
  data: z.object({}).transform(() => ({})),
  async handle(scope) {
    const download = await importLink(scope, 'switchboard-import-template.csv', { kind: 'importTemplate' });
    return download ? importFormCard(scope.locale, { download }) : noUrlCard(scope);
  },
};
