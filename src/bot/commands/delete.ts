import { ACCOUNT_REQUESTS, requestByCommand } from '../accountRequests';
import type { Command } from '../scope';

export const deleteCommand: Command = {
  name: 'delete',
  requires: 'admin',
  handle: (scope, args) => requestByCommand(scope, 'delete', args, ACCOUNT_REQUESTS.delete),
};
