/**
 * Virtual time for the simulation. The hub takes a clock, but the platform emulators and the
 * connectors' client libraries read `Date` directly, and the engine compares the platforms' times
 * with its own (docs/attribution.md: an order made before a drift was booked explains it). So the
 * whole process runs on one virtual time: `Date` is replaced, while a run lasts, by a subclass whose
 * "now" only moves when the harness says so. Time stands still within one harness action and moves
 * 1 ms between actions, and by whole attribution windows or retry delays when the harness lets time
 * pass; that is what makes a run independent of how fast the machine is. Timers (setTimeout) are not
 * touched: nothing in the run waits on them except the engine's own short retry pauses.
 */
const RealDate = Date;

export class VirtualClock {
  private ms: number;
  private installed: DateConstructor | null = null;

  constructor(startIso: string) {
    this.ms = RealDate.parse(startIso);
  }

  now(): number {
    return this.ms;
  }

  date(): Date {
    return new RealDate(this.ms);
  }

  iso(): string {
    return new RealDate(this.ms).toISOString();
  }

  /** Lets `ms` milliseconds pass (at least 1). */
  advance(ms = 1): void {
    this.ms += Math.max(1, Math.ceil(ms));
  }

  /** Moves to `at` if that is later than now. */
  advanceTo(atMs: number): void {
    if (atMs > this.ms) this.ms = atMs;
  }

  /** Replaces the global Date with one reading this clock; `uninstall` puts the real one back. */
  install(): void {
    if (this.installed) return;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const clock = this;
    class VirtualDate extends RealDate {
      constructor(...args: unknown[]) {
        if (args.length === 0) super(clock.ms);
        else super(...(args as [string | number | Date]));
      }
      static override now(): number {
        return clock.ms;
      }
    }
    this.installed = globalThis.Date;
    globalThis.Date = VirtualDate as DateConstructor;
  }

  uninstall(): void {
    if (!this.installed) return;
    globalThis.Date = this.installed;
    this.installed = null;
  }
}
