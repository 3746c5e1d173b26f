import type { CardJson } from '../../src/cards/render';

/**
 * What a Teams client could turn into markup in a Markdown-rendered card text, by the rules of the two
 * renderers that matter: CommonMark (spec 0.31.2; the Agents Playground renders TextBlocks with
 * react-markdown) and the Adaptive Cards shared-model parser of the mobile clients (microsoft/
 * AdaptiveCards, source/shared/cpp/ObjectModel/MarkDownBlockParser.cpp). Each entry names the construct
 * and quotes the text that would start it. Written from those rules, not from src/cards/text.ts.
 */
export function markupIn(text: string): string[] {
  const found: string[] = [];
  const hit = (what: string, re: RegExp) => {
    for (const m of text.matchAll(re)) found.push(`${what}: ${JSON.stringify(m[0])}`);
  };
  // Links and images need "](" (inline), "][" (reference) or "]:" (definition) with nothing between.
  hit('link', /\]\(|\]\[|\]:/g);
  // Any "*" can delimit emphasis (CommonMark §6.2 allows it inside words); "_" only where it is not
  // between two letters or digits, and the shared-model parser reads ASCII classes only.
  hit('emphasis', /\*+/g);
  hit('emphasis', /(?<![A-Za-z0-9])_+|_+(?![A-Za-z0-9])/g);
  // Block syntax at the start of any line.
  for (const line of text.split(/\r\n|\r|\n/)) {
    const block = /^(?: {4}| {0,3}(?:[-+*](?: |$)|\d{1,9}[.)](?: |$)|#{1,6}(?: |$)|>|```|~~~|(?:- *){3,}$))/.exec(line);
    if (block) found.push(`block: ${JSON.stringify(block[0])}`);
  }
  // The shared-model parser also starts a block after "[", "]" and ")": "- " or "1. " there is a list.
  hit('list after [ ] )', /[[\])](?:- |\d+\. )/g);
  // Autolinks, raw HTML and Teams' <at> mentions (CommonMark §6.5, §6.6).
  hit('tag or autolink', /<[A-Za-z/!?]|<[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@/g);
  // Character references are decoded by CommonMark (§2.5), e.g. to a bidi control.
  hit('character reference', /&(?:#[xX][0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);/g);
  // Adaptive Cards date/time functions (text-features: {{DATE(…)}}, {{TIME(…)}}).
  hit('date function', /\{\{/g);
  // Bidi controls (UAX #9) and line breaks (a new block in Markdown).
  hit('bidi control', /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g);
  hit('line break', /[\r\n\u2028\u2029\u0085]/g);
  return found;
}

/** Text as a person reads it: invisible word joiners dropped, lookalikes read as what they look like. */
export function asRead(text: string): string {
  return text.replace(/\u2060/g, '').replace(/\u2217/g, '*').replace(/\uff3f/g, '_');
}

/** The texts of a card that Teams renders as Markdown: TextBlock text, FactSet titles and values ("Format cards in Teams"). */
export function markdownTexts(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => markdownTexts(n, out));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.type === 'TextBlock' && typeof o.text === 'string') out.push(o.text);
    if (o.type === 'FactSet' && Array.isArray(o.facts)) for (const f of o.facts as { title: string; value: string }[]) out.push(f.title, f.value);
    for (const [key, value] of Object.entries(o)) if (key !== 'facts') markdownTexts(value, out);
  }
  return out;
}

/** Every problem markupIn finds in a card's Markdown texts, with the text it is in. */
export function cardMarkup(card: CardJson): string[] {
  return markdownTexts(card).flatMap((text) => markupIn(text).map((m) => `${m} in ${JSON.stringify(text)}`));
}
