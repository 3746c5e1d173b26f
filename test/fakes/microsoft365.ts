import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PWSH_ARGS, WORKER_ARGS } from '../../src/backends/microsoft/powershell/script';
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
  /** Exactly what pwsh received on stdin for this cmdlet (one-shot: all of it; warm: the request's line). */
  stdin: string;
  cmdlet: string;
  parameters: Record<string, unknown>;
  /**
   * argv was the fixed script, and the session had two JWT-shaped tokens: in the request (one-shot) or
   * from the worker's connect (warm, where the run line itself must carry none).
   */
  wellFormed: boolean;
  pid: number;
  mode: 'oneshot' | 'warm';
  /** The Graph token of the session the cmdlet ran in. */
  graphToken: string | undefined;
}

/** A pwsh process as it started: what it was given on its command line and in its environment. */
export interface PwshProcess {
  pid: number;
  argv: string[];
  env: Record<string, string>;
  mode: 'oneshot' | 'warm';
}

export interface PwshConnect {
  pid: number;
  graphToken: string;
  teamsToken: string;
}

/**
 * What the fake pwsh is told to do with the next matching cmdlet: die before running it, run it and
 * die before answering, hang (before or after running it), or answer with another request's id.
 */
export interface PwshFault {
  cmdlet?: string;
  /** `error`: the cmdlet does nothing and fails with `message` (a BadRequest, as Teams words its refusals). */
  kind: 'crash-before' | 'crash-after' | 'hang-before' | 'hang-after' | 'out-of-turn' | 'error';
  times: number;
  message?: string;
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

export interface FakeMicrosoft365Options extends FakeTenantOptions {
  /** Every HTTP answer from Graph waits this long (real Graph: ~100–300 ms a round trip). */
  graphLatencyMs?: number;
}

export class FakeMicrosoft365 {
  /** Graph requests, one per logical request (a $batch's requests each, and the batch itself). */
  readonly requests: RecordedRequest[] = [];
  /** HTTP requests that reached Graph (a $batch once): the round trips. */
  graphRoundTrips = 0;
  readonly pwshCalls: PwshCall[] = [];
  readonly pwshProcesses: PwshProcess[] = [];
  readonly pwshConnects: PwshConnect[] = [];
  /** Requests the fake pwsh refused because the script's allow-list does not have them. */
  readonly pwshRefused: { pid: number; stdin: string }[] = [];
  private readonly pwshFaults: PwshFault[] = [];
  private readonly injections: Injection[] = [];
  /** Tokens a session may not connect with (an expired or revoked token, as Connect-MicrosoftTeams sees it). */
  readonly refusedTokens = new Set<string>();

  private constructor(
    readonly tenant: FakeTenant,
    private readonly server: http.Server,
    readonly url: string,
    private readonly graphLatencyMs: number,
  ) {}

  static async start(options: FakeMicrosoft365Options): Promise<FakeMicrosoft365> {
    const tenant = new FakeTenant(options);
    let fake: FakeMicrosoft365 | undefined;
    const server = http.createServer((req, res) => {
      void fake?.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeMicrosoft365(tenant, server, `http://127.0.0.1:${port}`, options.graphLatencyMs ?? 0);
    return fake;
  }

  get graphBaseUrl(): string {
    return `${this.url}/v1.0`;
  }

  /** The environment the fake pwsh needs to find this server, with the costs it models (pwsh.js). */
  pwshEnv(costs: { startMs?: number; importMs?: number; connectMs?: number; cmdletMs?: number; leakMb?: number } = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, FAKE_M365_URL: this.url };
    if (costs.startMs) env.FAKE_PWSH_START_MS = String(costs.startMs);
    if (costs.importMs) env.FAKE_PWSH_IMPORT_MS = String(costs.importMs);
    if (costs.connectMs) env.FAKE_PWSH_CONNECT_MS = String(costs.connectMs);
    if (costs.cmdletMs) env.FAKE_PWSH_CMDLET_MS = String(costs.cmdletMs);
    if (costs.leakMb) env.FAKE_PWSH_LEAK_MB = String(costs.leakMb);
    return env;
  }

  inject(injection: Injection): void {
    this.injections.push({ ...injection });
  }

  /** The fake pwsh plays this fault on the next matching cmdlet(s). */
  failPwsh(fault: PwshFault): void {
    this.pwshFaults.push({ ...fault });
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
      if (url.pathname.startsWith('/_fake/pwsh')) {
        answer = this.pwshEndpoint(url.pathname, body);
      } else {
        this.graphRoundTrips += 1;
        if (this.graphLatencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.graphLatencyMs));
        answer = url.pathname === '/v1.0/$batch' && req.method === 'POST' ? this.batch(req, body) : this.graph(req.method ?? 'GET', req.headers, url, body);
      }
    } catch (e) {
      answer = graphError(500, 'InternalServerError', `fake: ${String(e)}`);
    }
    // restify (loaded by other tests) makes writeHead return undefined: never chain it.
    const payload = answer.body === undefined ? '' : JSON.stringify(answer.body);
    res.writeHead(answer.status, { ...(payload ? { 'content-type': 'application/json' } : {}), ...answer.headers });
    res.end(payload);
  }

  /**
   * JSON batching as Graph documents it: {"requests": [{id, method, url}]} with URLs relative to the
   * version root, at most 20; each answered on its own (status, headers, body), injections included.
   */
  private batch(req: http.IncomingMessage, body: unknown): FakeResponse {
    this.requests.push({ method: 'POST', path: '/$batch', query: {}, body, authorization: req.headers.authorization, headers: req.headers });
    const injected = this.injections.find((i) => i.times > 0 && (!i.method || i.method === 'POST') && i.path.test('/$batch'));
    if (injected) {
      injected.times -= 1;
      return { status: injected.status, ...(injected.headers ? { headers: injected.headers } : {}), body: injected.body };
    }
    const requests = (body as { requests?: { id: string; method: string; url: string; body?: unknown }[] } | undefined)?.requests;
    if (!Array.isArray(requests) || requests.length === 0) return graphError(400, 'BadRequest', 'Invalid batch payload format.');
    if (requests.length > 20) return graphError(400, 'BadRequest', 'The number of batch requests exceeds 20.');
    const responses = requests.map((r) => {
      if (!r.url.startsWith('/')) return { id: r.id, ...graphError(400, 'BadRequest', 'Batch request URLs are relative to the version root.') };
      const answer = this.graph(r.method, req.headers, new URL(`/v1.0${r.url}`, this.url), r.body);
      return { id: r.id, status: answer.status, headers: { 'content-type': 'application/json', ...answer.headers }, body: answer.body };
    });
    return { status: 200, body: { responses } };
  }

  private graph(method: string, headers: http.IncomingHttpHeaders, url: URL, body: unknown): FakeResponse {
    const pathBelow = url.pathname.replace(/^\/v1\.0/, '');
    this.requests.push({
      method,
      path: pathBelow,
      query: Object.fromEntries(url.searchParams),
      body,
      authorization: headers.authorization,
      headers,
    });
    if (!/^Bearer [\w-]+\.[\w-]+\.[\w-]*$/.test(headers.authorization ?? '')) {
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

  private pwshEndpoint(path: string, body: unknown): FakeResponse {
    switch (path) {
      case '/_fake/pwsh/start':
        this.pwshProcesses.push(body as PwshProcess);
        return { status: 200, body: { ok: true } };
      case '/_fake/pwsh/connect': {
        const { pid, graphToken, teamsToken } = body as { pid: number; graphToken?: unknown; teamsToken?: unknown };
        const jwt = (t: unknown): t is string => typeof t === 'string' && t.split('.').length === 3;
        if (!jwt(graphToken) || !jwt(teamsToken)) return { status: 200, body: { ok: false, message: 'AccessTokens must be two access tokens' } };
        if (this.refusedTokens.has(graphToken) || this.refusedTokens.has(teamsToken)) return { status: 200, body: { ok: false, message: 'The access token has expired.' } };
        this.pwshConnects.push({ pid, graphToken, teamsToken });
        return { status: 200, body: { ok: true } };
      }
      case '/_fake/pwsh/refused':
        this.pwshRefused.push(body as { pid: number; stdin: string });
        return { status: 200, body: { ok: true } };
      default:
        return this.pwsh(body);
    }
  }

  private pwsh(body: unknown): FakeResponse {
    const { argv, stdin, mode, pid, graphToken: sessionGraph, teamsToken: sessionTeams } = body as {
      argv: string[];
      stdin: string;
      mode: 'oneshot' | 'warm';
      pid: number;
      graphToken?: string;
      teamsToken?: string;
    };
    const request = JSON.parse(stdin) as { cmdlet: string; parameters: Record<string, unknown>; graphToken?: unknown; teamsToken?: unknown };
    const jwt = (t: unknown): t is string => typeof t === 'string' && t.split('.').length === 3;
    const wellFormed =
      mode === 'warm'
        ? JSON.stringify(argv) === JSON.stringify(WORKER_ARGS) && jwt(sessionGraph) && jwt(sessionTeams) && request.graphToken === undefined && request.teamsToken === undefined
        : JSON.stringify(argv) === JSON.stringify(PWSH_ARGS) && jwt(request.graphToken) && jwt(request.teamsToken);
    const graphToken = mode === 'warm' ? sessionGraph : typeof request.graphToken === 'string' ? request.graphToken : undefined;
    this.pwshCalls.push({ argv, stdin, cmdlet: request.cmdlet, parameters: request.parameters, wellFormed, pid, mode, graphToken });
    const fault = this.pwshFaults.find((f) => f.times > 0 && (!f.cmdlet || f.cmdlet === request.cmdlet));
    if (fault) fault.times -= 1;
    if (fault?.kind === 'crash-before') return { status: 200, body: { fault: 'crash' } };
    if (fault?.kind === 'hang-before') return { status: 200, body: { fault: 'hang' } };
    if (fault?.kind === 'error') {
      const error = { fullyQualifiedErrorId: 'BadRequest,Microsoft.Teams.ConfigAPI.Cmdlets.Generated', message: fault.message ?? 'Bad request', category: 'InvalidOperation' };
      return { status: 200, body: { result: { ok: false, error } } };
    }
    const result: CmdletResult = wellFormed
      ? runCmdlet(this.tenant, request.cmdlet, request.parameters)
      : { ok: false, error: { fullyQualifiedErrorId: 'FakePwsh.Malformed', message: 'unexpected arguments or tokens', category: 'InvalidArgument' } };
    if (fault?.kind === 'crash-after') return { status: 200, body: { fault: 'crash' } };
    if (fault?.kind === 'hang-after') return { status: 200, body: { fault: 'hang' } };
    if (fault?.kind === 'out-of-turn') return { status: 200, body: { fault: 'out-of-turn', result } };
    return { status: 200, body: { result } };
  }
}
