import path from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { loadTemplate, type CardTemplate } from './compiledTemplate';

/** Templates live in /cards at the project root, one per screen; this path works from src/ and dist/. */
export const CARDS_DIR = path.resolve(__dirname, '..', '..', 'cards');

export type CardJson = Record<string, unknown>;

/**
 * One compiled template per card (./compiledTemplate.ts): expanding through adaptivecards-templating
 * evaluated every ${…} through the library's expression machinery on every turn, most of a card
 * action's CPU (bench/results.md, issue 13). Each expansion returns fresh objects, so what the bot does
 * to a card afterwards (copy ids in its buttons) never reaches the template.
 */
const cache = new Map<string, CardTemplate>();

function template(name: string): CardTemplate {
  let loaded = cache.get(name);
  if (!loaded) {
    loaded = loadTemplate(JSON.parse(readFileSync(path.join(CARDS_DIR, `${name}.json`), 'utf8')));
    cache.set(name, loaded);
  }
  return loaded;
}

/**
 * Compiles every template in cards/ (at start-up, so that no turn pays for it) and says how each is
 * expanded: `library` (with the reason) for one that uses what the compiler does not support.
 */
export function loadCardTemplates(): { name: string; engine: CardTemplate['engine']; reason?: string }[] {
  return readdirSync(CARDS_DIR)
    .filter((file) => file.endsWith('.json'))
    .map((file) => path.basename(file, '.json'))
    .sort()
    .map((name) => {
      const { engine, reason } = template(name);
      return { name, engine, ...(reason !== undefined ? { reason } : {}) };
    });
}

/**
 * Expands a template with its data (as adaptivecards-templating does, test/cards/compiled.test.ts)
 * and gives every Action.Execute its Action.Submit fallback. Data strings are never evaluated
 * as expressions (stack.md §4), so user input cannot inject them.
 */
export function renderCard(name: string, data: object): CardJson {
  return template(name).expand(data) as CardJson;
}
