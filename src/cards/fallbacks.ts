/**
 * Every Action.Execute gets an Action.Submit fallback carrying the verb in its data, for clients
 * without Universal Actions (teams-platform.md §3.1); the bot handles both through one code path.
 */

/** Gives one node its fallback if it is an Action.Execute without one. */
export function addSubmitFallback(record: Record<string, unknown>): void {
  // Cards come from our own templates: a plain shape check is enough here (and runs on every node).
  if (record.type === 'Action.Execute' && typeof record.verb === 'string' && record.fallback === undefined) {
    const data = record.data && typeof record.data === 'object' ? (record.data as Record<string, unknown>) : {};
    const fallback: Record<string, unknown> = { type: 'Action.Submit', title: record.title, data: { ...data, verb: record.verb } };
    // Cancel and paging buttons must not send the form's inputs through the fallback either.
    if (record.associatedInputs !== undefined) fallback.associatedInputs = record.associatedInputs;
    record.fallback = fallback;
  }
}

/** Gives every Action.Execute in an expanded card its fallback, from the top down. */
export function addSubmitFallbacks(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(addSubmitFallbacks);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  addSubmitFallback(record);
  Object.values(record).forEach(addSubmitFallbacks);
}
