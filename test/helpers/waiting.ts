/** A clock the tenant, the runner and the approvals read; tests move it instead of sleeping. */
export function fakeClock(start = '2026-11-28T10:00:00.000Z') {
  let at = Date.parse(start);
  return { now: () => new Date(at), advance: (ms: number) => (at += ms) };
}

/** Polls `what` until it holds (real time), or fails after `timeoutMs`. */
export async function until(what: () => boolean | Promise<boolean>, timeoutMs = 8_000, why = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error(`${why} not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function expectOk<T>(result: { ok: true; value: T } | { ok: false }): T {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
  return result.value;
}

/** An id a card's buttons carry (plan, request, card copy, account or form id). */
export function idOn(card: unknown, key: 'planId' | 'requestId' | 'cardId' | 'accountId' | 'formId'): string {
  const match = new RegExp(`"${key}":"([0-9a-f-]{36})"`).exec(JSON.stringify(card));
  if (!match) throw new Error(`no ${key} on the card`);
  return match[1]!;
}

export const bodyOf = (response: { body?: unknown }) => (response.body as { value: Record<string, unknown> }).value;
