import type { Activity } from 'botbuilder';
import { z } from 'zod';

/**
 * The shape of an incoming activity, checked before botbuilder or the bot reads it.
 *
 * Why: a field of the wrong type does not fail where it arrives but where it is used — a non-string
 * `replyToId` was stored with a plan card and stopped the next start-up, a non-string `from.name` or a
 * deeply nested `conversation` ended in a 501 (issue 9; ARCHITECTURE.md, "Where a straightforward
 * botbuilder bot returns 5xx"). So every field the bot or botbuilder reads or stores is typed and
 * bounded here. Unknown top-level and channelData keys pass through (Teams sends many, e.g.
 * `channelData.settings`, `entities[].clientInfo`); `from`, `recipient`, `conversation` and the
 * members keep only the keys below, because they are copied verbatim into stored conversation
 * references (TurnContext.getConversationReference).
 *
 * Free of restify: the HTTP edge (src/server.ts) calls it, and so can the bot for the TestAdapter path.
 */

/** Deepest nesting accepted in a whole body: Teams' own activities stay well under 10 levels. */
export const MAX_ACTIVITY_DEPTH = 32;
/** `value` (card data plus inputs) as JSON text; card inputs are themselves bounded (cards/*.json). */
export const MAX_VALUE_CHARS = 64 * 1024;
/** Teams caps a message at about 28 KB (Bot Framework "message size limit"). */
export const MAX_TEXT_CHARS = 28_000;

const id = (max: number) => z.string().min(1).max(max);
const text = (max: number) => z.string().max(max);

/** A ChannelAccount as Teams sends it for the sender, the bot and added or removed members. */
const Account = z.object({
  id: id(512),
  name: text(512).optional(),
  aadObjectId: text(64).optional(),
  role: text(32).optional(),
});

const Member = z.object({ id: id(512), name: text(512).optional(), aadObjectId: text(64).optional() });

const Conversation = z.object({
  id: id(1024),
  name: text(512).optional(),
  conversationType: text(64).optional(),
  tenantId: text(128).optional(),
  isGroup: z.boolean().optional(),
});

const NamedRef = z.looseObject({ id: text(1024).optional(), name: text(512).optional() });

const ChannelData = z.looseObject({
  tenant: z.looseObject({ id: text(128).optional() }).optional(),
  channel: NamedRef.optional(),
  team: NamedRef.optional(),
  eventType: text(128).optional(),
});

const Attachment = z.looseObject({
  contentType: text(256).optional(),
  contentUrl: text(2048).optional(),
  name: text(1024).optional(),
  thumbnailUrl: text(2048).optional(),
});

/** botbuilder's TurnContext.getMentions calls `entities[i].type.toLowerCase()`. */
const Entity = z.looseObject({ type: text(256).optional() });

const Reaction = z.looseObject({ type: text(256).optional() });

/** The Bot Connector's serviceUrl: where replies go, so it must at least be an http(s) URL. */
const ServiceUrl = text(2048).refine((url) => /^https?:\/\/[^\s/?#]+/i.test(url) && URL.canParse(url), 'must be an http(s) URL');

/** BCP 47 as Teams sends it (en-US, fr-FR, zh-Hans-CN). */
const Locale = z.string().regex(/^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8}){0,7}$/, 'must be a language tag');

/** Any JSON, bounded in size (its depth is bounded with the whole body's). */
const BoundedValue = z.unknown().refine((value) => {
  if (value === undefined) return true;
  const json = JSON.stringify(value);
  return json === undefined || json.length <= MAX_VALUE_CHARS;
}, 'is too large');

export const ActivitySchema = z.looseObject({
  type: z.string().min(1).max(64),
  id: text(1024).optional(),
  name: text(256).optional(),
  action: text(64).optional(),
  replyToId: text(1024).optional(),
  timestamp: text(64).optional(),
  localTimestamp: text(64).optional(),
  locale: Locale.optional(),
  text: text(MAX_TEXT_CHARS).optional(),
  textFormat: text(32).optional(),
  deliveryMode: text(32).optional(),
  serviceUrl: ServiceUrl.optional(),
  channelId: text(64).optional(),
  from: Account.optional(),
  recipient: Account.pick({ id: true, name: true }).optional(),
  conversation: Conversation.optional(),
  channelData: ChannelData.optional(),
  membersAdded: z.array(Member).max(500).optional(),
  membersRemoved: z.array(Member).max(500).optional(),
  reactionsAdded: z.array(Reaction).max(50).optional(),
  reactionsRemoved: z.array(Reaction).max(50).optional(),
  attachments: z.array(Attachment).max(50).optional(),
  entities: z.array(Entity).max(100).optional(),
  value: BoundedValue.optional(),
});

export type ParsedActivity = { ok: true; activity: Activity } | { ok: false; detail: string };

/**
 * The turn-state key under which the HTTP edge (src/server.ts) leaves the activity object it checked
 * with parseActivity: the bot does not check that same object a second time (each check cost a few
 * percent of a card action's CPU, bench/results.md). An activity that reaches the bot any other way
 * is checked there.
 */
export const CHECKED_ACTIVITY = Symbol('switchboard.checkedActivity');

/**
 * Walks the body with an explicit stack (a recursive walk is exactly what a deeply nested body would
 * overflow) and returns what is wrong with its shape, if anything: too deep, or a `__proto__` key,
 * which an `Object.assign` somewhere down the line would turn into a prototype.
 */
export function jsonShapeProblem(body: unknown, maxDepth = MAX_ACTIVITY_DEPTH): string | undefined {
  // Two parallel stacks rather than one of {node, depth} pairs: no object per value of every body.
  // Only objects and arrays are pushed: anything else would be popped and passed over.
  const nodes: object[] = [];
  const depths: number[] = [];
  if (body !== null && typeof body === 'object') {
    nodes.push(body);
    depths.push(1);
  }
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    const depth = depths.pop()!;
    if (depth > maxDepth) return `the body is nested deeper than ${maxDepth} levels`;
    if (Array.isArray(node)) {
      for (const item of node) {
        if (item !== null && typeof item === 'object') {
          nodes.push(item);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const key of Object.keys(node)) {
        if (key === '__proto__') return 'the body has a forbidden key';
        const value = (node as Record<string, unknown>)[key];
        if (value !== null && typeof value === 'object') {
          nodes.push(value);
          depths.push(depth + 1);
        }
      }
    }
  }
  return undefined;
}

function at(body: unknown, path: readonly PropertyKey[]): unknown {
  let node = body;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** Where the first problem is and what kind it is, in our words: never the value itself. */
function describe(issue: z.core.$ZodIssue, body: unknown): string {
  const field = issue.path.length === 0 ? 'the activity' : issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  switch (issue.code) {
    case 'invalid_type':
      return at(body, issue.path) === undefined ? `${field} is missing` : `${field} must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    case 'too_big':
      return issue.origin === 'array' ? `${field} has too many items` : `${field} is too long`;
    case 'too_small':
      return `${field} is empty`;
    case 'custom':
    case 'invalid_format':
      // Our own messages ("must be an http(s) URL"); zod's defaults would quote the pattern.
      return `${field} ${issue.message.startsWith('Invalid') ? 'is malformed' : issue.message}`;
    default:
      return `${field} is invalid`;
  }
}

/**
 * The activity if its shape is one the bot can handle; otherwise a short detail naming the field
 * (for a 400), never echoing what was sent.
 */
export function parseActivity(body: unknown): ParsedActivity {
  const problem = jsonShapeProblem(body);
  if (problem) return { ok: false, detail: problem };
  const parsed = ActivitySchema.safeParse(body);
  if (!parsed.success) return { ok: false, detail: describe(parsed.error.issues[0]!, body) };
  // The fields botbuilder's Activity declares and the bot reads are checked above; the rest of the
  // interface (e.g. Date timestamps, which only botbuilder's own HTTP path converts) is not read.
  return { ok: true, activity: parsed.data as unknown as Activity };
}
