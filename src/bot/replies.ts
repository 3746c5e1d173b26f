import { pendingMessage } from '../approvals/outbox';
import { replyQueueOf, type CardCopy, type OutboxMessage, type PendingReply } from '../approvals/copies';
import type { WorkflowStore } from '../store/workflow';

/**
 * Set by the HTTP edge (src/bot/adapter.ts) on a turn whose HTTP answer does not carry its replies: a
 * message, a fallback submit, an installation. Not on an invoke, whose answer is the HTTP response,
 * nor on an activity sent with deliveryMode "expectReplies", whose replies are the response's body.
 */
export const REPLIES_AFTER_ANSWER = Symbol('switchboard.repliesAfterAnswer');

/** A turn's place among the turns of its conversation, held while the turn runs. */
export interface ReplyTurn {
  readonly conversationId: string;
  readonly order: number;
  /** The turn is over: replies of later turns no longer wait for it. */
  end(): void;
}

/**
 * A reply that cannot be sent is tried this many times: 1 s after the first attempt, then twice as
 * long each time, which is about ten minutes with the connector's own deadline per attempt
 * (SWITCHBOARD_CONNECTOR_TIMEOUT_SECONDS). That outlasts a restart of the Bot Connector's side or a
 * network blip; an answer that arrives later than that comes out of the blue and confuses more than it
 * helps, so it is logged and dropped (what the turn did is in the store either way: `show`, `history`).
 */
export const REPLY_ATTEMPTS = 10;

/**
 * How long a reply waits for an earlier turn of its conversation that is still running: the 15 s the
 * Bot Framework gives a turn (teams-platform.md §3.6). A turn still running after that is one the Bot
 * Framework has given up on, and the replies after it do not wait for it any longer.
 */
const TURN_WAIT_MS = 15_000;

/**
 * Replies to message turns, sent after the turn's HTTP answer (issue 12, part 4).
 *
 * Why after: within a turn a reply is a call to the Bot Connector, and the HTTP answer to the
 * connector's POST waited for it: more than 5 s of the client's retries when the connector refused
 * connections, up to the call's deadline when it took them and did not answer
 * (SWITCHBOARD_CONNECTOR_TIMEOUT_SECONDS, 15 s: all the Bot Framework gives a turn, teams-platform.md
 * §3.6).
 *
 * Why durable: the HTTP 200 tells the Bot Connector the message was taken, and it is never sent
 * again. A reply kept only in memory would be lost by a crash or a restart after that 200, and the
 * person who wrote would get no answer and no sign of a problem — while the turn may well have
 * created a plan that waits for the Confirm on the card that never came. Acknowledged = durable
 * (ARCHITECTURE.md): the reply is in the outbox, on disk or committed, before the turn ends and its
 * 200 goes; the outbox worker sends it (src/bot/delivery.ts) and a restart resumes it. A reply is sent
 * at least once: a crash between Teams taking it and the outbox recording that sends it again.
 *
 * Why ordered: replies of one conversation go out in the order its turns came. A turn takes its place
 * when it starts (after the Bot Framework token was checked: an unauthenticated request never holds
 * anything back); a reply waits for the replies of every earlier turn of its conversation, both those
 * of turns still running here and those still in the outbox (retried, or left by a restart). Places
 * come from the clock, so those left by a restart stay ahead of new ones. Across several instances,
 * the turns each one ran are in order; the order of two turns that two instances ran at the same
 * moment is not defined anyway.
 */
export class ReplyQueue {
  private last = 0;
  /** Turns running in this process, by conversation: their places. */
  private readonly running = new Map<string, Set<number>>();
  private readonly ended: (() => void)[] = [];

  constructor(private readonly store: WorkflowStore) {}

  /** A turn of this conversation starts: its replies go out after those of every turn before it. */
  arrive(conversationId: string): ReplyTurn {
    // Microseconds of the wall clock, strictly increasing here: after a restart, later than before it.
    const order = Math.max(Date.now() * 1000, this.last + 1);
    this.last = order;
    const places = this.running.get(conversationId) ?? new Set<number>();
    places.add(order);
    this.running.set(conversationId, places);
    let ended = false;
    return {
      conversationId,
      order,
      end: () => {
        if (ended) return;
        ended = true;
        places.delete(order);
        if (places.size === 0 && this.running.get(conversationId) === places) this.running.delete(conversationId);
        for (const listener of this.ended) listener();
      },
    };
  }

  /** Whether a turn of this conversation that came before `order` is still running here (for at most TURN_WAIT_MS). */
  heldBack(conversationId: string, order: number): boolean {
    const places = this.running.get(conversationId);
    if (!places) return false;
    const recent = (Date.now() - TURN_WAIT_MS) * 1000;
    for (const place of places) if (place < order && place >= recent) return true;
    return false;
  }

  /** Called whenever a turn ends (the outbox worker looks for replies that waited for it). */
  onTurnEnd(listener: () => void): void {
    this.ended.push(listener);
  }

  /**
   * Writes a turn's reply to the outbox, and the copy a plan's card becomes (its message id not known
   * yet: a click that comes before the worker learns it still finds the copy); resolves once both are
   * durable (WorkflowStore.transact).
   */
  async enqueue(turn: ReplyTurn, reply: Omit<PendingReply, 'order' | 'copyId'>, copy: CardCopy | undefined): Promise<void> {
    const queue = replyQueueOf(turn.conversationId);
    const now = new Date().toISOString();
    await this.store.transact(async (tx) => {
      // Not due before a reply ahead of it that waits for its next attempt: nothing is tried out of turn.
      let due = now;
      for (const m of await tx.outboxOf(queue)) {
        if (m.kind === 'reply' && m.status === 'pending' && m.reply && m.reply.order <= turn.order && m.nextAttemptAt > due) due = m.nextAttemptAt;
      }
      if (copy) tx.putCopy({ ...copy, activityId: null });
      tx.putOutbox(pendingMessage({ planId: queue, kind: 'reply', reply: { ...reply, order: turn.order, ...(copy ? { copyId: copy.id } : {}) } }, due, now));
    });
  }
}

/** The conversation's reply that goes out next: the earliest turn's (the worker sends no other). */
export function firstInLine(messages: readonly OutboxMessage[]): OutboxMessage | undefined {
  let first: OutboxMessage | undefined;
  for (const m of messages) {
    if (m.kind !== 'reply' || m.status !== 'pending' || !m.reply) continue;
    if (!first || before(m, first)) first = m;
  }
  return first;
}

function before(a: OutboxMessage, b: OutboxMessage): boolean {
  const x = a.reply!.order;
  const y = b.reply!.order;
  if (x !== y) return x < y;
  return a.createdAt !== b.createdAt ? a.createdAt < b.createdAt : a.id < b.id;
}
