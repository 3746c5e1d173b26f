import { pendingMessage } from '../../src/approvals/outbox';
import { OutboxWorker } from '../../src/bot/delivery';
import type { App } from '../../src/app';
import { StoreUnavailableError } from '../../src/store/errors';
import { testApp, tempDir } from '../helpers/app';
import { until } from '../helpers/waiting';

/**
 * The outbox worker sleeps until the next message is due, and polls besides (for what another instance
 * holds). A timer may fire a millisecond before the wall clock reaches the time it was set for: the
 * pass it starts then finds nothing due, and the message became due by the time the worker set its next
 * timer. It was taken for one the pass had seen and left, and waited a whole poll (5 s): a card stayed
 * on "Waiting for the tenant" after its plan was done (seen in test/http/replies.test.ts under load,
 * with a trace of the worker). Here the pass is made to straddle the due time, every time.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('when the outbox worker looks again', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let worker: OutboxWorker | undefined;

  beforeEach(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir);
    // The app's own worker would take the message too: this test drives one of its own.
    await app.delivery.stop();
  });

  afterEach(async () => {
    await worker?.stop();
    await app.close();
    await dir.remove();
  });

  /** A worker on the app's own store (the one the app gives its worker, wrappers included). */
  function ownWorker(pollMs: number): OutboxWorker {
    const own = new OutboxWorker(app.adapter, app.workflow, { provisioning: app.provisioning, approvals: app.approvals, views: app.views }, app.contacts, app.copies, {
      appId: app.config.bot.appId,
      channelId: undefined,
      log: app.log,
      pollMs,
    });
    // As the app wires its own: a commit makes it look.
    app.workflow.onCommit(() => own.kick());
    return own;
  }

  const due = (planId: string, at: number) => app.workflow.transact((tx) => tx.putOutbox(pendingMessage({ planId, kind: 'refreshCopies' }, new Date(at).toISOString(), new Date().toISOString())));
  const sent = async (planId: string) => (await app.workflow.outboxOf(planId)).length === 0;

  it('sends a message that became due while a pass was looking when it is due, not at the next poll', async () => {
    const planId = 'plan-without-cards';
    const dueAt = Date.now() + 400;
    await due(planId, dueAt);
    // A poll far beyond the test's time: only a timer set for the message can send it.
    worker = ownWorker(600_000);
    // The pass that starts before the due time looks then (nothing due) and ends after it.
    const claim = app.workflow.claimOutbox.bind(app.workflow);
    let straddled = 0;
    app.workflow.claimOutbox = async (owner, at, limit, holdMs) => {
      const taken = await claim(owner, at, limit, holdMs);
      if (at.getTime() < dueAt && taken.length === 0) {
        straddled += 1;
        await sleep(dueAt + 20 - Date.now());
      }
      return taken;
    };
    worker.start();

    // A refresh of a plan that has no card copies is sent at once: the message goes.
    await until(() => sent(planId), 15_000, 'the message to be sent');
    expect(straddled).toBe(1);
  });

  it('does not look again and again while a due message is held by another instance, and still wakes for one due later', async () => {
    await due('held-elsewhere', Date.now());
    expect(await app.workflow.claimOutbox('another-instance', new Date(), 10, 60_000)).toHaveLength(1);
    const claim = app.workflow.claimOutbox.bind(app.workflow);
    let passes = 0;
    app.workflow.claimOutbox = async (...args) => {
      passes += 1;
      return claim(...args);
    };
    worker = ownWorker(600_000);
    worker.start();
    await sleep(500);
    // One pass at the start; the poll, not a timer every few milliseconds, looks for it again.
    expect(passes).toBe(1);
    expect(await sent('held-elsewhere')).toBe(false);

    // The message held elsewhere, overdue, does not hide one due later behind the poll.
    await due('due-later', Date.now() + 300);
    await until(() => sent('due-later'), 15_000, 'the later message to be sent');
    expect(await sent('held-elsewhere')).toBe(false);
  });

  it('looks again by the poll after the store failed, with nothing else to wake it', async () => {
    await due('after-an-outage', Date.now());
    worker = ownWorker(300);
    const claim = app.workflow.claimOutbox.bind(app.workflow);
    const nextOutboxAt = app.workflow.nextOutboxAt.bind(app.workflow);
    let failures = 0;
    // The database is unreachable for the first pass and the timer it sets afterwards.
    app.workflow.claimOutbox = async (...args) => {
      if (failures === 0) {
        failures += 1;
        throw new StoreUnavailableError('outbox', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      }
      return claim(...args);
    };
    app.workflow.nextOutboxAt = async (...args) => {
      if (failures === 1) {
        failures += 1;
        throw new StoreUnavailableError('outbox', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      }
      return nextOutboxAt(...args);
    };
    worker.start();
    await until(() => sent('after-an-outage'), 15_000, 'the message to be sent once the store is back');
    expect(failures).toBe(2);
  });
});
