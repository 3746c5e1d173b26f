import { z } from 'zod';
import { describeRefusal } from '../../cards/describe';
import { FINDING_CODES } from '../../provisioning/doctor';
import type { CardAction } from '../scope';
import { doctorReply } from './doctor';
import { id } from './fields';

/** The card names the finding by its code and subject id only; everything else is read afresh. */
const Data = z.object({ code: z.enum(FINDING_CODES), subjectId: id });

/**
 * A finding's Fix button: the fix as a plan to confirm (then approve, by policy), or the doctor's card
 * again with the reason it cannot be planned now (fixed meanwhile, no free seat…).
 */
export const doctorFix: CardAction<z.infer<typeof Data>> = {
  verb: 'doctorFix',
  requires: 'admin',
  data: Data,
  async handle(scope, data) {
    const proposed = await scope.services.provisioning.doctor.proposeFix(scope.actor, data.code, data.subjectId);
    if (!proposed.ok) return doctorReply(scope, 0, describeRefusal(proposed, scope.locale));
    return scope.services.views.plan(proposed.value, scope.locale);
  },
};
