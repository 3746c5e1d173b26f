import path from 'node:path';
import { readFileSync } from 'node:fs';
import { Template } from 'adaptivecards-templating';

/** Templates live in /cards at the project root, one per screen; this path works from src/ and dist/. */
export const CARDS_DIR = path.resolve(__dirname, '..', '..', 'cards');

export type CardJson = Record<string, unknown>;

/**
 * One parsed Template per card: building a Template re-parses every ${…} expression, which cost
 * about a third of a turn's CPU (bench/results.md). expand() returns fresh objects each time (a test
 * checks it), so the fallbacks added below never leak into the cached template.
 */
const cache = new Map<string, Template>();

function template(name: string): Template {
  let parsed = cache.get(name);
  if (!parsed) {
    parsed = new Template(JSON.parse(readFileSync(path.join(CARDS_DIR, `${name}.json`), 'utf8')));
    cache.set(name, parsed);
  }
  return parsed;
}

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
  // Cards come from our own templates: a plain shape check is enough here (and runs on every node).
  if (record.type === 'Action.Execute' && typeof record.verb === 'string' && record.fallback === undefined) {
    const data = record.data && typeof record.data === 'object' ? (record.data as Record<string, unknown>) : {};
    record.fallback = {
      type: 'Action.Submit',
      title: record.title,
      data: { ...data, verb: record.verb },
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
  const expanded = template(name).expand({ $root: data }) as CardJson;
  addSubmitFallbacks(expanded);
  return expanded;
}
