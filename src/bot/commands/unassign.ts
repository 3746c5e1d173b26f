import { ACCOUNT_REQUESTS, requestByCommand } from '../accountRequests';
import type { Command } from '../scope';

export const unassignCommand: Command = {
  name: 'unassign',
  requires: 'admin',
  handle: (scope, args) => requestByCommand(scope, 'unassign', args, ACCOUNT_REQUESTS.unassign),
};
