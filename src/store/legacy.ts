import { randomUUID } from 'node:crypto';
import { readFile, rename } from 'node:fs/promises';
import { z } from 'zod';
import { ConversationRefSchema, type CardCopy } from '../approvals/copies';
import { ChangeRequestSchema } from '../approvals/requests';
import { PlanSchema, PlanStatusSchema } from '../provisioning/plans';
import type { WorkflowDocument } from './lowdbWorkflow';
import type { Quarantine } from './quarantine';

/** plans.json and requests.json of the first layout, before plans and requests shared one transaction. */
export interface LegacyFiles {
  plans: string;
  requests: string;
}

const LegacyCardRef = z.object({
  conversation: z.record(z.string(), z.unknown()),
  activityId: z.string().optional(),
  locale: z.enum(['en', 'fr']),
  shownStatus: PlanStatusSchema.optional(),
});

/** A bad card reference (e.g. a non-string replyToId saved by the first version) costs the card, not the plan. */
const LegacyPlan = PlanSchema.extend({ card: z.unknown().optional() });

const LegacySentCard = z.object({
  audience: z.enum(['approver', 'channel', 'requester']),
  aadObjectId: z.string().nullable(),
  name: z.string().default(''),
  conversation: z.record(z.string(), z.unknown()),
  activityId: z.string(),
  locale: z.enum(['en', 'fr']),
});

const LegacyRequest = ChangeRequestSchema.omit({ proposedBy: true }).extend({
  proposedBy: ChangeRequestSchema.shape.proposedBy.optional(),
  cards: z.array(LegacySentCard).default([]),
});

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    const text = await readFile(file, 'utf8');
    return text.trim() ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Moves plans and requests of the former layout into the workflow document (once: the old files are
 * renamed to *.migrated by the returned function, once the new document is durable). Card references become card copies; a record that does not
 * parse is quarantined like any other.
 */
export async function migrateLegacyStores(files: LegacyFiles, into: WorkflowDocument, quarantine: Quarantine): Promise<() => Promise<void>> {
  const [plansDoc, requestsDoc] = await Promise.all([readJson(files.plans), readJson(files.requests)]);
  if (!plansDoc && !requestsDoc) return async () => undefined;
  const at = new Date().toISOString();
  const plans = await quarantine.sift('plans', asRecord(plansDoc?.plans), LegacyPlan, (p) => p.id);
  for (const { card: rawCard, ...plan } of Object.values(plans)) {
    if (Object.hasOwn(into.plans, plan.id)) continue;
    into.plans[plan.id] = plan;
    const parsedCard = rawCard === undefined ? undefined : LegacyCardRef.safeParse(rawCard);
    if (parsedCard && !parsedCard.success) await quarantine.setAside('plans.card', plan.id, parsedCard.error.issues[0]?.message ?? 'invalid', rawCard);
    const card = parsedCard?.success ? parsedCard.data : undefined;
    const conversation = card ? ConversationRefSchema.safeParse(card.conversation) : undefined;
    if (card?.activityId && conversation?.success) {
      const copy: CardCopy = {
        id: randomUUID(),
        planId: plan.id,
        view: 'plan',
        audience: 'requester',
        aadObjectId: null,
        name: plan.requestedBy.name,
        conversation: conversation.data,
        activityId: card.activityId,
        locale: card.locale,
        shownVersion: card.shownStatus === plan.status ? plan.version : -1,
        createdAt: at,
      };
      into.copies[copy.id] = copy;
    }
  }
  const requests = await quarantine.sift('requests', asRecord(requestsDoc?.requests), LegacyRequest, (r) => r.id);
  for (const { cards, proposedBy, ...request } of Object.values(requests)) {
    if (Object.hasOwn(into.requests, request.id)) continue;
    const plan = Object.hasOwn(into.plans, request.id) ? into.plans[request.id] : undefined;
    into.requests[request.id] = { ...request, proposedBy: proposedBy ?? plan?.requestedBy ?? { aadObjectId: request.requestedBy.aadObjectId, name: request.requestedBy.name } };
    for (const sent of cards) {
      const conversation = ConversationRefSchema.safeParse(sent.conversation);
      if (!conversation.success) continue;
      const copy: CardCopy = {
        id: randomUUID(),
        planId: request.id,
        view: sent.audience === 'requester' ? 'plan' : 'approval',
        audience: sent.audience,
        aadObjectId: sent.aadObjectId,
        name: sent.name,
        conversation: conversation.data,
        activityId: sent.activityId,
        locale: sent.locale,
        shownVersion: -1,
        createdAt: at,
      };
      into.copies[copy.id] = copy;
    }
  }
  // Called once the new document is on disk. The old files stay beside it, renamed, so that nothing
  // is lost if a migration surprises.
  return async () => {
    if (plansDoc) await rename(files.plans, `${files.plans}.migrated`);
    if (requestsDoc) await rename(files.requests, `${files.requests}.migrated`);
  };
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
