import { ACCOUNT_REQUESTS, requestByCommand } from '../accountRequests';
import type { Command } from '../scope';

export const dissociateCommand: Command = {
  name: 'dissociate',
  requires: 'admin',
  handle: (scope, args) => requestByCommand(scope, 'dissociate', args, ACCOUNT_REQUESTS.dissociate),
};
