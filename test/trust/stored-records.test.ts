import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { execute } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { Conversation } from '../helpers/conversation';
import { ADMIN } from '../helpers/identities';
import { expectOk } from '../helpers/waiting';

const admin = { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name };
const at = '2026-11-28T10:00:00.000Z';

const plan = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'deleteAccount',
  version: 1,
  status: 'awaitingConfirmation',
  account: { id: DEMO.accounts.helpdesk.id, userPrincipalName: DEMO.accounts.helpdesk.upn, displayName: 'Helpdesk' },
  requestedBy: admin,
  createdAt: at,
  updatedAt: at,
  steps: [{ step: { kind: 'deleteAccount' }, state: { status: 'pending' } }],
  ...extra,
});

async function quarantined(file: string): Promise<{ collection: string; key: string; problems: string }[]> {
  const text = await readFile(`${file}.quarantine.jsonl`, 'utf8');
  return text.trim().split('\n').map((l) => JSON.parse(l) as { collection: string; key: string; problems: string });
}

describe('a bad stored record is quarantined and never blocks start-up (issue 9 item 11)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App | undefined;

  beforeEach(async () => {
    dir = await tempDir();
    app = undefined;
  });

  afterEach(async () => {
    await app?.close();
    await dir.remove();
  });

  it('starts with a plan file of the first version holding a non-string replyToId in its card reference', async () => {
    const good = plan('0d0d0d0d-0000-4000-8000-000000000001');
    const poisoned = plan('0d0d0d0d-0000-4000-8000-000000000002', {
      card: { conversation: { conversation: { id: 'a:chat' }, serviceUrl: 'http://127.0.0.1:1/', channelId: 'msteams', bot: { id: '28:bot' } }, activityId: { $gt: '' }, locale: 'en' },
    });
    const broken = { ...plan('0d0d0d0d-0000-4000-8000-000000000003'), steps: 'all of them' };
    await writeFile(path.join(dir.dir, 'plans.json'), JSON.stringify({ plans: { [good.id]: good, [poisoned.id]: poisoned, [broken.id]: broken } }));
    app = await testApp(dir.dir);
    expect((await app.plans.get(good.id))!.status).toBe('awaitingConfirmation');
    expect((await app.plans.get(poisoned.id))!.status).toBe('awaitingConfirmation');
    expect(await app.plans.get(broken.id)).toBeUndefined();
    expect((await quarantined(path.join(dir.dir, 'workflow.json'))).map((q) => `${q.collection}:${q.key}`)).toEqual([`plans:${broken.id}`, `plans.card:${poisoned.id}`]);
  });

  it('quarantines a bad record of the workflow file and of the contacts, and keeps the rest', async () => {
    app = await testApp(dir.dir);
    const kept = expectOk(await app.provisioning.planDelete(admin, DEMO.accounts.helpdesk.id));
    await app.close();
    const workflowFile = path.join(dir.dir, 'workflow.json');
    const doc = JSON.parse(await readFile(workflowFile, 'utf8')) as { plans: Record<string, unknown> };
    doc.plans['bad'] = { id: 'bad', status: 42 };
    await writeFile(workflowFile, JSON.stringify(doc));
    await writeFile(
      path.join(dir.dir, 'conversations.json'),
      JSON.stringify({ contacts: { x: { aadObjectId: 'x', userId: 'u', name: { first: 'deep' }, conversation: {}, locale: 'en', updatedAt: at } }, channels: {} }),
    );
    app = await testApp(dir.dir);
    expect((await app.plans.get(kept.id))!.status).toBe('awaitingConfirmation');
    expect(await app.plans.get('bad')).toBeUndefined();
    expect((await quarantined(workflowFile)).map((q) => q.key)).toEqual(['bad']);
    expect((await quarantined(path.join(dir.dir, 'conversations.json'))).map((q) => q.key)).toEqual(['x']);
  });

  it('never stores a non-string replyToId or from.name that a click carries, so the next start-up works', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
    const sut = new Conversation(app);
    const planId = expectOk(await app.provisioning.planDelete(admin, DEMO.accounts.helpdesk.id)).id;
    const click = execute('refreshPlan', { planId });
    await sut.invoke({ ...click, replyToId: { $ne: null } as unknown as string, from: { ...click.from!, name: ['Ada'] as unknown as string } });
    await app.close();
    app = await testApp(dir.dir);
    expect((await app.plans.get(planId))!.status).toBe('awaitingConfirmation');
  });
});
