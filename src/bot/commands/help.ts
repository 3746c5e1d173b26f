import { helpCard } from '../../cards/help';
import type { Command } from '../scope';

export const help: Command = {
  name: 'help',
  requires: 'anyone',
  async handle(scope) {
    return helpCard(scope.locale, scope.roles, scope.actor.aadObjectId);
  },
};
