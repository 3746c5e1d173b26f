import { listAccounts } from '../actions/listAccounts';
import type { Command } from '../scope';

/** "list" or "list <text>": the same page the list card's buttons show. */
export const list: Command = {
  name: 'list',
  requires: 'reader',
  async handle(scope, args) {
    const text = args.trim().slice(0, 200);
    return listAccounts.handle(scope, { offset: 0, ...(text ? { text } : {}) });
  },
};
