import { register, type RegisteredAction } from '../scope';
import { addAccount } from './addAccount';
import { cancel } from './cancel';
import { listAccounts } from './listAccounts';
import { openAddForm } from './openAddForm';
import { showAccount } from './showAccount';

/** Every card verb the bot answers, registered in one list. */
const registry: RegisteredAction[] = [
  register(addAccount),
  register(openAddForm),
  register(listAccounts),
  register(showAccount),
  register(cancel),
];

export const cardActions: ReadonlyMap<string, RegisteredAction> = new Map(registry.map((a) => [a.verb, a]));
