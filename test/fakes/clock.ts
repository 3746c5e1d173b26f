/** Time only moves when a test (or an injected sleep) says so. */
export class FakeClock {
  private t: number;

  constructor(start = '2026-03-02T09:00:00.000Z') {
    this.t = Date.parse(start);
  }

  readonly now = (): Date => new Date(this.t);

  advance(ms: number): void {
    this.t += ms;
  }

  /** An injectable sleep that lets fake time pass instead of real time; records every wait. */
  readonly waits: number[] = [];
  readonly sleep = async (ms: number): Promise<void> => {
    this.waits.push(ms);
    this.advance(ms);
  };
}
