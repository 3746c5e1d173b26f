import { z } from 'zod';
import { doctorReportCard } from '../../cards/doctorReport';
import type { CardAction, Reply, TurnScope } from '../scope';

/** The doctor's report, scanned afresh: a page of it, with a notice at the top when there is one. */
export async function doctorReply(scope: TurnScope, offset: number, notice?: string): Promise<Reply> {
  const { diagnosis } = await scope.services.provisioning.doctor.examine();
  return doctorReportCard(diagnosis, scope.locale, { offset, canChange: scope.roles.admin, ...(notice ? { notice } : {}) });
}

const Data = z.object({ offset: z.coerce.number().int().min(0).max(1_000_000).default(0) });

/** Previous / Next / Scan again on the doctor's card. */
export const doctor: CardAction<z.infer<typeof Data>> = {
  verb: 'doctor',
  requires: 'reader',
  data: Data,
  handle: (scope, data) => doctorReply(scope, data.offset),
};
