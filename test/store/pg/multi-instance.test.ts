import { DEMO } from '../../../src/backends/simulated/seed';
import { MIGRATIONS } from '../../../src/store/pg/migrations';
import { ensureBuilt } from '../../helpers/botProcess';
import { captureServer, type Captured } from '../../helpers/connector';
import { cardTexts } from '../../helpers/conversation';
import { APPROVER, APPROVER_2 } from '../../helpers/identities';
import { startPostgres, type TestPostgres } from '../../helpers/postgres';
import { idOn, until } from '../../helpers/waiting';
import { click, Instances, say, Sql, type Instance } from './instances';

/**
 * Several instances, one truth (issue 11): real bot processes (the compiled src/index.ts) on one real
 * PostgreSQL database, driven over HTTP at /api/messages as Teams drives them, their connector calls
 * captured on loopback. What one instance records, the other acts on; what must happen once happens
 * once. The instances start together on an empty database (the first test looks at that start) and
 * serve every test after it; the last one kills one of them.
 */
jest.setTimeout(90_000);

const ADMIN_CHAT = 'a:personal-chat';
const APPROVER_CHAT = 'a:personal-29:approver';
const APPROVER_2_CHAT = 'a:personal-29:approver2';

let postgres: TestPostgres;
let sql: Sql;
let instances: Instances;
let connector: Awaited<ReturnType<typeof captureServer>>;
let a: Instance;
let b: Instance;
let c: Instance;
/**
 * The next card posted into this conversation is answered 429 (Teams throttling), once. Not a 5xx:
 * the connector client retries those itself, and this is about the outbox's own retry.
 */
let failNextPostTo: string | undefined;

beforeAll(async () => {
  [postgres] = await Promise.all([startPostgres(), ensureBuilt()]);
  const url = await postgres.newDatabase();
  sql = new Sql(url);
  connector = await captureServer({
    status: (call) => {
      if (call.method !== 'POST' || !failNextPostTo || !call.url.includes(`/v3/conversations/${encodeURIComponent(failNextPostTo)}/activities`)) return 200;
      failNextPostTo = undefined;
      return 429;
    },
  });
  // A short lease, so that a plan whose runner died is taken over within seconds; sweeps often, so
  // that both instances keep trying to run them.
  instances = new Instances(url, { SWITCHBOARD_PLAN_LEASE_SECONDS: '3', SWITCHBOARD_SWEEP_SECONDS: '0.5' });
  [a, b, c] = (await instances.start('a', 'b', 'c')) as [Instance, Instance, Instance];
}, 240_000);

afterAll(async () => {
  await instances?.close();
  await sql?.close();
  await connector?.close();
  await postgres?.close();
});

/** The calls that posted a new card into one conversation (that got through, unless `all`). */
function postsTo(conversationId: string, all = false): Captured[] {
  return connector.posts.filter((p) => p.method === 'POST' && p.url.includes(`/v3/conversations/${encodeURIComponent(conversationId)}/activities`) && (all || p.status === undefined));
}

/** The calls that updated one posted card in place (updateActivity). */
function updatesOf(activityId: string): Captured[] {
  return connector.posts.filter((p) => p.method === 'PUT' && p.url.endsWith(`/activities/${encodeURIComponent(activityId)}`) && p.status === undefined);
}

const mentions = (call: Captured, id: string) => JSON.stringify(call.body).includes(id);
const textOf = (call: Captured) => cardTexts((call.body as { attachments?: { content: unknown }[] }).attachments?.[0]?.content);

/** Asks for an account's deletion in the chat with `on`: the plan the bot proposes. */
async function proposeDelete(on: Instance, upn: string): Promise<string> {
  const before = postsTo(ADMIN_CHAT).length;
  await say(on, connector.url, `delete ${upn.split('@')[0]!}`);
  // The reply to a message goes out through the outbox after the HTTP answer (issue 12, part 4).
  const find = () => postsTo(ADMIN_CHAT).slice(before).find((p) => mentions(p, '"planId"') && mentions(p, upn));
  await until(() => find() !== undefined, 15_000, `the plan card for ${upn}`);
  const card = find();
  if (!card) throw new Error(`no plan card for ${upn}`);
  return idOn(card.body, 'planId');
}

/** Each approver says hello to one instance: the bot can reach them from then on (any instance). */
async function approversTalkTo(bobs: Instance, dees: Instance): Promise<void> {
  await say(bobs, connector.url, 'help', APPROVER);
  await say(dees, connector.url, 'help', APPROVER_2);
}

/** Every 'plan step' event of one plan, from every instance, with the instance's name. */
function stepsOf(planId: string, among: Instance[]) {
  return among
    .flatMap((i) => i.events<{ planId: string; index: number; phase: 'started' | 'finished'; owner: string }>('plan step').map((e) => ({ ...e, instance: i.name })))
    .filter((e) => e.planId === planId)
    .sort((x, y) => x.time - y.time);
}

describe('instances sharing one PostgreSQL database', () => {
  it('three instances started at once on an empty database all start; the schema is migrated once and the tenant seeded once', async () => {
    const versions = MIGRATIONS.map((m) => m.version);
    expect((await sql.rows<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version)).toEqual(versions);
    // Each migration was applied by exactly one of them (the others waited on the lock, then found it done).
    const applied = [a, b, c].flatMap((i) => i.events<{ version: number }>('PostgreSQL: migration applied').map((e) => e.version));
    expect(applied.sort((x, y) => x - y)).toEqual(versions);
    // One seed: every row of the tenant was written by its first commit (a second seed would have
    // been a commit of its own), and every instance serves it.
    expect(await sql.rows('SELECT DISTINCT seq FROM sim_entities')).toEqual([{ seq: '1' }]);
    for (const instance of [a, b, c]) expect((await fetch(`${instance.url}/healthz`)).status).toBe(200);
    // The third one is not needed further: it stops cleanly.
    expect(await c.bot.stop()).toBe('0');
  });

  it('100 Approve clicks racing over both instances: one decision, one execution, one "approved" audit entry', async () => {
    await approversTalkTo(a, b);
    const planId = await proposeDelete(a, DEMO.accounts.helpdesk.upn);
    expect(cardTexts(await click(b, connector.url, 'confirmPlan', { planId }))).toContain('Sent for approval to Bob Approver, Dee Approver.');

    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => click(i % 2 ? a : b, connector.url, 'approveRequest', { requestId: planId }, (i >> 1) % 2 ? APPROVER : APPROVER_2)));
    await until(async () => (await sql.planStatus(planId)) === 'done', 30_000, 'the plan to be done');
    const request = (await sql.rows<{ doc: { status: string; decision: { name: string } } }>('SELECT doc FROM requests WHERE id = $1', [planId]))[0]!.doc;
    expect(request.status).toBe('done');
    // Every click was answered with the one decision, whoever made it and whichever instance answered.
    for (const answer of answers) expect(cardTexts(answer)[1]).toMatch(new RegExp(`^Approved by ${request.decision.name} on `));
    const story = await sql.auditOf(planId);
    expect(story.filter((x) => x === 'request.approved')).toHaveLength(1);
    expect(story.filter((x) => x === 'account.delete')).toHaveLength(1);
    // One execution: every step started once, on one instance or the other.
    const started = stepsOf(planId, [a, b]).filter((e) => e.phase === 'started');
    expect(started.length).toBeGreaterThan(0);
    expect(started.map((e) => e.index)).toEqual([...new Set(started.map((e) => e.index))]);
    expect(await sql.rows(`SELECT key FROM sim_entities WHERE collection = 'accounts' AND key = $1 AND doc IS NOT NULL`, [DEMO.accounts.helpdesk.id])).toEqual([]);
  });

  it('a click answered by one instance updates the card copies the other sent; an export link made on one downloads on the other, once', async () => {
    await approversTalkTo(a, b);
    const planId = await proposeDelete(b, DEMO.accounts.paris.upn);
    // The requester's own card (the click's replyToId) becomes a copy too.
    await click(b, connector.url, 'confirmPlan', { planId }, undefined, { replyToId: 'plan-card-paris' });
    // Both workers are woken by the commit; each card goes out once, from one of them.
    const sent = () => [a, b].flatMap((i) => i.events<{ planId: string; kind: string; activityId: string }>('outbox: card sent').map((e) => ({ ...e, by: i }))).filter((e) => e.planId === planId);
    await until(() => sent().length === 2, 20_000, 'both approval cards to be sent');
    // The copy Bob got: the connector named it after its place in the calls (captureServer).
    const bobsCopy = `posted-${connector.posts.indexOf(postsTo(APPROVER_CHAT).find((p) => mentions(p, planId))!) + 1}`;
    const sender = sent().find((e) => e.activityId === bobsCopy)!.by;
    const answerer = sender === a ? b : a;

    const answer = await click(answerer, connector.url, 'approveRequest', { requestId: planId }, APPROVER);
    expect(cardTexts(answer)[1]).toMatch(/^Approved by Bob Approver on /);
    await until(async () => (await sql.planStatus(planId)) === 'done', 20_000, 'the plan to be done');
    // Every copy, wherever it was sent from, ends showing the plan done.
    const lastText = (activityId: string) => updatesOf(activityId).map(textOf).at(-1)?.[1];
    for (const copy of sent()) await until(() => /Done\.$/.test(lastText(copy.activityId) ?? ''), 20_000, `the copy ${copy.activityId} sent by ${copy.by.name} to show Done`);
    await until(() => /^Approved by Bob Approver on .* Done\.$/.test(lastText('plan-card-paris') ?? ''), 20_000, 'the requester\'s card to show Done');

    const exported = await click(answerer, connector.url, 'exportHistory', { username: 'aa-paris' });
    const link = (exported as { actions: { url: string }[] }).actions[0]!.url;
    expect(link.startsWith(`${answerer.url}/exports/`)).toBe(true);
    const elsewhere = link.replace(answerer.url, sender.url);
    expect((await fetch(elsewhere)).status).toBe(200);
    const download = await fetch(elsewhere, { method: 'POST' });
    expect(download.status).toBe(200);
    const actions = (await download.text()).trim().split('\n').slice(1).map((line) => line.split(',')[3]);
    expect(actions).toEqual(expect.arrayContaining(['request.created', 'request.approved', 'account.delete', 'request.done']));
    // Used once: neither instance hands it out again.
    expect((await fetch(link, { method: 'POST' })).status).toBe(404);
    expect((await fetch(elsewhere, { method: 'POST' })).status).toBe(404);
  });

  it('periodic work runs on one instance at a time: due requests expire once and their requesters hear it once, each card goes out once (a failed one is retried once), a broken pair is repaired once', async () => {
    const expiring = [DEMO.accounts.sales.upn, DEMO.accounts.reception.upn, DEMO.accounts.supportFr.upn];
    await approversTalkTo(b, a);
    failNextPostTo = APPROVER_2_CHAT;
    const ids: string[] = [];
    for (const [n, upn] of [...expiring, DEMO.accounts.mainLine.upn].entries()) {
      const planId = await proposeDelete(n % 2 ? a : b, upn);
      await click(n % 2 ? b : a, connector.url, 'confirmPlan', { planId });
      ids.push(planId);
    }
    const broken = ids.pop()!;
    const delivered = (chat: string, id: string) => postsTo(chat).filter((p) => mentions(p, id)).length;
    await until(() => [...ids, broken].every((id) => delivered(APPROVER_CHAT, id) > 0 && delivered(APPROVER_2_CHAT, id) > 0), 30_000, 'every approval card to be delivered');

    // Time passes for three of them (as an operator would see it: their expiry moved into the past);
    // the fourth is left approved by Bob with its plan never started, as a crash between two writes
    // of an older store could leave it. The version moves on too, so that no transaction in flight
    // keeps an older copy.
    await sql.rows(
      `UPDATE requests SET version = version + 1, doc = jsonb_set(jsonb_set(doc, '{version}', to_jsonb(version + 1)), '{expiresAt}', to_jsonb($2::text)) WHERE id = ANY($1)`,
      [ids, new Date(Date.now() - 1_000).toISOString()],
    );
    const decision = { aadObjectId: APPROVER.aadObjectId, name: APPROVER.name, at: new Date().toISOString() };
    await sql.rows(
      `UPDATE requests SET version = version + 1, status = 'approved',
              doc = doc || jsonb_build_object('version', version + 1, 'status', 'approved', 'decision', $2::jsonb) WHERE id = $1`,
      [broken, JSON.stringify(decision)],
    );

    const statuses = async () => (await sql.rows<{ status: string }>('SELECT status FROM requests WHERE id = ANY($1)', [ids])).map((r) => r.status);
    await until(async () => (await statuses()).every((x) => x === 'expired'), 30_000, 'the requests to expire');
    await until(async () => (await sql.planStatus(broken)) === 'done', 30_000, 'the repaired plan to run');
    const told = (upn: string) => postsTo(ADMIN_CHAT).filter((p) => mentions(p, 'Your request expired without a decision') && mentions(p, upn)).length;
    await until(() => expiring.every((upn) => told(upn) > 0), 30_000, 'every requester to be told');
    await until(async () => (await sql.rows(`SELECT id FROM outbox WHERE plan_id = ANY($1) AND status = 'pending'`, [[...ids, broken]])).length === 0, 30_000, 'the outbox to be empty');

    for (const id of ids) expect({ id, expired: (await sql.auditOf(id)).filter((x) => x === 'request.expired').length }).toEqual({ id, expired: 1 });
    for (const upn of expiring) expect({ upn, told: told(upn) }).toEqual({ upn, told: 1 });
    const story = await sql.auditOf(broken);
    expect(story.filter((x) => x === 'request.reconciled')).toHaveLength(1);
    expect(story.filter((x) => x === 'account.delete')).toHaveLength(1);
    const started = stepsOf(broken, [a, b]).filter((e) => e.phase === 'started');
    expect(started.map((e) => e.index)).toEqual([...new Set(started.map((e) => e.index))]);
    // One card per approver and request; the one the connector failed went out again once.
    for (const id of [...ids, broken]) expect({ id, bob: delivered(APPROVER_CHAT, id), dee: delivered(APPROVER_2_CHAT, id) }).toEqual({ id, bob: 1, dee: 1 });
    expect(postsTo(APPROVER_2_CHAT, true).filter((p) => p.status === 429)).toHaveLength(1);
    // …by the outbox (one retry, on one instance), not by the connector client behind its back.
    // (Since a refused send counts as a failure, a 429 with Retry-After is rescheduled for the time it
    // names, without the "delivery failed" line; at most one such line, for the approval card.)
    expect([a, b].flatMap((i) => i.events<{ kind: string }>('outbox: delivery failed, will retry')).map((e) => e.kind)).not.toContain('refreshCopies');
    // The sweeps of the two instances never overlapped (one instance at a time), and they did run.
    const rounds = [a, b]
      .flatMap((i) => i.events<{ ran: boolean; startedAt?: string; endedAt?: string }>('approvals sweep').map((e) => ({ ...e, instance: i.name })))
      .filter((e) => e.ran)
      .map((e) => ({ instance: e.instance, from: Date.parse(e.startedAt!), to: Date.parse(e.endedAt!) }))
      .sort((x, y) => x.from - y.from);
    expect(rounds.length).toBeGreaterThan(4);
    for (let i = 1; i < rounds.length; i++) expect({ round: rounds[i], startsAfter: rounds[i]!.from >= rounds[i - 1]!.to }).toMatchObject({ startsAfter: true });
  });

  // Last: it kills one of the two.
  it('a plan runs on one instance under a lease; killed (-9) mid-step, it is resumed by the other once the lease has expired, never by two at once', async () => {
    const upn = 'aa-lease@contoso.com';
    // The tenant's commits wait behind this lock: the step that creates the account hangs in its
    // runner, as a slow tenant call would, while the runner keeps renewing its lease.
    const lock = await sql.connect();
    await lock.query('BEGIN');
    await lock.query('SELECT version FROM sim_tenant FOR UPDATE');
    let locked = true;
    try {
      const form = { displayName: 'Lease test', username: 'aa-lease', domain: 'contoso.com', accountType: 'autoAttendant', usageLocation: 'US', license: 'resourceAccount' };
      // Its answer may never come (its instance is about to be killed).
      void click(a, connector.url, 'addAccount', form).catch(() => undefined);
      const first = () => [a, b].flatMap((i) => i.events<{ planId: string; kind: string; phase: string }>('plan step').map((e) => ({ ...e, by: i }))).find((e) => e.kind === 'createAccount' && e.phase === 'started');
      await until(() => first() !== undefined, 20_000, 'the plan to start its first step');
      const { planId, by: runner } = first()!;
      const other = runner === a ? b : a;
      // Longer than a lease: the runner renews it, and the other instance, sweeping all along, leaves the plan alone.
      await new Promise((r) => setTimeout(r, 4_000));
      expect(stepsOf(planId, [other])).toEqual([]);
      await runner.bot.kill9();
      const killedAt = Date.now();
      const { lease } = (await sql.rows<{ doc: { lease: { until: string } } }>('SELECT doc FROM plans WHERE id = $1', [planId]))[0]!.doc;
      // The dead runner's statement, still queued in the database, may commit now: the step acted, or not.
      await lock.query('ROLLBACK');
      lock.release();
      locked = false;

      await until(async () => (await sql.planStatus(planId)) === 'done', 30_000, 'the other instance to finish the plan');
      const steps = stepsOf(planId, [a, b]);
      const resumed = steps.filter((e) => e.instance === other.name);
      // Taken over only once the lease had expired, from the step that was interrupted, and after the
      // runner was gone: the step never ran in two places at once.
      expect(resumed[0]).toMatchObject({ phase: 'started', index: 0 });
      expect(resumed[0]!.time).toBeGreaterThanOrEqual(Date.parse(lease.until));
      expect(resumed[0]!.time).toBeGreaterThanOrEqual(killedAt);
      expect(steps.filter((e) => e.instance === runner.name).map((e) => `${e.phase} ${e.index}`)).toEqual(['started 0']);
      const started = resumed.filter((e) => e.phase === 'started').map((e) => e.index);
      expect(started).toEqual([...new Set(started)]);
      // One account, whole; its creation recorded once (found done after the restart, or made then).
      const accounts = await sql.rows<{ doc: { usageLocation: string; assignedLicenses: string[] } }>(
        `SELECT doc FROM sim_entities WHERE collection = 'accounts' AND doc->>'userPrincipalName' = $1`,
        [upn],
      );
      expect(accounts.map((x) => ({ usageLocation: x.doc.usageLocation, licenses: x.doc.assignedLicenses.length }))).toEqual([{ usageLocation: 'US', licenses: 1 }]);
      expect((await sql.auditOf(planId)).filter((x) => x === 'account.create')).toHaveLength(1);
      expect((await sql.rows<{ doc: { lease?: unknown } }>('SELECT doc FROM plans WHERE id = $1', [planId]))[0]!.doc.lease).toBeUndefined();
    } finally {
      if (locked) {
        await lock.query('ROLLBACK').catch(() => undefined);
        lock.release();
      }
    }
  });
});
