import pg from 'pg';
import { execute, message, type Who } from '../../helpers/activities';
import { tempDir } from '../../helpers/app';
import { startBot, type BotProcess } from '../../helpers/botProcess';
import { post } from '../../helpers/connector';
import { ADMIN, APPROVER, APPROVER_2, TENANT } from '../../helpers/identities';

/**
 * Bot processes sharing one PostgreSQL database (issue 11), for the two-instance tests: each runs the
 * compiled bot (src/index.ts) in a child process with a data folder of its own, so that everything
 * they share goes through the database.
 */
export interface Instance {
  name: string;
  bot: BotProcess;
  url: string;
  /** Its JSON log lines with `msg` equal to this (it logs at debug). */
  events<T = Record<string, unknown>>(msg: string): (T & { time: number })[];
}

export class Instances {
  private readonly started: Instance[] = [];
  private readonly dirs: { remove(): Promise<void> }[] = [];

  constructor(
    readonly databaseUrl: string,
    private readonly env: Record<string, string> = {},
  ) {}

  /** Starts `names.length` instances at the same moment; resolves once every one listens. */
  async start(...names: string[]): Promise<Instance[]> {
    return Promise.all(names.map((name) => this.startOne(name)));
  }

  private async startOne(name: string): Promise<Instance> {
    const dir = await tempDir(`switchboard-${name}-`);
    this.dirs.push(dir);
    const bot = await startBot(
      {
        SWITCHBOARD_DATA_DIR: dir.dir,
        SWITCHBOARD_TENANT_ID: TENANT,
        SWITCHBOARD_ADMIN_IDS: ADMIN.aadObjectId,
        SWITCHBOARD_APPROVER_IDS: `${APPROVER.aadObjectId},${APPROVER_2.aadObjectId}`,
        SWITCHBOARD_STORE: 'postgres',
        DATABASE_URL: this.databaseUrl,
        SWITCHBOARD_PLAN_POLL_MS: '20',
        // 'plan step' and 'approvals sweep' lines say which instance did what, and when.
        LOG_LEVEL: 'debug',
        ...this.env,
      },
      { timeoutMs: 60_000 },
    );
    const instance: Instance = {
      name,
      bot,
      url: bot.url,
      events: <T>(msg: string) =>
        bot.lines
          .filter((line) => line.startsWith('{') && line.includes(`"msg":${JSON.stringify(msg)}`))
          .map((line) => JSON.parse(line) as T & { time: number; msg: string })
          .filter((event) => event.msg === msg),
    };
    this.started.push(instance);
    return instance;
  }

  /** Kills every instance still running (a test's end) and deletes their folders. */
  async close(): Promise<void> {
    await Promise.all(this.started.map((i) => i.bot.kill9().catch(() => undefined)));
    await Promise.all(this.dirs.map((d) => d.remove()));
  }
}

/** A user's Action.Execute click sent to one instance: the card it answered with. */
export async function click(instance: Instance, serviceUrl: string, verb: string, data: Record<string, unknown>, from: Who = ADMIN, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const response = await post(`${instance.url}/api/messages`, { ...execute(verb, data, { from, serviceUrl }), ...extra });
  if (response.status !== 200) throw new Error(`${instance.name}: HTTP ${response.status} for ${verb}`);
  return (response.body as { value: Record<string, unknown> }).value;
}

/** A chat message sent to one instance (its reply goes to the connector). */
export async function say(instance: Instance, serviceUrl: string, text: string, from: Who = ADMIN): Promise<void> {
  const response = await post(`${instance.url}/api/messages`, message(text, { from, serviceUrl }));
  if (response.status !== 200 && response.status !== 201) throw new Error(`${instance.name}: HTTP ${response.status} for "${text}"`);
}

/** Reads the shared database as an operator would (its own connection). */
export class Sql {
  private readonly pool: pg.Pool;

  constructor(url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 3 });
    // An idle connection of this reader that the server ends (a test stopping the server, or a
    // backend killed from outside) is dropped and made again on the next query, as the bot's own pool
    // does; without a listener node-postgres throws it as an uncaught error in whichever test runs.
    this.pool.on('error', () => undefined);
  }

  async rows<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(text, values)).rows;
  }

  /** A connection of its own (to hold a lock across statements). */
  connect(): Promise<pg.PoolClient> {
    return this.pool.connect();
  }

  /** The audit actions recorded for one request, oldest first. */
  async auditOf(requestId: string): Promise<string[]> {
    return (await this.rows<{ action: string }>(`SELECT action FROM audit WHERE doc->>'requestId' = $1 ORDER BY seq`, [requestId])).map((r) => r.action);
  }

  async planStatus(id: string): Promise<string | undefined> {
    return (await this.rows<{ status: string }>('SELECT status FROM plans WHERE id = $1', [id]))[0]?.status;
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
