import http from 'node:http';

export interface Answer {
  status: number;
  body: string;
  ms: number;
}

/** A keep-alive HTTP client for one bot on loopback (the load generator lives in the parent). */
export class BotClient {
  private readonly agent: http.Agent;

  constructor(
    readonly port: number,
    sockets: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  post(body: string): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const start = performance.now();
      const request = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          method: 'POST',
          path: '/api/messages',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          timeout: 30_000,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - start }));
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error('request timed out after 30 s')));
      request.on('error', reject);
      request.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
