import { DEMO } from '../../../src/backends/simulated/seed';
import { GraphError, GraphThrottledError } from '../../../src/backends/microsoft/graph/errors';
import { all, allBySkip, GraphClient, one, type RetryPolicy } from '../../../src/backends/microsoft/graph/http';
import { GraphUserSchema, NumberAssignmentSchema, SubscribedSkuSchema } from '../../../src/backends/microsoft/graph/schemas';
import { FakeClock } from '../../fakes/clock';
import { fakeJwt } from '../../fakes/credential';
import type { FakeMicrosoft365 } from '../../fakes/microsoft365';
import { startFake } from './helpers';

/** Throttling and retries against the fake Graph over real HTTP (teams-apis.md §1.9). */

const POLICY: RetryPolicy = { maxRetries: 3, baseDelayMs: 1_000, maxDelayMs: 8_000, maxRetryAfterMs: 60_000, timeoutMs: 10_000 };
const SKUS = /^\/subscribedSkus$/;

let fake: FakeMicrosoft365;
let clock: FakeClock;
let sut: GraphClient;

function client(fetchImpl: typeof fetch = fetch, policy = POLICY): GraphClient {
  return new GraphClient(fake.graphBaseUrl, async () => fakeJwt({ scp: 'x' }), { fetch: fetchImpl, sleep: clock.sleep, now: clock.now, random: () => 0.5 }, policy);
}

beforeEach(async () => {
  ({ fake, clock } = await startFake());
  sut = client();
});
afterEach(() => fake.close());

const readSkus = () => sut.getAll('/subscribedSkus', SubscribedSkuSchema);
const throttled = { status: 429, headers: { 'retry-after': '7' }, body: { error: { code: 'TooManyRequests', message: 'Too many requests' } } };

describe('throttling and transient faults', () => {
  it('waits exactly what Retry-After asks on 429, then succeeds', async () => {
    fake.inject({ path: SKUS, times: 2, ...throttled });
    expect(await readSkus()).toHaveLength(3);
    expect(clock.waits).toEqual([7_000, 7_000]);
    expect(fake.calls('GET', SKUS)).toHaveLength(3);
  });

  it('reads Retry-After given as an HTTP date against the clock', async () => {
    const at = new Date(clock.now().getTime() + 12_000).toUTCString();
    fake.inject({ path: SKUS, times: 1, status: 429, headers: { 'retry-after': at } });
    await readSkus();
    expect(clock.waits).toEqual([12_000]);
  });

  it('backs off exponentially with jitter on 503/504 without Retry-After', async () => {
    fake.inject({ path: SKUS, times: 1, status: 503 });
    fake.inject({ path: SKUS, times: 2, status: 504 });
    await readSkus();
    // step = 1 s, 2 s, 4 s; with random() = 0.5 the wait is three quarters of the step.
    expect(clock.waits).toEqual([750, 1_500, 3_000]);
  });

  it('gives up after a bounded number of retries', async () => {
    fake.inject({ path: SKUS, times: 100, ...throttled });
    const error = await readSkus().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphThrottledError);
    expect(fake.calls('GET', SKUS)).toHaveLength(POLICY.maxRetries + 1);
    expect(clock.waits).toEqual([7_000, 7_000, 7_000]);
  });

  it('does not wait out a Retry-After longer than the bound, and says how long was asked', async () => {
    fake.inject({ path: SKUS, times: 1, status: 429, headers: { 'retry-after': '3600' } });
    await expect(readSkus()).rejects.toThrow(/asks to wait 3600 s/);
    expect(clock.waits).toEqual([]);
    expect(fake.calls('GET', SKUS)).toHaveLength(1);
  });

  it.each([400, 401, 403, 404, 409])('does not retry a %i', async (status) => {
    fake.inject({ path: SKUS, times: 1, status, body: { error: { code: 'Request_BadRequest', message: 'no' } } });
    const error = await readSkus().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphError);
    expect(error).toMatchObject({ status, code: 'Request_BadRequest' });
    expect(fake.calls('GET', SKUS)).toHaveLength(1);
    expect(clock.waits).toEqual([]);
  });

  it('retries a 429 on a POST too (Graph did not process it)', async () => {
    fake.inject({ method: 'POST', path: /assignLicense$/, times: 1, ...throttled });
    const response = await sut.send('POST', sut.url('/users/a0000000-0000-4000-8000-000000000005/assignLicense'), { addLicenses: [], removeLicenses: [] });
    expect(response.status).toBe(200);
    expect(fake.calls('POST', /assignLicense$/)).toHaveLength(2);
  });

  it('repeats an idempotent call after a broken connection, never a POST', async () => {
    let failures = 0;
    const flaky: typeof fetch = async (input, init) => {
      if (failures < 1) {
        failures += 1;
        throw new TypeError('fetch failed');
      }
      return fetch(input, init);
    };
    sut = client(flaky);
    expect(await readSkus()).toHaveLength(3);
    failures = 0;
    await expect(sut.send('POST', sut.url('/users/x/assignLicense'), {})).rejects.toThrow('fetch failed');
    expect(fake.calls('POST', /assignLicense$/)).toHaveLength(0);
  });
});

describe('requests and paging', () => {
  it('sends the bearer token and asks for high priority (an admin is waiting)', async () => {
    await readSkus();
    const [request] = fake.calls('GET', SKUS);
    expect(request?.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.$/);
    expect(request?.headers['x-ms-throttle-priority']).toBe('High');
  });

  it('pages numberAssignments by $top/$skip until a short page, as documented (no nextLink)', async () => {
    const numbers = await sut.getAllBySkip('/admin/teams/telephoneNumberManagement/numberAssignments', NumberAssignmentSchema, {}, 20);
    const pages = fake.calls('GET', /numberAssignments$/);
    expect(numbers.length).toBeGreaterThan(60);
    expect(new Set(numbers.map((n) => n.telephoneNumber)).size).toBe(numbers.length);
    expect(pages.map((p) => [p.query.$top, p.query.$skip])).toEqual(
      Array.from({ length: Math.floor(numbers.length / 20) + 1 }, (_v, i) => ['20', String(i * 20)]),
    );
  });

  it('still follows an @odata.nextLink when one comes', async () => {
    const next = `${fake.graphBaseUrl}/admin/teams/telephoneNumberManagement/numberAssignments?$top=20&$skip=20`;
    const first = Array.from({ length: 20 }, (_v, i) => ({ telephoneNumber: `+1555000${String(i).padStart(4, '0')}`, numberType: 'callingPlan', assignmentStatus: 'unassigned' }));
    fake.inject({ path: /numberAssignments$/, times: 1, status: 200, body: { value: first, '@odata.nextLink': next } });
    const numbers = await sut.getAllBySkip('/admin/teams/telephoneNumberManagement/numberAssignments', NumberAssignmentSchema, {}, 20);
    expect(fake.calls('GET', /numberAssignments$/).map((p) => p.query.$skip).slice(0, 3)).toEqual(['0', '20', '40']);
    expect(numbers.slice(0, 20)).toEqual(first);
  });

  it('stops when a $skip is ignored and the same page comes back', async () => {
    const page = { value: [{ telephoneNumber: '+1', numberType: 'callingPlan', assignmentStatus: 'unassigned' }, { telephoneNumber: '+2', numberType: 'callingPlan', assignmentStatus: 'unassigned' }] };
    fake.inject({ path: /numberAssignments$/, times: 5, status: 200, body: page });
    await expect(sut.getAllBySkip('/admin/teams/telephoneNumberManagement/numberAssignments', NumberAssignmentSchema, {}, 2)).rejects.toThrow(/answered the previous page again/);
  });

  it('follows @odata.nextLink where Graph uses it (users)', async () => {
    await sut.getAll('/users', GraphUserSchema, { $filter: "department eq 'Microsoft Communication Application Instance'", $top: 5 });
    expect(fake.calls('GET', /^\/users$/).length).toBeGreaterThan(1);
  });

  it('refuses a nextLink that leaves the Graph host (the token would go with it)', async () => {
    fake.inject({ path: SKUS, times: 1, status: 200, body: { value: [], '@odata.nextLink': 'https://attacker.example/v1.0/subscribedSkus?$skiptoken=1' } });
    await expect(readSkus()).rejects.toThrow(/nextLink leaves/);
  });

  it('parses answers at the boundary: a malformed body is a fault, not data', async () => {
    fake.inject({ path: SKUS, times: 1, status: 200, body: { value: [{ skuId: 1 }] } });
    await expect(readSkus()).rejects.toThrow(/unexpected answer/);
  });
});

describe('JSON $batch (GraphClient.readMany)', () => {
  const USERS = '/users';
  /** The demo tenant's resource accounts (src/backends/simulated/seed.ts). */
  const ACCOUNTS = Object.keys(DEMO.accounts).length;
  const NUMBERS = '/admin/teams/telephoneNumberManagement/numberAssignments';
  const department = { $filter: "department eq 'Microsoft Communication Application Instance'", $select: 'id,userPrincipalName', $top: 999 };

  it('sends reads that are due together as one $batch, with URLs relative to the version root', async () => {
    const { skus, users, nobody } = await sut.readMany({
      skus: all('/subscribedSkus', SubscribedSkuSchema),
      users: all(USERS, GraphUserSchema, department),
      nobody: one('/users/e0000000-0000-4000-8000-00000000dead', GraphUserSchema, { $select: 'id,userPrincipalName' }, true),
    });
    expect(skus).toHaveLength(3);
    expect(users.length).toBe(ACCOUNTS);
    expect(nobody).toBeNull();
    // The fake pages users by 20, so one batch answers all three.
    expect(fake.graphRoundTrips).toBe(1);
    const [batch] = fake.calls('POST', /^\/\$batch$/);
    expect((batch?.body as { requests: { url: string; method: string }[] }).requests.map((r) => [r.method, r.url.split('?')[0]])).toEqual([
      ['GET', '/subscribedSkus'],
      ['GET', '/users'],
      ['GET', '/users/e0000000-0000-4000-8000-00000000dead'],
    ]);
    expect(batch?.authorization).toMatch(/^Bearer /);
  });

  it('reads the next pages of every collection together, nextLink and $skip alike', async () => {
    fake.tenant.addServiceNumbers(2_500);
    const { numbers, users } = await sut.readMany({
      numbers: allBySkip(NUMBERS, NumberAssignmentSchema, {}, 1_000),
      users: all(USERS, GraphUserSchema, { ...department, $top: Math.ceil(ACCOUNTS / 2) }),
    });
    expect(numbers.length).toBeGreaterThanOrEqual(2_500);
    expect(new Set(numbers.map((n) => n.telephoneNumber)).size).toBe(numbers.length);
    expect(users).toHaveLength(ACCOUNTS);
    // Round 1: both first pages; round 2: both second pages; round 3: the third page of numbers alone.
    expect(fake.calls('POST', /^\/\$batch$/)).toHaveLength(2);
    expect(fake.graphRoundTrips).toBe(3);
  });

  it('sends a throttled request of a batch again, alone or with the others, after its Retry-After', async () => {
    fake.inject({ method: 'GET', path: SKUS, times: 1, ...throttled });
    const { skus, users } = await sut.readMany({ skus: all('/subscribedSkus', SubscribedSkuSchema), users: all(USERS, GraphUserSchema, department) });
    expect(skus).toHaveLength(3);
    expect(users).toHaveLength(ACCOUNTS);
    expect(clock.waits).toEqual([7_000]);
    expect(fake.calls('GET', SKUS)).toHaveLength(2);
    expect(fake.calls('GET', /^\/users$/)).toHaveLength(1);
  });

  it('fails a read whose answer in the batch is a final error, with Graph\'s code', async () => {
    fake.inject({ method: 'GET', path: SKUS, times: 1, status: 403, body: { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges' } } });
    const error = await sut.readMany({ skus: all('/subscribedSkus', SubscribedSkuSchema), users: all(USERS, GraphUserSchema, department) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphError);
    expect(error).toMatchObject({ status: 403, code: 'Authorization_RequestDenied' });
  });

  it('never puts more than 20 requests in one batch', async () => {
    const ids = Array.from({ length: 45 }, (_, i) => `e0000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const reads = Object.fromEntries(ids.map((id) => [id, one(`/users/${id}`, GraphUserSchema, { $select: 'id' }, true)]));
    const found = await sut.readMany(reads);
    expect(Object.values(found).every((u) => u === null)).toBe(true);
    const sizes = fake.calls('POST', /^\/\$batch$/).map((b) => (b.body as { requests: unknown[] }).requests.length);
    expect(sizes.sort((a, b) => a - b)).toEqual([5, 20, 20]);
  });

  it('sends a batch again when its own POST is throttled: it only reads', async () => {
    fake.inject({ method: 'POST', path: /^\/\$batch$/, times: 1, ...throttled });
    const { skus } = await sut.readMany({ skus: all('/subscribedSkus', SubscribedSkuSchema), users: all(USERS, GraphUserSchema, department) });
    expect(skus).toHaveLength(3);
    expect(fake.calls('POST', /^\/\$batch$/)).toHaveLength(2);
  });
});
