import { ACCOUNT_REQUESTS, requestByCommand } from '../accountRequests';
import type { Command } from '../scope';

export const licenseCommand: Command = {
  name: 'license',
  requires: 'admin',
  handle: (scope, args) => requestByCommand(scope, 'license', args, ACCOUNT_REQUESTS.license),
};
