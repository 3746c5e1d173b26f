import { z } from 'zod';
import { messageCard } from '../../cards/message';
import { strings } from '../../i18n';
import type { CardAction } from '../scope';

export const cancel: CardAction<Record<string, never>> = {
  verb: 'cancel',
  requires: 'anyone',
  data: z.object({}).transform(() => ({})),
  async handle(scope) {
    return messageCard(strings(scope.locale).errors.cancelled, '', 'default');
  },
};
