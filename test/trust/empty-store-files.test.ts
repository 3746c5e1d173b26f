import fsp from 'node:fs/promises';
import path from 'node:path';
import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { StartupError } from '../../src/config';
import { testApp, tempDir } from '../helpers/app';
import { ADMIN } from '../helpers/identities';
import { expectOk, until } from '../helpers/waiting';

/**
 * A store file truncated to zero bytes (a restore gone wrong, `> file`, a file system that lost the
 * data of a file but kept its inode) used to be read as "a new, empty store" (attack9): an empty
 * workflow.json started with no plans and no pending requests, an empty tenant.json was seeded with
 * the demo tenant again. Start-up goes on only on the data folder's very first start; otherwise it
 * stops with one line naming the file and what to do (src/store/storeFiles.ts states the rule).
 */
const admin = { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name };

describe('a store file found empty', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App | undefined;

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await dir.remove();
  });

  /** The error that stopped start-up (failing the test if it started). */
  async function refusal(env: Record<string, string> = {}): Promise<Error> {
    const outcome = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', ...env }).then(
      (started) => {
        app = started;
        return undefined;
      },
      (error: unknown) => error as Error,
    );
    if (!outcome) throw new Error('start-up went on');
    return outcome;
  }

  /** One line (src/index.ts prints a StartupError's message alone) naming the file and the two ways out. */
  function expectOneLineNaming(error: Error, file: string): void {
    expect(error).toBeInstanceOf(StartupError);
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain(path.join(dir.dir, file));
    expect(error.message).toMatch(/restore it from a backup, or move it away/);
  }

  it('an empty workflow.json stops start-up instead of dropping the pending request', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' });
    const plan = expectOk(await app.provisioning.planDelete(admin, DEMO.accounts.helpdesk.id));
    expectOk(await app.approvals.confirm(plan.id, admin));
    await app.close();
    app = undefined;
    const file = path.join(dir.dir, 'workflow.json');
    const kept = await fsp.readFile(file);
    await fsp.truncate(file, 0);

    const error = await refusal();
    expectOneLineNaming(error, 'workflow.json');
    expect(error.message).toMatch(/is empty, although this data folder was used before \(workflow\.json\.journal\.\d+\.jsonl exists\)/);
    // Nothing was written over it, and the restored file starts with the request still pending.
    expect((await fsp.stat(file)).size).toBe(0);
    await fsp.writeFile(file, kept);
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' });
    expect((await app.approvals.get(plan.id))?.status).toBe('pending');
  });

  it('an empty tenant.json stops start-up instead of seeding the demo tenant over the accounts made', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none', SWITCHBOARD_PLAN_POLL_MS: '10' });
    const added = expectOk(await app.provisioning.addAccount(admin, { displayName: 'Night line', username: 'aa-night', domain: 'contoso.com', accountType: 'autoAttendant', usageLocation: 'US', license: 'resourceAccount' }));
    await until(async () => (await app!.plans.get(added.id))?.status === 'done', 8_000, 'the account to be created');
    await app.close();
    app = undefined;
    await fsp.truncate(path.join(dir.dir, 'tenant.json'), 0);

    const error = await refusal();
    expectOneLineNaming(error, 'tenant.json');
    expect(error.message).toMatch(/^simulated tenant: .*tenant\.json is empty/);
    expect((await fsp.stat(path.join(dir.dir, 'tenant.json'))).size).toBe(0);
  });

  it('an empty store file with its journal gone still stops start-up when another store file holds data', async () => {
    app = await testApp(dir.dir);
    await app.close();
    app = undefined;
    for (const name of await fsp.readdir(dir.dir)) if (name.startsWith('tenant.json')) await fsp.rm(path.join(dir.dir, name));
    await fsp.writeFile(path.join(dir.dir, 'tenant.json'), '');

    const error = await refusal();
    expectOneLineNaming(error, 'tenant.json');
    expect(error.message).toMatch(/used before \((conversations|workflow)\.json holds data\)/);
  });

  it('an empty conversations.json stops start-up (admins and approvers could no longer be reached)', async () => {
    app = await testApp(dir.dir);
    await app.close();
    app = undefined;
    await fsp.truncate(path.join(dir.dir, 'conversations.json'), 0);

    expectOneLineNaming(await refusal(), 'conversations.json');
  });

  it.each([
    ['workflow.json', '{"plans": {', /^workflow store: cannot read /],
    ['workflow.json', '[]', /^workflow store: .* does not hold a valid workflow store/],
    ['conversations.json', '{"contacts": ', /^conversation store: cannot read /],
    ['tenant.json', '{"accounts": ', /^simulated tenant: cannot read /],
  ])('a %s that cannot be decoded (%s) stops start-up with one line', async (file, content, message) => {
    app = await testApp(dir.dir);
    await app.close();
    app = undefined;
    await fsp.writeFile(path.join(dir.dir, file), content);

    const error = await refusal();
    expectOneLineNaming(error, file);
    expect(error.message).toMatch(message);
  });

  it('on the folder\'s very first start, empty store files (made with `touch`) are new stores', async () => {
    for (const file of ['workflow.json', 'tenant.json', 'conversations.json', 'audit.jsonl']) await fsp.writeFile(path.join(dir.dir, file), '');
    app = await testApp(dir.dir);
    expect(await app.directory.findAccountByUpn(DEMO.accounts.helpdesk.upn)).not.toBeNull();
    expect(await app.workflow.plans()).toEqual([]);
  });

  it('a store file moved away is a new store: that is how an operator asks for one', async () => {
    app = await testApp(dir.dir);
    expectOk(await app.provisioning.planDelete(admin, DEMO.accounts.helpdesk.id));
    await app.close();
    app = undefined;
    await fsp.rename(path.join(dir.dir, 'workflow.json'), path.join(dir.dir, 'workflow.json.moved'));

    app = await testApp(dir.dir);
    expect(await app.workflow.plans()).toEqual([]);
  });
});
