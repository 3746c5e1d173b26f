import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PWSH_ARGS } from '../../src/backends/microsoft/powershell/script';
import { graphError, type FakeResponse } from './graphErrors';
import { handleGraph } from './graphApi';
import { runCmdlet, type CmdletResult } from './teamsApi';
import { FakeTenant, type FakeTenantOptions } from './tenant';

/**
 * A fake Microsoft 365 on 127.0.0.1: Graph v1.0 under /v1.0 and, under /_fake/pwsh, the other end of
 * the fake pwsh executable (test/fakes/pwsh.js). It records every request, and can be told to answer
 * the next matching requests with an error (429 + Retry-After, 503, 400…).
 */

export const FAKE_PWSH = path.join(__dirname, 'pwsh.js');

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  authorization: string | undefined;
  headers: http.IncomingHttpHeaders;
}

export interface PwshCall {
  argv: string[];
  /** Exactly what pwsh received on stdin. */
  stdin: string;
  cmdlet: string;
  parameters: Record<string, unknown>;
  /** argv was the fixed script, token fields were present. */
  wellFormed: boolean;
}

export interface Injection {
  method?: string;
  path: RegExp;
  times: number;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /**
   * The tenant carries the request out, then the answer is lost behind the gateway: a 504 for a POST
   * that was in fact accepted (the case Graph's Gateway Timeout leaves open).
   */
  applied?: boolean;
}

export class FakeMicrosoft365 {
  readonly requests: RecordedRequest[] = [];
  readonly pwshCalls: PwshCall[] = [];
  private readonly injections: Injection[] = [];

  private constructor(
    readonly tenant: FakeTenant,
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(options: FakeTenantOptions): Promise<FakeMicrosoft365> {
    const tenant = new FakeTenant(options);
    let fake: FakeMicrosoft365 | undefined;
    const server = http.createServer((req, res) => {
      void fake?.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeMicrosoft365(tenant, server, `http://127.0.0.1:${port}`);
    return fake;
  }

  get graphBaseUrl(): string {
    return `${this.url}/v1.0`;
  }

  /** The environment the fake pwsh needs to find this server. */
  pwshEnv(): NodeJS.ProcessEnv {
    return { ...process.env, FAKE_M365_URL: this.url };
  }

  inject(injection: Injection): void {
    this.injections.push({ ...injection });
  }

  /** Graph requests matching a method and a path. */
  calls(method: string, pathPattern: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && pathPattern.test(r.path));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let answer: FakeResponse;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const body: unknown = text ? JSON.parse(text) : undefined;
      const url = new URL(req.url ?? '/', this.url);
      answer = url.pathname === '/_fake/pwsh' ? this.pwsh(body) : this.graph(req, url, body);
    } catch (e) {
      answer = graphError(500, 'InternalServerError', `fake: ${String(e)}`);
    }
    // restify (loaded by other tests) makes writeHead return undefined: never chain it.
    const payload = answer.body === undefined ? '' : JSON.stringify(answer.body);
    res.writeHead(answer.status, { ...(payload ? { 'content-type': 'application/json' } : {}), ...answer.headers });
    res.end(payload);
  }

  private graph(req: http.IncomingMessage, url: URL, body: unknown): FakeResponse {
    const method = req.method ?? 'GET';
    const pathBelow = url.pathname.replace(/^\/v1\.0/, '');
    this.requests.push({
      method,
      path: pathBelow,
      query: Object.fromEntries(url.searchParams),
      body,
      authorization: req.headers.authorization,
      headers: req.headers,
    });
    if (!/^Bearer [\w-]+\.[\w-]+\.[\w-]*$/.test(req.headers.authorization ?? '')) {
      return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    }
    const injected = this.injections.find((i) => i.times > 0 && (!i.method || i.method === method) && i.path.test(pathBelow));
    if (injected) {
      injected.times -= 1;
      if (injected.applied) handleGraph(this.tenant, { method, path: pathBelow, query: url.searchParams, body, base: this.graphBaseUrl });
      return { status: injected.status, ...(injected.headers ? { headers: injected.headers } : {}), body: injected.body };
    }
    return handleGraph(this.tenant, { method, path: pathBelow, query: url.searchParams, body, base: this.graphBaseUrl });
  }

  private pwsh(body: unknown): FakeResponse {
    const { argv, stdin } = body as { argv: string[]; stdin: string };
    const request = JSON.parse(stdin) as { cmdlet: string; parameters: Record<string, unknown>; graphToken?: unknown; teamsToken?: unknown };
    const wellFormed =
      JSON.stringify(argv) === JSON.stringify(PWSH_ARGS) &&
      typeof request.graphToken === 'string' &&
      typeof request.teamsToken === 'string' &&
      request.graphToken.split('.').length === 3 &&
      request.teamsToken.split('.').length === 3;
    this.pwshCalls.push({ argv, stdin, cmdlet: request.cmdlet, parameters: request.parameters, wellFormed });
    const result: CmdletResult = wellFormed
      ? runCmdlet(this.tenant, request.cmdlet, request.parameters)
      : { ok: false, error: { fullyQualifiedErrorId: 'FakePwsh.Malformed', message: 'unexpected arguments or tokens', category: 'InvalidArgument' } };
    return { status: 200, body: result };
  }
}
