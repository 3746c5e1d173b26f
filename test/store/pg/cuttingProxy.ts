import net from 'node:net';

interface Pair {
  client: net.Socket;
  server: net.Socket;
  /** The client sent the marked statement: its answer is not forwarded. */
  doomed: boolean;
  /** The server side is gone; the client learns it on its next write. */
  stale: boolean;
}

/**
 * A TCP proxy in front of PostgreSQL that can lose an answer, the one failure a database client
 * cannot tell from the outside: armed with a marker, it forwards the client's message holding the
 * marker (node-postgres sends each statement's text in its Parse message), lets the server act on it,
 * and then closes both connections instead of forwarding the answer. It can also make the database
 * unreachable (every connection dropped, new ones refused) and reachable again.
 */
export class CuttingProxy {
  private readonly pairs = new Set<Pair>();
  private marker: { text: string; thenRefuse: boolean } | undefined;
  private swallowing: string | undefined;
  private refusing = false;
  /** Answers lost so far. */
  cuts = 0;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<CuttingProxy> {
    let proxy: CuttingProxy | undefined;
    const server = net.createServer((client) => proxy?.accept(client, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy = new CuttingProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  /** The same database URL, through the proxy. */
  url(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.port = String(this.port);
    return url.toString();
  }

  /** The next statement whose text holds `text` acts, and its answer is lost; then, optionally, the database is out of reach. */
  loseAnswerTo(text: string, options: { thenRefuse?: boolean } = {}): void {
    this.marker = { text, thenRefuse: options.thenRefuse ?? false };
  }

  /**
   * The next message whose text holds `text` never reaches the server, and the client's connection
   * closes: the client cannot tell this from a lost answer, while the server's session stays open,
   * idle in its transaction.
   */
  swallow(text: string): void {
    this.swallowing = text;
  }

  /** The database out of reach: every connection dropped, new ones refused. */
  refuse(): void {
    this.refusing = true;
    for (const pair of this.pairs) this.drop(pair);
  }

  /**
   * The connections open now die without a word (a fail-over, a NAT that forgot them): the server
   * side is closed at once, the client finds out only when it next sends something.
   */
  breakQuietly(): void {
    for (const pair of this.pairs) {
      pair.stale = true;
      pair.server.removeAllListeners('close');
      pair.server.on('error', () => undefined);
      pair.server.destroy();
    }
  }

  /** The database reachable again. */
  pass(): void {
    this.refusing = false;
  }

  async close(): Promise<void> {
    this.refuse();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket, targetPort: number): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const pair: Pair = { client, server: net.connect(targetPort, '127.0.0.1'), doomed: false, stale: false };
    this.pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      if (pair.stale) {
        this.drop(pair);
        return;
      }
      if (this.swallowing && chunk.includes(this.swallowing)) {
        this.swallowing = undefined;
        this.cuts += 1;
        // The server's side stays open (closed with the proxy); only the client's goes.
        client.removeAllListeners('close');
        client.removeAllListeners('error');
        client.on('error', () => undefined);
        client.destroy();
        return;
      }
      if (this.marker && chunk.includes(this.marker.text)) pair.doomed = true;
      pair.server.write(chunk);
    });
    pair.server.on('data', (chunk: Buffer) => {
      if (!pair.doomed) {
        client.write(chunk);
        return;
      }
      // The server has answered, so it acted: node-postgres sends a statement as Parse, Bind,
      // Describe, Execute, Sync (no Flush), and the server sends its small answer only at Sync, once
      // the implicit transaction has committed. The answer goes nowhere.
      const thenRefuse = this.marker?.thenRefuse ?? false;
      this.marker = undefined;
      this.cuts += 1;
      this.drop(pair);
      if (thenRefuse) this.refuse();
    });
    const drop = () => this.drop(pair);
    client.on('close', drop);
    pair.server.on('close', drop);
    client.on('error', drop);
    pair.server.on('error', drop);
  }

  private drop(pair: Pair): void {
    this.pairs.delete(pair);
    pair.client.destroy();
    pair.server.destroy();
  }
}
