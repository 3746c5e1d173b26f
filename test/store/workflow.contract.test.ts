import path from 'node:path';
import { replyQueueOf, type OutboxMessage } from '../../src/approvals/copies';
import type { ChangeRequest } from '../../src/approvals/requests';
import { createLogger } from '../../src/log/logger';
import type { Plan } from '../../src/provisioning/plans';
import { AuditLog, type AuditStore } from '../../src/store/audit';
import { LowdbWorkflowStore } from '../../src/store/lowdbWorkflow';
import { PgAuditLog } from '../../src/store/pg/audit';
import { Database } from '../../src/store/pg/database';
import { migrate } from '../../src/store/pg/migrations';
import { PgWorkflowStore } from '../../src/store/pg/workflow';
import type { WorkflowStore } from '../../src/store/workflow';
import { tempDir } from '../helpers/app';
import { startPostgres, type TestPostgres } from '../helpers/postgres';

/**
 * The workflow store's contract, run on both implementations (issue 11: "the same contract suite
 * runs on both store implementations"): transactions are all-or-nothing, versions move one step per
 * write, concurrent transactions on one plan or one account serialize, outbox claims never overlap,
 * audit entries commit with their change.
 */
interface Harness {
  store: WorkflowStore;
  audit: AuditStore;
  /** A second handle on the same data (another instance; lowdb has only one). */
  other?: WorkflowStore;
  close(): Promise<void>;
}

const log = createLogger('silent');
let postgres: TestPostgres | undefined;

const harnesses: [string, () => Promise<Harness>][] = [
  [
    'lowdb',
    async () => {
      const dir = await tempDir();
      const audit = new AuditLog(path.join(dir.dir, 'audit.jsonl'));
      const store = await LowdbWorkflowStore.open(path.join(dir.dir, 'workflow.json'), { audit });
      return {
        store,
        audit,
        close: async () => {
          await store.close();
          await dir.remove();
        },
      };
    },
  ],
  [
    'postgres',
    async () => {
      postgres ??= await startPostgres();
      const url = await postgres.newDatabase();
      const db = new Database({ url, log });
      const second = new Database({ url, log });
      await migrate(db, log);
      const audit = new PgAuditLog(db);
      const stamp = (e: Parameters<PgAuditLog['entryOf']>[0]) => audit.entryOf(e);
      return {
        store: new PgWorkflowStore(db, stamp, log),
        other: new PgWorkflowStore(second, stamp, log),
        audit,
        close: async () => {
          await Promise.all([db.close(), second.close()]);
        },
      };
    },
  ],
];

afterAll(async () => {
  await postgres?.close();
});

const at = '2026-11-30T10:00:00.000Z';
let counter = 0;

function newPlan(upn = 'aa-main@contoso.com', status: Plan['status'] = 'awaitingConfirmation'): Plan {
  counter += 1;
  return {
    id: `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    kind: 'deleteAccount',
    version: 0,
    status,
    account: { id: 'a1', userPrincipalName: upn, displayName: 'Main' },
    requestedBy: { aadObjectId: 'u1', name: 'Ada' },
    needsApproval: true,
    createdAt: at,
    updatedAt: at,
    steps: [{ step: { kind: 'deleteAccount' }, state: { status: 'pending' } }],
  };
}

function requestOf(plan: Plan): ChangeRequest {
  return {
    id: plan.id,
    kind: plan.kind,
    account: plan.account,
    requestedBy: { aadObjectId: 'u1', name: 'Ada' },
    proposedBy: { aadObjectId: 'u1', name: 'Ada' },
    status: 'pending',
    version: 0,
    createdAt: at,
    expiresAt: '2026-12-03T10:00:00.000Z',
  };
}

function message(planId: string, n: number): OutboxMessage {
  return { id: `${planId}-m${n}`, planId, kind: 'deliverApproval', approverId: `a${n}`, status: 'pending', attempts: 0, revision: 0, nextAttemptAt: at, createdAt: at, updatedAt: at };
}

describe.each(harnesses)('workflow store contract: %s', (_name, make) => {
  jest.setTimeout(120_000);
  let h: Harness;

  beforeEach(async () => {
    h = await make();
  });

  afterEach(async () => {
    await h.close();
  });

  it('commits a plan, its request, its messages and its audit entries together', async () => {
    const plan = newPlan();
    await h.store.transact(async (tx) => {
      const saved = tx.putPlan(plan, at);
      tx.putRequest(requestOf(saved));
      tx.putOutbox(message(plan.id, 1));
      tx.audit({ actor: { aadObjectId: 'u1', name: 'Ada' }, action: 'request.created', target: plan.account.userPrincipalName, outcome: 'requested', requestId: plan.id });
    });
    expect(await h.store.plan(plan.id)).toMatchObject({ id: plan.id, version: 1 });
    expect(await h.store.request(plan.id)).toMatchObject({ status: 'pending', version: 1 });
    expect(await h.store.outboxOf(plan.id)).toHaveLength(1);
    await h.audit.flush();
    await waitForAudit(h.audit, plan.id, 1);
  });

  it('writes nothing of a transaction that throws', async () => {
    const plan = newPlan();
    await expect(
      h.store.transact(async (tx) => {
        tx.putPlan(plan, at);
        tx.audit({ actor: { aadObjectId: 'u1', name: 'Ada' }, action: 'x', target: 't', outcome: 'requested', requestId: plan.id });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await h.store.plan(plan.id)).toBeUndefined();
    expect((await h.audit.readAll()).filter((e) => e.requestId === plan.id)).toEqual([]);
  });

  it('serializes concurrent transactions on one plan: no update is lost', async () => {
    const plan = newPlan();
    await h.store.transact((tx) => void tx.putPlan(plan, at));
    const stores = [h.store, h.other ?? h.store];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        stores[i % 2]!.transact(async (tx) => {
          const current = (await tx.plan(plan.id))!;
          tx.putPlan({ ...current, steps: [...current.steps, { step: { kind: 'deleteAccount' }, state: { status: 'pending' } }] }, at);
        }),
      ),
    );
    const final = (await h.store.plan(plan.id))!;
    expect(final.version).toBe(21);
    expect(final.steps).toHaveLength(21);
  });

  it('lets only one of many concurrent starts on one account through (one change at a time per account)', async () => {
    const plans = Array.from({ length: 8 }, () => newPlan('cq-busy@contoso.com'));
    await h.store.transact((tx) => plans.forEach((p) => tx.putPlan(p, at)));
    const stores = [h.store, h.other ?? h.store];
    const started = await Promise.all(
      plans.map((p, i) =>
        stores[i % 2]!.transact(async (tx) => {
          const current = (await tx.plan(p.id))!;
          if (await tx.activePlanOn(current.account.userPrincipalName, current.id)) return false;
          tx.putPlan({ ...current, status: 'running' }, at);
          return true;
        }),
      ),
    );
    expect(started.filter(Boolean)).toHaveLength(1);
    expect(await h.store.plans(['running'])).toHaveLength(1);
  });

  it('finds a pending request on an account, in the same transaction and after, and no other', async () => {
    const now = new Date(at);
    const waiting = newPlan('AA-Hold@contoso.com');
    const decided = newPlan('aa-hold@contoso.com');
    const elsewhere = newPlan('aa-other@contoso.com');
    const seen = await h.store.transact(async (tx) => {
      for (const p of [waiting, decided, elsewhere]) tx.putPlan(p, at);
      tx.putRequest(requestOf(waiting));
      tx.putRequest({ ...requestOf(decided), status: 'rejected' });
      tx.putRequest(requestOf(elsewhere));
      return (await tx.pendingRequestsOn('aa-hold@contoso.com', decided.id, now).then((found) => found[0]))?.id;
    });
    expect(seen).toBe(waiting.id);
    const after = await h.store.transact(async (tx) => ({
      other: (await tx.pendingRequestsOn('aa-hold@CONTOSO.com', 'x', now).then((found) => found[0]))?.id,
      self: await tx.pendingRequestsOn('aa-hold@contoso.com', waiting.id, now).then((found) => found[0]),
      none: await tx.pendingRequestsOn('aa-none@contoso.com', 'x', now).then((found) => found[0]),
    }));
    expect(after).toEqual({ other: waiting.id, self: undefined, none: undefined });
    // Moved off "pending" in this transaction, or deleted with its plan: no longer there.
    const gone = await h.store.transact(async (tx) => {
      tx.putRequest({ ...(await tx.request(waiting.id))!, status: 'approved' });
      const moved = await tx.pendingRequestsOn('aa-hold@contoso.com', 'x', now).then((found) => found[0]);
      tx.deletePlan(elsewhere.id);
      return { moved, deleted: await tx.pendingRequestsOn('aa-other@contoso.com', 'x', now).then((found) => found[0]) };
    });
    expect(gone).toEqual({ moved: undefined, deleted: undefined });
  });

  it('skips an expired request to find a live one, and finds a request by any account its plan acts on', async () => {
    const now = new Date(at);
    const stale = newPlan('aa-twice@contoso.com');
    const live = newPlan('aa-twice@contoso.com');
    // Replacing a broken account: the plan is the new account's, its last step deletes the old one.
    const replace: Plan = { ...newPlan('cq-new@contoso.com'), kind: 'replaceAccount', steps: [{ step: { kind: 'deleteAccount', of: { id: 'old', userPrincipalName: 'CQ-Old@contoso.com' } }, state: { status: 'pending' } }] };
    await h.store.transact((tx) => {
      for (const p of [stale, live, replace]) tx.putPlan(p, at);
      tx.putRequest({ ...requestOf(stale), expiresAt: '2026-11-30T09:59:59.000Z' });
      tx.putRequest(requestOf(live));
      tx.putRequest(requestOf(replace));
    });
    const found = await h.store.transact(async (tx) => ({
      twice: (await tx.pendingRequestsOn('aa-twice@contoso.com', 'x', now).then((found) => found[0]))?.id,
      old: (await tx.pendingRequestsOn('cq-old@contoso.com', 'x', now).then((found) => found[0]))?.id,
      fresh: (await tx.pendingRequestsOn('cq-new@contoso.com', 'x', now).then((found) => found[0]))?.id,
      later: await tx.pendingRequestsOn('cq-old@contoso.com', 'x', new Date('2026-12-04T00:00:00.000Z')).then((found) => found[0]),
    }));
    expect(found).toEqual({ twice: live.id, old: replace.id, fresh: replace.id, later: undefined });
  });

  it('counts a running plan as active on every account it acts on, and lists every live request on one', async () => {
    const now = new Date(at);
    const replace: Plan = {
      ...newPlan('cq-new2@contoso.com', 'running'),
      kind: 'replaceAccount',
      steps: [{ step: { kind: 'deleteAccount', of: { id: 'old', userPrincipalName: 'CQ-Old2@contoso.com' } }, state: { status: 'pending' } }],
    };
    const first = newPlan('aa-both@contoso.com');
    const second = newPlan('aa-both@contoso.com');
    await h.store.transact((tx) => {
      for (const p of [replace, first, second]) tx.putPlan(p, at);
      tx.putRequest(requestOf(first));
      tx.putRequest(requestOf(second));
    });
    const seen = await h.store.transact(async (tx) => ({
      old: (await tx.activePlanOn('cq-old2@contoso.com', 'x'))?.id,
      own: (await tx.activePlanOn('cq-new2@contoso.com', 'x'))?.id,
      other: await tx.activePlanOn('cq-other2@contoso.com', 'x'),
      both: (await tx.pendingRequestsOn('aa-both@contoso.com', 'x', now)).map((r) => r.id).sort(),
    }));
    expect(seen).toEqual({ old: replace.id, own: replace.id, other: undefined, both: [first.id, second.id].sort() });
  });

  it('lets only one of many concurrent requests on one account be made (one request at a time per account)', async () => {
    const plans = Array.from({ length: 8 }, () => newPlan('cq-asked@contoso.com'));
    await h.store.transact((tx) => plans.forEach((p) => tx.putPlan(p, at)));
    const stores = [h.store, h.other ?? h.store];
    const made = await Promise.all(
      plans.map((p, i) =>
        stores[i % 2]!.transact(async (tx) => {
          const current = (await tx.plan(p.id))!;
          if (await tx.pendingRequestsOn(current.account.userPrincipalName, current.id, new Date(at)).then((found) => found[0])) return false;
          tx.putRequest(requestOf(current));
          return true;
        }),
      ),
    );
    expect(made.filter(Boolean)).toHaveLength(1);
    expect(await h.store.requests(['pending'])).toHaveLength(1);
  });

  it('gives each due outbox message to one worker at a time, until its claim runs out', async () => {
    const plan = newPlan();
    await h.store.transact((tx) => {
      tx.putPlan(plan, at);
      for (let i = 0; i < 10; i++) tx.putOutbox(message(plan.id, i));
    });
    const now = new Date('2026-11-30T10:00:01.000Z');
    const stores = [h.store, h.other ?? h.store];
    const [a, b] = await Promise.all([stores[0]!.claimOutbox('worker-a', now, 6, 60_000), stores[1]!.claimOutbox('worker-b', now, 6, 60_000)]);
    const ids = [...a, ...b].map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(10);
    expect(await h.store.claimOutbox('worker-c', now, 10, 60_000)).toEqual([]);
    // A worker that died: its claims run out and another takes the messages.
    expect(await h.store.claimOutbox('worker-c', new Date('2026-11-30T10:01:02.000Z'), 10, 60_000)).toHaveLength(10);
    expect(await h.store.nextOutboxAt()).toEqual(new Date(at));
  });

  it('tells when the next message is due, and the first one due after a given time', async () => {
    const plan = newPlan();
    const dueAt = (n: number) => `2026-11-30T10:00:0${n}.000Z`;
    await h.store.transact((tx) => {
      tx.putPlan(plan, at);
      for (const n of [3, 1, 2]) tx.putOutbox({ ...message(plan.id, n), nextAttemptAt: dueAt(n) });
    });
    expect(await h.store.nextOutboxAt()).toEqual(new Date(dueAt(1)));
    // One due exactly then counts as due then (a claim at that time takes it), so it is not "after".
    expect(await h.store.nextOutboxAt(new Date(dueAt(1)))).toEqual(new Date(dueAt(2)));
    expect(await h.store.nextOutboxAt(new Date('2026-11-30T10:00:02.500Z'))).toEqual(new Date(dueAt(3)));
    expect(await h.store.nextOutboxAt(new Date(dueAt(3)))).toBeUndefined();
  });

  it('keeps a conversation\'s pending replies together, with their cards, and retention leaves them alone', async () => {
    const conversation = { channelId: 'msteams', serviceUrl: 'https://smba.trafficmanager.net/teams/', conversation: { id: 'a:1', conversationType: 'personal' }, bot: { id: '28:b' } };
    const card = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'Resource accounts' }] };
    const reply = (n: number): OutboxMessage => {
      const { approverId: _approverId, ...rest } = message(replyQueueOf('a:1'), n);
      return { ...rest, kind: 'reply', reply: { conversation, replyToId: `act-${n}`, card, order: 1_000 + n } };
    };
    await h.store.transact((tx) => {
      tx.putOutbox(reply(1));
      tx.putOutbox(reply(2));
    });
    expect((await h.store.outboxOf(replyQueueOf('a:1'))).map((m) => [m.kind, m.reply?.order, m.reply?.card])).toEqual([
      ['reply', 1_001, card],
      ['reply', 1_002, card],
    ]);
    expect((await h.store.claimOutbox('worker-a', new Date('2026-11-30T10:00:01.000Z'), 10, 60_000)).map((m) => m.reply?.replyToId).sort()).toEqual(['act-1', 'act-2']);
    expect(await h.store.prune(new Date('2027-06-01T00:00:00.000Z'))).toBe(0);
    expect(await h.store.outboxOf(replyQueueOf('a:1'))).toHaveLength(2);
  });

  it('keeps card copies per plan and deletes a plan with everything of it', async () => {
    const plan = newPlan('aa-old@contoso.com', 'done');
    await h.store.transact((tx) => {
      tx.putPlan(plan, '2026-01-01T00:00:00.000Z');
      tx.putCopy({ id: 'c1', planId: plan.id, view: 'plan', audience: 'requester', aadObjectId: 'u1', name: '', conversation: { channelId: 'msteams', serviceUrl: 'https://x/', conversation: { id: 'a:1' }, bot: { id: 'b' } }, activityId: 'm1', locale: 'en', shownVersion: 1, createdAt: at });
      tx.putOutbox({ ...message(plan.id, 1), status: 'sent' });
    });
    expect(await h.store.copiesOf(plan.id)).toHaveLength(1);
    expect(await h.store.prune(new Date('2026-06-01T00:00:00.000Z'))).toBe(1);
    expect(await h.store.plan(plan.id)).toBeUndefined();
    expect(await h.store.copiesOf(plan.id)).toEqual([]);
    expect(await h.store.outboxOf(plan.id)).toEqual([]);
  });

  it('retention drops only finished plans with decided requests, never a failed one or one with a message to deliver', async () => {
    // Every plan last changed long before the cutoff; only its status and what hangs on it decide.
    const old = '2026-01-01T00:00:00.000Z';
    const cases: { plan: Plan['status'] | null; request: ChangeRequest['status'] | null; pendingMessage?: true; pruned: boolean; why: string }[] = [
      { plan: 'done', request: null, pruned: true, why: 'finished, no request' },
      { plan: 'done', request: 'done', pruned: true, why: 'finished, request done' },
      { plan: 'cancelled', request: 'rejected', pruned: true, why: 'rejected' },
      { plan: 'cancelled', request: 'expired', pruned: true, why: 'expired' },
      { plan: 'cancelled', request: 'failed', pruned: true, why: 'failed, then withdrawn' },
      { plan: null, request: 'cancelled', pruned: true, why: 'a decided request whose plan is gone' },
      { plan: 'failed', request: null, pruned: false, why: 'parked with Retry, maybe half-applied' },
      { plan: 'failed', request: 'failed', pruned: false, why: 'approved, parked with Retry' },
      { plan: 'running', request: 'executing', pruned: false, why: 'running' },
      { plan: 'waiting', request: null, pruned: false, why: 'waiting for the tenant' },
      { plan: 'awaitingConfirmation', request: 'pending', pruned: false, why: 'waiting for an approver' },
      { plan: 'awaitingConfirmation', request: null, pruned: false, why: 'held or not confirmed yet' },
      { plan: 'done', request: 'done', pendingMessage: true, pruned: false, why: 'its notice is still to be delivered' },
      { plan: 'cancelled', request: 'rejected', pendingMessage: true, pruned: false, why: 'the rejection notice is still to be delivered' },
      { plan: null, request: 'expired', pendingMessage: true, pruned: false, why: 'a request whose notice is still to be delivered' },
    ];
    const ids = cases.map((c) => {
      const plan = newPlan(`aa-${counter}@contoso.com`, c.plan ?? 'done');
      return { ...c, id: plan.id, record: plan };
    });
    await h.store.transact((tx) => {
      for (const c of ids) {
        if (c.plan) tx.putPlan(c.record, old);
        if (c.request) tx.putRequest({ ...requestOf(c.record), status: c.request, createdAt: old });
        if (c.pendingMessage) tx.putOutbox({ ...message(c.id, 1), kind: 'notifyRequester' });
        tx.putOutbox({ ...message(c.id, 2), status: 'sent' });
      }
    });

    const removed = await h.store.prune(new Date('2026-06-01T00:00:00.000Z'));
    const left = await Promise.all(ids.map(async (c) => ({ why: c.why, kept: (await h.store.plan(c.id)) !== undefined || (await h.store.request(c.id)) !== undefined })));
    expect(left).toEqual(ids.map((c) => ({ why: c.why, kept: !c.pruned })));
    expect(removed).toBe(ids.filter((c) => c.pruned && c.plan).length);
    // What is kept keeps its messages; what went took its messages along.
    for (const c of ids) expect((await h.store.outboxOf(c.id)).length).toBe(c.pruned ? 0 : c.pendingMessage ? 2 : 1);
  });

  it('runs exclusive work once at a time and holds locks across holders', async () => {
    let inside = 0;
    let most = 0;
    const stores = [h.store, h.other ?? h.store];
    const ran = await Promise.all(
      stores.map((s) =>
        s.exclusively('sweep', async () => {
          inside += 1;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 200));
          inside -= 1;
        }),
      ),
    );
    expect(ran.filter(Boolean).length).toBeGreaterThanOrEqual(1);
    expect(most).toBe(1);
    const order: string[] = [];
    await Promise.all(
      [0, 1, 2, 3].map((i) =>
        stores[i % 2]!.withLock('card:x', async () => {
          order.push(`in${i}`);
          await new Promise((r) => setTimeout(r, 30));
          order.push(`out${i}`);
        }),
      ),
    );
    for (let i = 0; i < order.length; i += 2) expect(order[i]!.replace('in', '')).toBe(order[i + 1]!.replace('out', ''));
  });
});

async function waitForAudit(audit: AuditStore, requestId: string, n: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await audit.readAll()).filter((e) => e.requestId === requestId).length === n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('audit entries did not arrive');
}
