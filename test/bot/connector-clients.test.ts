import type { Activity, ConversationReference, TurnContext } from 'botbuilder';
import { SwitchboardAdapter } from '../../src/bot/adapter';
import { createLogger } from '../../src/log/logger';
import { message } from '../helpers/activities';
import { testConfig, tempDir } from '../helpers/app';
import { captureServer } from '../helpers/connector';

/**
 * Issue 13: CloudAdapter built a new ConnectorClient and a new UserTokenClient (each with its own HTTP
 * pipeline) for every turn, before the bot ran, even for an invoke that never uses them. The adapter
 * keeps them between turns now. What must hold: a kept client only ever talks to the service URL it
 * was made for, replies still reach the Bot Connector (real HTTP, loopback), and the kept set is bounded.
 */
describe('connector clients are kept between turns, per service URL', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let adapter: SwitchboardAdapter;
  let connectors: Awaited<ReturnType<typeof captureServer>>[];

  beforeEach(async () => {
    dir = await tempDir();
    adapter = new SwitchboardAdapter(testConfig(dir.dir), createLogger('silent'));
    connectors = [await captureServer(), await captureServer()];
  });

  afterEach(async () => {
    await Promise.all(connectors.map((c) => c.close()));
    await dir.remove();
  });

  interface Seen {
    connector: unknown;
    tokens: unknown;
  }

  /** Runs one turn that replies with `text`; what the turn was given to talk to Teams. */
  async function turn(serviceUrl: string, text: string): Promise<Seen> {
    let seen: Seen | undefined;
    const outcome = await adapter.handle('', message(text, { serviceUrl }) as Activity, async (context: TurnContext) => {
      seen = { connector: context.turnState.get(adapter.ConnectorClientKey), tokens: context.turnState.get(adapter.UserTokenClientKey) };
      await context.sendActivity(text);
    });
    expect(outcome).toEqual({ kind: 'done' });
    return seen!;
  }

  it('reuses the clients for turns of the same service URL, makes new ones for another, and every reply reaches its own connector', async () => {
    const [a, b] = connectors as [Awaited<ReturnType<typeof captureServer>>, Awaited<ReturnType<typeof captureServer>>];
    const first = await turn(a.url, 'one');
    const second = await turn(a.url, 'two');
    const elsewhere = await turn(b.url, 'three');

    expect(first.connector).toBeDefined();
    expect(second.connector).toBe(first.connector);
    expect(second.tokens).toBe(first.tokens);
    expect(elsewhere.connector).not.toBe(first.connector);
    // Replies of a message turn go after the answer (src/bot/replies.ts); here the turn sends them itself.
    expect(a.posts.map((p) => [p.method, p.url.replace(/\/v3\/conversations\/[^/]+\/activities\/.*$/, '/v3/…'), p.body.text])).toEqual([
      ['POST', '/v3/…', 'one'],
      ['POST', '/v3/…', 'two'],
    ]);
    expect(b.posts.map((p) => p.body.text)).toEqual(['three']);

    // Proactive turns (the outbox worker's) to the first service URL reach the first connector, and keep
    // their client too (their own: they name no audience).
    const reference = { ...message('', { serviceUrl: a.url }), bot: { id: '28:switchboard', name: 'Switchboard' } } as Partial<ConversationReference>;
    const proactive: unknown[] = [];
    for (const text of ['later', 'later again']) {
      await adapter.continueConversationAsync('', reference, async (context) => {
        proactive.push(context.turnState.get(adapter.ConnectorClientKey));
        await context.sendActivity(text);
      });
    }
    expect(proactive[1]).toBe(proactive[0]);
    expect(a.posts.map((p) => p.body.text)).toEqual(['one', 'two', 'later', 'later again']);
    expect(b.posts).toHaveLength(1);
  });

  it('keeps at most 64 service URLs: one in use stays, one unused past 64 others gets a new client', async () => {
    const [a] = connectors as [Awaited<ReturnType<typeof captureServer>>];
    const first = await turn(a.url, 'first');
    // Service URLs come from activities: other hosts that do not answer are enough, nothing is sent there.
    const other = (i: number) => adapter.handle('', message('x', { serviceUrl: `http://127.0.0.1:1/other-${i}/` }) as Activity, async () => undefined);
    for (let i = 0; i < 128; i += 1) {
      await other(i);
      if (i % 16 === 15) expect((await turn(a.url, `busy ${i}`)).connector).toBe(first.connector);
    }
    for (let i = 128; i < 192; i += 1) await other(i);
    const again = await turn(a.url, 'again');
    expect(again.connector).not.toBe(first.connector);
    expect(a.posts.map((p) => p.body.text)).toHaveLength(10);
    expect(a.posts.at(-1)!.body.text).toBe('again');
  });
});
