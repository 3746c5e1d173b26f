import { register, type RegisteredAction } from '../scope';
import { addAccount } from './addAccount';
import { exportHistory } from './exportHistory';
import { historyPage } from './historyPage';
import { approveRequest } from './approveRequest';
import { cancelRequest } from './cancelRequest';
import { refreshRequest } from './refreshRequest';
import { rejectRequest } from './rejectRequest';
import { associate } from './associate';
import { cancel } from './cancel';
import { cancelPlan } from './cancelPlan';
import { chooseNumberType } from './chooseNumberType';
import { confirmPlan } from './confirmPlan';
import { editAccount } from './editAccount';
import { listAccounts } from './listAccounts';
import { openAddForm } from './openAddForm';
import { openAssociate } from './openAssociate';
import { openEditForm } from './openEditForm';
import { pickNumber } from './pickNumber';
import { refreshPlan } from './refreshPlan';
import { requestDelete } from './requestDelete';
import { requestDissociate } from './requestDissociate';
import { requestLicense } from './requestLicense';
import { requestSwitch } from './requestSwitch';
import { requestUnassign } from './requestUnassign';
import { retryPlan } from './retryPlan';
import { searchNumbers } from './searchNumbers';
import { showAccount } from './showAccount';
import { startNumber } from './startNumber';
import { previewImport } from './previewImport';
import { importTemplate } from './importTemplate';
import { downloadImportRows } from './downloadImportRows';
import { doctor } from './doctor';
import { doctorFix } from './doctorFix';

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
  register(requestLicense),
  register(requestDissociate),
  register(approveRequest),
  register(rejectRequest),
  register(cancelRequest),
  register(refreshRequest),
  register(historyPage),
  register(exportHistory),
  register(startNumber),
  register(chooseNumberType),
  register(searchNumbers),
  register(pickNumber),
  register(openEditForm),
  register(editAccount),
  register(openAssociate),
  register(associate),
  register(previewImport),
  register(importTemplate),
  register(downloadImportRows),
  register(doctor),
  register(doctorFix),
];

export const cardActions: ReadonlyMap<string, RegisteredAction> = new Map(registry.map((a) => [a.verb, a]));
