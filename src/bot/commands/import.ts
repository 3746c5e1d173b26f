import { importFormCard } from '../../cards/importForm';
import type { Command } from '../scope';

/** "import": the import card (paste CSV into it, or send the CSV file in the chat). */
export const importCommand: Command = {
  name: 'import',
  requires: 'admin',
  async handle(scope) {
    return importFormCard(scope.locale);
  },
};
