import path from 'node:path';
import { DEMO } from '../../src/backends/simulated/seed';
import { SimulatedTenant } from '../../src/backends/simulated/tenant';
import { aroundCalls, type TenantDirectory } from '../../src/provisioning/directory';
import type { Plan } from '../../src/provisioning/plans';
import { type LeaseLostEvent, PlanRunner, type RunnerOptions } from '../../src/provisioning/runner';
import { AuditLog } from '../../src/store/audit';
import { StoreUnavailableError } from '../../src/store/errors';
import { LowdbWorkflowStore } from '../../src/store/lowdbWorkflow';
import type { WorkflowStore } from '../../src/store/workflow';
import { tempDir } from '../helpers/app';

const ADMIN = { aadObjectId: 'admin-1', name: 'Admin' };
const NUMBER = DEMO.numbers.usToll[0]!;
const KIOSK = DEMO.accounts.kiosk;

async function until(what: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The instance whose run stalls: its first look at the number answers what the tenant showed when the
 * call was made, but only once the test lets it (a Graph call stuck in retries, a stopped VM). Every
 * call it makes after that is counted.
 */
function stalling(directory: TenantDirectory) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let stalled = false;
  const after: string[] = [];
  let isReleased = false;
  const view = aroundCalls(directory, async (call, name) => {
    if (isReleased) after.push(name);
    const answer = await call();
    if (name === 'getPhoneNumber' && !stalled) {
      stalled = true;
      await released;
    }
    return answer;
  });
  return {
    directory: view,
    stalled: () => stalled,
    release: () => {
      isReleased = true;
      release();
    },
    /** The tenant calls the stalled run made once it went on. */
    after,
  };
}

/** The store as one instance sees it; `cut` makes its transactions fail as a lost database would. */
function cutOff(store: WorkflowStore) {
  const state = { cut: false };
  const view = new Proxy(store, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      const call = value as (...args: unknown[]) => unknown;
      if (key !== 'transact') return call.bind(target);
      return (...args: unknown[]) => (state.cut ? Promise.reject(new StoreUnavailableError('test', Object.assign(new Error('connection lost'), { code: 'ECONNRESET' }))) : call.apply(target, args));
    },
  });
  return { store: view, state };
}

/*
 * Why: a plan's lease says which instance runs it (several instances on one PostgreSQL). A runner that
 * cannot renew its lease, or finds it taken, must not call the tenant again: the instance that took the
 * plan over is running the same steps. Its own call in flight cannot be called back (the steps are
 * safe run twice at once: test/contract/steps-twice.contract.test.ts), but nothing after it may go out.
 */
describe("a runner that lost its plan's lease makes no further tenant call", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let tenant: SimulatedTenant;
  let store: LowdbWorkflowStore;
  const runners: PlanRunner[] = [];

  beforeEach(async () => {
    dir = await tempDir();
    tenant = await SimulatedTenant.open({ file: path.join(dir.dir, 'tenant.json'), tenantId: 'lease-fence' });
    store = await LowdbWorkflowStore.open(path.join(dir.dir, 'workflow.json'), { audit: new AuditLog(path.join(dir.dir, 'audit.jsonl')) });
  });

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.stop()));
    await store.close();
    await tenant.close();
    await dir.remove();
  });

  const runner = (workflow: WorkflowStore, directory: TenantDirectory, options: Partial<RunnerOptions>) => {
    const made = new PlanRunner(workflow, directory, { needsApproval: () => false, pollMs: 50, ...options });
    runners.push(made);
    return made;
  };

  const assign = async (on: PlanRunner): Promise<Plan> => {
    const proposed = await on.propose(
      {
        kind: 'assignNumber',
        account: { id: KIOSK.id, userPrincipalName: KIOSK.upn, displayName: KIOSK.displayName },
        requestedBy: ADMIN,
        steps: [{ kind: 'assignNumber', telephoneNumber: NUMBER, numberType: 'callingPlan' }],
      },
      true,
    );
    if (!proposed.ok) throw new Error(`refused: ${proposed.reason}`);
    return proposed.value;
  };

  it('stops once its lease ran out unrenewed (the database cut off), while the instance that took the plan over finishes it', async () => {
    const faults: unknown[] = [];
    const stops: LeaseLostEvent[] = [];
    const a = stalling(tenant);
    const aStore = cutOff(store);
    const runnerA = runner(aStore.store, a.directory, { owner: 'a', leaseMs: 600, onFault: (error) => faults.push(error), onLeaseLost: (event) => stops.push(event) });
    const runnerB = runner(store, tenant, { owner: 'b', leaseMs: 600 });

    const plan = await assign(runnerA);
    await until(a.stalled);
    // A saw the number free, and now can reach neither the tenant's answer nor its database.
    aStore.state.cut = true;
    const lease = (await store.plan(plan.id))!.lease!;
    await until(() => Date.now() > Date.parse(lease.until) + 20);

    const taken = await runnerB.run(plan.id);
    expect(taken).toMatchObject({ status: 'done' });
    expect(await tenant.getPhoneNumber(NUMBER)).toMatchObject({ assignmentTargetId: KIOSK.id, activationState: 'activated' });

    aStore.state.cut = false;
    a.release();
    const ended = await runnerA.settle(plan.id, 10_000);

    // Before: A went on to assign the number it had seen free (the tenant refused it: already assigned).
    expect(a.after).toEqual([]);
    expect(ended).toMatchObject({ status: 'done' });
    expect((await store.plan(plan.id))!.steps[0]!.state.status).toBe('done');
    // Told as a lease lost, not as a fault of the step (which is logged at error level).
    expect(stops[0]).toMatchObject({ planId: plan.id, owner: 'a', why: 'ranOut', message: expect.stringMatching(/lease .*ran out/) });
    expect(faults.filter((f) => !(f instanceof StoreUnavailableError))).toEqual([]);
  });

  it('stops once it finds its lease taken by another instance (their clocks disagree), before its lease has run out by its own clock, and leaves that lease alone', async () => {
    const faults: unknown[] = [];
    const stops: LeaseLostEvent[] = [];
    const a = stalling(tenant);
    const b = stalling(tenant);
    const runnerA = runner(store, a.directory, { owner: 'a', leaseMs: 3_000, onFault: (error) => faults.push(error), onLeaseLost: (event) => stops.push(event) });
    // B's clock is an hour ahead: A's lease has run out for B, not for A.
    const runnerB = runner(store, b.directory, { owner: 'b', leaseMs: 3_000, now: () => new Date(Date.now() + 3_600_000) });

    const plan = await assign(runnerA);
    await until(a.stalled);
    // B takes the plan over and is in the middle of the same step, under a live lease of its own.
    const taken = runnerB.run(plan.id);
    await until(b.stalled);
    // A's heartbeat (every second with a 3 s lease) finds the plan no longer its own.
    await new Promise((r) => setTimeout(r, 1_300));
    a.release();
    await runnerA.settle(plan.id, 10_000);

    expect(a.after).toEqual([]);
    expect((await store.plan(plan.id))!.lease?.owner).toBe('b');
    expect(stops).toEqual([{ planId: plan.id, owner: 'a', why: 'taken', message: expect.stringMatching(/taken over/) }]);
    expect(faults).toEqual([]);

    b.release();
    expect(await taken).toMatchObject({ status: 'done' });
    expect(await tenant.getPhoneNumber(NUMBER)).toMatchObject({ assignmentTargetId: KIOSK.id });
  });

  it.each([false, true])('a step given up after the step timeout makes no tenant call once its run has ended (data folder held alone: %s)', async (exclusive) => {
    const a = stalling(tenant);
    const runnerA = runner(store, a.directory, { owner: 'a', exclusive, stepTimeoutMs: 200 });
    const plan = await assign(runnerA);
    await until(a.stalled);
    const parked = await runnerA.settle(plan.id, 10_000);
    expect(parked).toMatchObject({ status: 'failed', steps: [{ state: { note: { reason: 'TENANT_UNAVAILABLE' } } }] });

    // The slow answer comes after all: the step it belonged to may not go on to assign the number.
    a.release();
    await new Promise((r) => setTimeout(r, 300));
    expect(a.after).toEqual([]);
    expect(await tenant.getPhoneNumber(NUMBER)).toMatchObject({ assignmentTargetId: null });
  });

  it('a call that fails once the lease has run out is not recorded as the plan failing: the run stops and looks again later', async () => {
    const faults: unknown[] = [];
    const stops: LeaseLostEvent[] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let calling = false;
    // The assignment hangs (it never reaches the tenant) past the lease, then fails as a gateway would.
    const hanging = aroundCalls(tenant, async (call, name) => {
      if (name !== 'assignNumber' || calling) return call();
      calling = true;
      await released;
      throw Object.assign(new Error('504 Gateway Timeout'), { statusCode: 504 });
    });
    const aStore = cutOff(store);
    const runnerA = runner(aStore.store, hanging, { owner: 'a', leaseMs: 600, onFault: (error) => faults.push(error), onLeaseLost: (event) => stops.push(event) });
    const plan = await assign(runnerA);
    await until(() => calling);
    aStore.state.cut = true;
    const lease = (await store.plan(plan.id))!.lease!;
    await until(() => Date.now() > Date.parse(lease.until) + 20);
    aStore.state.cut = false;
    release();
    await runnerA.settle(plan.id, 10_000);

    // Before: the plan was recorded failed (TENANT_UNAVAILABLE, HTTP 504) under a lease that had run out.
    expect((await store.plan(plan.id))!.status).not.toBe('failed');
    // The gateway's failure is told with the lease lost, for the operator, and not as the step's fault.
    expect(stops[0]).toMatchObject({ why: 'ranOut', fault: expect.objectContaining({ statusCode: 504 }) });
    // What onFault heard is the heartbeat's store, cut off (a store fault); nothing of the lease or the 504.
    expect(faults.filter((f) => !(f instanceof StoreUnavailableError))).toEqual([]);
    // Looking again later, the run finds the number still free and assigns it.
    await until(() => calling && stops.length > 0);
    const deadline = Date.now() + 10_000;
    while ((await store.plan(plan.id))!.status !== 'done' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await store.plan(plan.id)).toMatchObject({ status: 'done' });
    expect(await tenant.getPhoneNumber(NUMBER)).toMatchObject({ assignmentTargetId: KIOSK.id });
  });
});
