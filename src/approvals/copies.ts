import { z } from 'zod';
import { StoredInstant } from '../store/instant';

/**
 * How to reach a conversation later (proactive send, updateActivity): the fields of a Bot Framework
 * conversation reference that Switchboard keeps, each a bounded string. Saved from authenticated
 * activities only and parsed again when read, so a malformed stored reference is quarantined instead
 * of breaking a start-up (issue 9 item 11).
 */
export const ConversationRefSchema = z.object({
  channelId: z.string().min(1).max(64),
  serviceUrl: z.string().min(1).max(2048),
  conversation: z.object({
    id: z.string().min(1).max(1024),
    conversationType: z.string().max(64).optional(),
    tenantId: z.string().max(64).optional(),
    isGroup: z.boolean().optional(),
  }),
  bot: z.object({ id: z.string().min(1).max(512), name: z.string().max(256).optional() }),
  user: z.object({ id: z.string().max(512), name: z.string().max(256).optional(), aadObjectId: z.string().max(64).optional() }).optional(),
  locale: z.string().max(32).optional(),
});
export type ConversationRef = z.infer<typeof ConversationRefSchema>;

/**
 * One copy of a plan's or approval's card somewhere in Teams (ARCHITECTURE.md "One owner for a plan's
 * card copies"). Copies are what later updates go to: a reader's click never adds or moves one, a
 * click that turned the message into something else detaches it, and each copy remembers which
 * version of the plan it shows so that an older state never overwrites a newer one (issue 9 items
 * 9, 10). Its id travels in the card's buttons as `cardId`, because Teams' replyToId has been seen not
 * to match the message id (teams-platform.md §3.5).
 */
export const CardCopySchema = z.object({
  id: z.string().min(1).max(64),
  planId: z.string(),
  /** What the message shows: the plan card, the approval card, or (detached) something else. */
  view: z.enum(['plan', 'approval', 'detached']),
  /** Whose copy: the requester's plan card, an approver's approval card, the approvals channel's. */
  audience: z.enum(['requester', 'approver', 'channel']),
  /** The approver it was sent to (their view has Approve/Reject), else null. */
  aadObjectId: z.string().nullable(),
  name: z.string(),
  conversation: ConversationRefSchema,
  /** The message id once known (from sendActivity), null while the message is being sent. */
  activityId: z.string().nullable(),
  locale: z.enum(['en', 'fr']),
  /** The view version (plan version + request version) the message shows. */
  shownVersion: z.number().int(),
  /** A click was just answered on this message: no update before then, so the answer is not covered. */
  quietUntil: StoredInstant.optional(),
  createdAt: StoredInstant,
});
export type CardCopy = z.infer<typeof CardCopySchema>;

/**
 * A copy's shownVersion when what the message shows is not known (an update and a click on it crossed,
 * or a card from before versions): lower than any view's version, so the next refresh sends the
 * current card.
 */
export const SHOWN_UNKNOWN = -1;

/**
 * What a later message does: deliver an approval card, post to the channel, tell the requester, update
 * the copies, or answer a chat message (src/bot/replies.ts).
 */
export const OutboxKindSchema = z.enum(['deliverApproval', 'postChannel', 'notifyRequester', 'refreshCopies', 'reply']);
export type OutboxKind = z.infer<typeof OutboxKindSchema>;

/**
 * The answer to a message turn, written before the turn's HTTP 200 and sent by the outbox worker
 * (src/bot/replies.ts says why). The card is rendered already: it is what the user would have got
 * within the turn.
 */
export const PendingReplySchema = z.object({
  conversation: ConversationRefSchema,
  /** The message answered: the reply is posted as a reply to it, as within the turn. */
  replyToId: z.string().max(512).optional(),
  card: z.record(z.string(), z.unknown()),
  /** A plan's card: the copy it is, written with the reply; its message id is filled in once Teams gave one. */
  copyId: z.string().min(1).max(64).optional(),
  /** The turn's place in its conversation (src/bot/replies.ts): replies go out in this order. */
  order: z.number().int().nonnegative(),
});
export type PendingReply = z.infer<typeof PendingReplySchema>;

/**
 * Everything sent later goes through the outbox (ARCHITECTURE.md "Outbox for everything sent later"):
 * it is written in the same transaction as the change it reports, and a worker delivers it with
 * retries, so a crash never loses an approval card or a notice (issue 9 item 14, DOMAIN.md F16).
 */
export const OutboxMessageSchema = z.object({
  id: z.string(),
  /**
   * The plan the message is about; for a reply, its conversation's queue (replyQueueOf): the worker
   * reads a conversation's replies together, to send them in order.
   */
  planId: z.string(),
  kind: OutboxKindSchema,
  /** deliverApproval: the approver. */
  approverId: z.string().optional(),
  /** notifyRequester: what to tell. */
  notice: z.enum(['approved', 'rejected', 'expired']).optional(),
  /** reply: what to send, where. */
  reply: PendingReplySchema.optional(),
  status: z.enum(['pending', 'sent', 'unreachable', 'abandoned']),
  attempts: z.number().int().nonnegative(),
  /** Bumped when a later request is folded into this pending message, so its worker knows to go again. */
  revision: z.number().int().nonnegative().default(0),
  /**
   * refreshCopies that come often (the rows of a batch): at least this long between two updates of the
   * plan's cards, whatever moved meanwhile (Teams: 7 sends a second per thread, updates included,
   * teams-platform.md §5). Without it, a refresh follows a moving plan at once.
   */
  spacingMs: z.number().int().nonnegative().optional(),
  nextAttemptAt: StoredInstant,
  lastError: z.string().max(500).optional(),
  createdAt: StoredInstant,
  updatedAt: StoredInstant,
});
export type OutboxMessage = z.infer<typeof OutboxMessageSchema>;

/** The key under which a conversation's pending replies are kept (OutboxMessage.planId). */
export function replyQueueOf(conversationId: string): string {
  return `reply:${conversationId}`;
}

/** The version of what a plan card or approval card shows: both documents only move forward. */
export function viewVersion(planVersion: number, requestVersion: number | undefined): number {
  return planVersion + (requestVersion ?? 0);
}
