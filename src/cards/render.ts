import path from 'node:path';
import { readFileSync } from 'node:fs';
import { Template } from 'adaptivecards-templating';
import { z } from 'zod';

/** Templates live in /cards at the project root, one per screen; this path works from src/ and dist/. */
export const CARDS_DIR = path.resolve(__dirname, '..', '..', 'cards');

export type CardJson = Record<string, unknown>;

const cache = new Map<string, CardJson>();

function template(name: string): CardJson {
  let card = cache.get(name);
  if (!card) {
    card = JSON.parse(readFileSync(path.join(CARDS_DIR, `${name}.json`), 'utf8')) as CardJson;
    cache.set(name, card);
  }
  return card;
}

const ExecuteAction = z.looseObject({ type: z.literal('Action.Execute'), verb: z.string(), data: z.record(z.string(), z.unknown()).optional() });

/**
 * Every Action.Execute gets an Action.Submit fallback carrying the verb in its data, for clients
 * without Universal Actions (teams-platform.md §3.1); the bot handles both through one code path.
 */
function addSubmitFallbacks(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(addSubmitFallbacks);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  const action = ExecuteAction.safeParse(record);
  if (action.success && record.fallback === undefined) {
    record.fallback = {
      type: 'Action.Submit',
      title: record.title,
      data: { ...(action.data.data ?? {}), verb: action.data.verb },
      // Cancel and paging buttons must not send the form's inputs through the fallback either.
      ...(record.associatedInputs !== undefined ? { associatedInputs: record.associatedInputs } : {}),
    };
  }
  Object.values(record).forEach(addSubmitFallbacks);
}

/**
 * Expands a template with adaptivecards-templating. Data strings are not re-evaluated by the
 * templating engine (stack.md §4), so user input cannot inject expressions.
 */
export function renderCard(name: string, data: object): CardJson {
  const expanded = new Template(template(name)).expand({ $root: data }) as CardJson;
  addSubmitFallbacks(expanded);
  return expanded;
}
