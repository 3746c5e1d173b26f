import { doctorReply } from '../actions/doctor';
import type { Command } from '../scope';

/** "doctor": every resource account checked for known problems, each with its fix where one exists. */
export const doctorCommand: Command = {
  name: 'doctor',
  requires: 'reader',
  handle: (scope) => doctorReply(scope, 0),
};
