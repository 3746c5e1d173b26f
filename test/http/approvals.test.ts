import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import type { RunningServer } from '../../src/server';
import { testApp, tempDir } from '../helpers/app';
import { execute, message } from '../helpers/activities';
import { captureServer, post, replyTo } from '../helpers/connector';
import { cardTexts } from '../helpers/conversation';
import { APPROVER } from '../helpers/identities';

describe('approvals over real HTTP', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;
  let connector: Awaited<ReturnType<typeof captureServer>>;

  beforeEach(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir);
    server = await app.start();
    connector = await captureServer();
  });

  afterEach(async () => {
    await server.stop();
    await app.close();
    await connector.close();
    await dir.remove();
  });

  it('50 concurrent Approve clicks on one request make exactly one decision and one execution', async () => {
    const api = `${server.url}/api/messages`;
    const serviceUrl = connector.url;
    await post(api, message('help', { from: APPROVER, serviceUrl }));
    const asked = message('delete cq-helpdesk', { serviceUrl });
    await post(api, asked);
    const planId = /"planId":"([0-9a-f-]{36})"/.exec(JSON.stringify((await replyTo(connector, asked)).body))![1]!;
    const confirmed = await post(api, execute('confirmPlan', { planId }, { serviceUrl }));
    expect(cardTexts((confirmed.body as { value: unknown }).value)[1]).toBe('Waiting for an approver. Expires ' + (await app.approvals.get(planId))!.expiresAt.slice(0, 16).replace('T', ' ') + ' UTC.');
    const approvalCard = connector.posts.find((p) => p.url.startsWith('/v3/conversations/a%3Apersonal-29%3Aapprover/activities'));
    expect(approvalCard).toBeDefined();

    const deleteAccount = jest.spyOn(app.directory, 'deleteAccount');
    const clicks = await Promise.all(Array.from({ length: 50 }, () => post(api, execute('approveRequest', { requestId: planId }, { from: APPROVER, serviceUrl }))));

    expect(clicks.every((c) => c.status === 200)).toBe(true);
    const states = new Set(clicks.map((c) => cardTexts((c.body as { value: unknown }).value)[1]!.replace(/ on \d{4}-\d\d-\d\d \d\d:\d\d UTC/, '')));
    expect([...states].every((s) => /^Approved by Bob Approver\. (Running…|Done\.)$/.test(s))).toBe(true);
    const deadline = Date.now() + 5_000;
    while ((await app.plans.get(planId))?.status !== 'done' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(deleteAccount).toHaveBeenCalledTimes(1);
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).toBeNull();
    const audit = await app.audit.readAll();
    expect(audit.filter((e) => e.action === 'request.approved')).toHaveLength(1);
    expect(audit.filter((e) => e.action === 'account.delete')).toHaveLength(1);
  });

  it('serves a history export once over HTTP as CSV, then forgets the link', async () => {
    const api = `${server.url}/api/messages`;
    await post(api, execute('addAccount', { displayName: '=HYPERLINK("x")', username: 'aa-csv', domain: 'contoso.com', accountType: 'autoAttendant', usageLocation: 'US', license: 'none' }, { serviceUrl: connector.url }));
    const exported = await post(api, execute('exportHistory', { username: '' }, { serviceUrl: connector.url }));
    const card = (exported.body as { value: { actions: { url: string }[] } }).value;
    expect(cardTexts(card)).toEqual(['History export ready', expect.stringMatching(/^4 entries\. The link works once, until \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/)]);
    const url = card.actions[0]!.url;
    expect(url).toMatch(new RegExp(`^${server.url}/exports/[0-9a-f]{32}\\.csv$`));

    // GET answers the page with the download button; its POST takes the link (link previewers only GET).
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const first = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const csv = await first.text();
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('at,actor,actorObjectId,action,target,outcome,reason,requestId,detail');
    expect(lines.map((l) => l.split(',')[3])).toEqual(['action', 'plan.addAccount', 'account.create', 'account.setUsageLocation', 'plan.addAccount']);
    expect(csv).not.toMatch(/(^|,)=HYPERLINK/m);
    expect((await fetch(url, { method: 'POST' })).status).toBe(404);
    expect((await fetch(url)).status).toBe(404);
  });
});
