import type { TenantDirectory } from '../../src/provisioning/directory';

export interface Faults {
  /** Share of calls that fail (0–1). */
  rate: number;
  /** How long a call that "times out" hangs before it fails. */
  hangMs: number;
  random: () => number;
}

/**
 * Fault injection at the tenant port: a share of calls fail the way Microsoft's services do when
 * they are throttled or down — 429 Too Many Requests, 503 Service Unavailable — or hang and time
 * out. A failing mutation sometimes fails *after* the tenant did the change (the answer was lost),
 * which is what makes idempotent steps necessary.
 */
export function faulty(directory: TenantDirectory, faults: Faults): TenantDirectory & { calls: number; failed: number; on: boolean; only: string } {
  /** `only`: when set, that one method fails with 503 every time and the others never do. */
  const state = { calls: 0, failed: 0, on: true, only: '' };
  const mutations = new Set(['createAccount', 'updateAccount', 'setUsageLocation', 'assignLicense', 'deleteAccount', 'assignNumber', 'unassignNumber', 'associate', 'dissociate']);
  return new Proxy(directory, {
    get(target, property, receiver) {
      if (property === 'calls' || property === 'failed' || property === 'on' || property === 'only') return state[property];
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || property === 'health') return value;
      return async (...args: unknown[]) => {
        state.calls += 1;
        if (state.only) {
          if (property !== state.only) return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          state.failed += 1;
          throw Object.assign(new Error('503 Service Unavailable'), { statusCode: 503 });
        }
        const roll = faults.random();
        if (!state.on || roll >= faults.rate) return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        state.failed += 1;
        const kind = Math.floor(faults.random() * 4);
        if (kind === 0) throw Object.assign(new Error('429 Too Many Requests'), { statusCode: 429 });
        if (kind === 1) throw Object.assign(new Error('503 Service Unavailable'), { statusCode: 503 });
        if (kind === 2) {
          await new Promise((r) => setTimeout(r, faults.hangMs));
          throw Object.assign(new Error('the request timed out'), { code: 'ETIMEDOUT' });
        }
        // The tenant did it, but the answer was lost on the way back.
        if (mutations.has(String(property))) await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args).catch(() => undefined);
        throw Object.assign(new Error('504 Gateway Timeout'), { statusCode: 504 });
      };
    },
    set(target, property, value) {
      if (property === 'on' || property === 'only') {
        (state as Record<string, unknown>)[property] = value;
        return true;
      }
      return Reflect.set(target, property, value);
    },
  }) as TenantDirectory & { calls: number; failed: number; on: boolean; only: string };
}
