import { z } from 'zod';
import { associateFormCard } from '../../cards/associateForm';
import { refusalReply } from '../accountRequests';
import { settledPlanReply } from '../planView';
import type { CardAction } from '../scope';
import { id } from './fields';

/** The choice set is required on the card, so an empty pick is a malformed payload, not a form error. */
const AssociateData = z.object({ accountId: id, configurationId: id });

/** Submit of the picker: the service checks type, current association and the voice app, then runs the plan. */
export const associate: CardAction<z.infer<typeof AssociateData>> = {
  verb: 'associate',
  requires: 'admin',
  data: AssociateData,
  async handle(scope, data) {
    const { provisioning } = scope.services;
    const result = await provisioning.associate(scope.actor, data.accountId, data.configurationId);
    if (result.ok) return settledPlanReply(scope.services, result.value, scope.locale);
    const [account, apps] = await Promise.all([provisioning.getAccount(data.accountId), provisioning.listVoiceApplications()]);
    if (!account) return refusalReply(scope, result);
    return associateFormCard(account, apps, scope.locale, { selected: data.configurationId, refusal: result });
  },
};
