import { register, type RegisteredAction } from '../scope';
import { addAccount } from './addAccount';
import { cancel } from './cancel';
import { cancelPlan } from './cancelPlan';
import { confirmPlan } from './confirmPlan';
import { listAccounts } from './listAccounts';
import { openAddForm } from './openAddForm';
import { refreshPlan } from './refreshPlan';
import { requestDelete } from './requestDelete';
import { requestDissociate } from './requestDissociate';
import { requestSwitch } from './requestSwitch';
import { requestUnassign } from './requestUnassign';
import { retryPlan } from './retryPlan';
import { showAccount } from './showAccount';

/** Every card verb the bot answers, registered in one list. */
const registry: RegisteredAction[] = [
  register(addAccount),
  register(openAddForm),
  register(listAccounts),
  register(showAccount),
  register(cancel),
  register(confirmPlan),
  register(cancelPlan),
  register(retryPlan),
  register(refreshPlan),
  register(requestDelete),
  register(requestUnassign),
  register(requestSwitch),
  register(requestDissociate),
];

export const cardActions: ReadonlyMap<string, RegisteredAction> = new Map(registry.map((a) => [a.verb, a]));
