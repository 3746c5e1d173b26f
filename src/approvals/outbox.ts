import { randomUUID } from 'node:crypto';
import type { Plan } from '../provisioning/plans';
import type { WorkflowTx } from '../store/workflow';
import type { OutboxKind, OutboxMessage } from './copies';
import type { RequestStatus } from './requests';

export interface NewMessage {
  planId: string;
  kind: OutboxKind;
  approverId?: string;
  notice?: OutboxMessage['notice'];
  /** Wait this long before the first attempt (e.g. so that a click's own answer lands first). */
  delayMs?: number;
  /**
   * A refresh that may come often (the rows of a batch): folded into one that is due or being sent
   * now, it goes again `delayMs` after that one, so the card is updated about that often.
   */
  throttle?: boolean;
}

/**
 * Records a message to send later, in the transaction of the change it reports. Card refreshes of one
 * plan are coalesced: a pending one is kept (and brought forward) instead of adding another, since
 * the worker always renders the latest state. When a message is due is a matter of delivery, so it
 * is wall-clock time, not the domain's clock (`at`, which tests move and which dates the message).
 */
export async function enqueue(tx: WorkflowTx, message: NewMessage, at: Date): Promise<void> {
  const due = new Date(Date.now() + (message.delayMs ?? 0)).toISOString();
  const now = at.toISOString();
  const existing = (await tx.outboxOf(message.planId)).find(
    (m) => m.status === 'pending' && m.kind === message.kind && m.approverId === message.approverId && m.notice === message.notice,
  );
  if (existing) {
    let nextAttemptAt = existing.nextAttemptAt > due ? due : existing.nextAttemptAt;
    const dueAt = Date.parse(existing.nextAttemptAt);
    const delay = message.delayMs ?? 0;
    // Due already (being sent, or about to be): the next send comes one delay after that due time, not
    // earlier, and not later either — a steady stream of changes still gets its card updated.
    if (message.throttle && dueAt <= Date.now() && dueAt + delay > Date.now()) nextAttemptAt = new Date(dueAt + delay).toISOString();
    // A refresh that is not throttled (the plan itself reached a new status, e.g. the batch is done) is
    // shown soon, not spaced from the last update of its rows.
    tx.putOutbox(foldInto(existing, nextAttemptAt, now, message.throttle ? delay : undefined));
    return;
  }
  tx.putOutbox(
    pendingMessage(
      {
        planId: message.planId,
        kind: message.kind,
        ...(message.approverId ? { approverId: message.approverId } : {}),
        ...(message.notice ? { notice: message.notice } : {}),
        ...(message.throttle ? { spacingMs: message.delayMs ?? 0 } : {}),
      },
      due,
      now,
    ),
  );
}

/**
 * A pending message with a later request folded in: due at `nextAttemptAt`, its revision bumped so that
 * a worker sending it meanwhile goes again, spaced by `spacingMs` or not at all.
 */
export function foldInto(existing: OutboxMessage, nextAttemptAt: string, now: string, spacingMs?: number): OutboxMessage {
  const { spacingMs: _spaced, ...message } = existing;
  return { ...message, nextAttemptAt, revision: existing.revision + 1, updatedAt: now, ...(spacingMs !== undefined ? { spacingMs } : {}) };
}

/** A message not tried yet, due at `due` (ISO time); `now` dates it. */
export function pendingMessage(
  what: Pick<OutboxMessage, 'planId' | 'kind'> & Partial<Pick<OutboxMessage, 'approverId' | 'notice' | 'reply' | 'spacingMs'>>,
  due: string,
  now: string,
): OutboxMessage {
  return { id: randomUUID(), ...what, status: 'pending', attempts: 0, revision: 0, nextAttemptAt: due, createdAt: now, updatedAt: now };
}

/** A plan card's update waits this long, so that the answer to the click that caused it goes out first. */
export const REFRESH_DELAY_MS = 250;

/** How long a batch's card waits for more rows to move before it is updated. */
export const BATCH_REFRESH_DELAY_MS = 2_000;

/** Plan status → the request status that follows it once the request was approved. */
const FOLLOWS: Partial<Record<Plan['status'], RequestStatus>> = { running: 'executing', waiting: 'executing', done: 'done', failed: 'failed' };

/** Request statuses that follow their plan (the request was approved; a retried failure runs again). */
const FOLLOWING: readonly RequestStatus[] = ['approved', 'executing', 'failed'];

/**
 * What every plan change brings along, in the same transaction: the approved request follows its
 * plan (executing → done | failed), the change is audited, and the plan's card copies are refreshed
 * when the plan reached a new status (ARCHITECTURE.md "Outbox for everything sent later").
 */
export async function followPlan(tx: WorkflowTx, plan: Plan, previousStatus: Plan['status'] | undefined, at: Date): Promise<void> {
  if (plan.parentId) {
    // A row of an import batch has no card of its own: its batch's card shows it. Refreshes of one
    // card are coalesced, so a batch of hundreds of rows updates its card every few seconds at most
    // (Teams: 7 sends a second per thread, updates included, teams-platform.md §5).
    if (plan.status !== previousStatus) await enqueue(tx, { planId: plan.parentId, kind: 'refreshCopies', delayMs: BATCH_REFRESH_DELAY_MS, throttle: true }, at);
    return;
  }
  if (plan.status !== previousStatus) await enqueue(tx, { planId: plan.id, kind: 'refreshCopies', delayMs: REFRESH_DELAY_MS }, at);
  const request = await tx.request(plan.id);
  const next = FOLLOWS[plan.status];
  if (!request || !next || request.status === next || !FOLLOWING.includes(request.status)) return;
  const moved = tx.putRequest({ ...request, status: next });
  if (next === 'done' || next === 'failed') {
    const actor = moved.decision ?? moved.requestedBy;
    tx.audit({
      actor: { aadObjectId: actor.aadObjectId, name: actor.name },
      action: `request.${next}`,
      target: moved.account.userPrincipalName,
      outcome: next === 'done' ? 'succeeded' : 'failed',
      requestId: moved.id,
      detail: { kind: moved.kind, status: moved.status },
    });
  }
}
