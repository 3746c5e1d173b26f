import { showHistory } from '../history';
import type { Command } from '../scope';

/** "history" or "history <username>": the audit log, newest first. */
export const historyCommand: Command = {
  name: 'history',
  requires: 'reader',
  handle: (scope, args) => showHistory(scope, 0, (args.trim().split(/\s+/)[0] ?? '').slice(0, 200)),
};
