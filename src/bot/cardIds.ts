import type { CardJson } from '../cards/render';

/**
 * Puts a card copy's id into the data of every button of the card (Action.Execute and its Action.Submit
 * fallback), so a click says which copy it came from. The Universal Actions refresh is left alone: it
 * only reads, per viewer, and never moves a copy. Teams'
 * replyToId has been seen not to match the message id (teams-platform.md §3.5); the copy id is a
 * handle only — the server looks the copy up and checks it belongs to the clicker's conversation.
 */
export function withCardId(card: CardJson, cardId: string): CardJson {
  stamp(card, cardId);
  return card;
}

function stamp(node: unknown, cardId: string): void {
  if (Array.isArray(node)) {
    for (const child of node) stamp(child, cardId);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  if (record.type === 'Action.Execute' || record.type === 'Action.Submit') {
    const data = record.data && typeof record.data === 'object' && !Array.isArray(record.data) ? (record.data as Record<string, unknown>) : {};
    record.data = { ...data, cardId };
  }
  for (const [key, value] of Object.entries(record)) if (key !== 'refresh') stamp(value, cardId);
}

/** The copy id a click carries, if it is a well-formed one (its data is untrusted). */
export function cardIdOf(data: unknown): string | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const value = (data as Record<string, unknown>).cardId;
  return typeof value === 'string' && /^[0-9a-f-]{36}$/.test(value) ? value : undefined;
}
