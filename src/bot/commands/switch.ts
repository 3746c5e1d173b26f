import { ACCOUNT_REQUESTS, requestByCommand } from '../accountRequests';
import type { Command } from '../scope';

export const switchCommand: Command = {
  name: 'switch',
  requires: 'admin',
  handle: (scope, args) => requestByCommand(scope, 'switch', args, ACCOUNT_REQUESTS.switch),
};
