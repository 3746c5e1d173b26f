import fsp from 'node:fs/promises';
import path from 'node:path';
import type { App } from '../../src/app';
import type { RunningServer } from '../../src/server';
import { message } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { captureServer } from '../helpers/connector';
import { APPROVER, STRANGER } from '../helpers/identities';
import { rawRequest } from '../helpers/rawHttp';

/**
 * The bot kept a stranger's personal chat out of the store, but saved the channel reference of any
 * activity naming a `channelData.channel.id`, whatever the sender's role (attack9): a person with no
 * role grew conversations.json by one record per made-up channel id, and in local mode could point
 * the approvals channel at a serviceUrl of their own. Only admins and approvers are remembered now.
 */
describe('where to reach people and channels is saved from admins and approvers only', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;
  let connector: Awaited<ReturnType<typeof captureServer>>;
  const file = () => path.join(dir.dir, 'conversations.json');

  beforeEach(async () => {
    dir = await tempDir();
    connector = await captureServer();
    app = await testApp(dir.dir);
    server = await app.start();
  });

  afterEach(async () => {
    await server.stop();
    await app.close();
    await connector.close();
    await dir.remove();
  });

  const inChannel = (from: typeof STRANGER, channelId: string) => {
    const activity = message('help', { from, serviceUrl: connector.url }) as Record<string, unknown>;
    activity.channelData = { ...(activity.channelData as object), channel: { id: channelId } };
    return JSON.stringify(activity);
  };

  it("a stranger's messages naming 200 made-up channels leave conversations.json as it was", async () => {
    await app.contacts.flush();
    const before = await fsp.readFile(file(), 'utf8');
    for (let i = 0; i < 200; i++) {
      const answer = await rawRequest(`${server.url}/api/messages`, { headers: { 'content-type': 'application/json' }, body: inChannel(STRANGER, `19:made-up-${i}@thread.tacv2`) });
      expect(answer.status).toBe(200);
    }
    await app.contacts.flush();
    expect(await fsp.readFile(file(), 'utf8')).toBe(before);
    expect(await app.contacts.channel('19:made-up-0@thread.tacv2')).toBeUndefined();
  }, 60_000);

  it("an approver's message in a channel still tells the bot where that channel is", async () => {
    const answer = await rawRequest(`${server.url}/api/messages`, { headers: { 'content-type': 'application/json' }, body: inChannel(APPROVER, '19:approvals@thread.tacv2') });
    expect(answer.status).toBe(200);
    expect((await app.contacts.channel('19:approvals@thread.tacv2'))?.conversation.conversation.id).toBe('19:approvals@thread.tacv2');
  });
});
