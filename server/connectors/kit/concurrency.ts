/**
 * At most `limit` requests of one channel in flight at once, for platforms that count requests in
 * progress as well as requests per second (Clover: 5 concurrent per token, a sixth answered 429).
 * `RequestPace` (pace.ts) gives turns by rate only: a turn is taken when a request starts and
 * nothing is given back when it ends, so it cannot bound how many are running. A connector whose
 * platform publishes a concurrency limit sends each request, from before its pace turn until its
 * answer is read, through one gate per token.
 *
 * Slots are given in the order asked; a caller whose signal ends while it waits leaves the queue
 * without taking one, and a slot is given back when the work ends, whether it succeeded or threw.
 */
export class ConcurrencyGate {
  private running = 0;
  private readonly waiting: { grant: () => void; onAbort: () => void }[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`A concurrency limit is a whole number of at least 1 (got ${limit}).`);
  }

  /** Requests running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Runs `work` once fewer than `limit` others are running; rejects with the signal's reason when it ends first. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (this.running < this.limit && this.waiting.length === 0) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const w = {
        grant: () => {
          signal?.removeEventListener('abort', w.onAbort);
          resolve();
        },
        onAbort: () => {
          const i = this.waiting.indexOf(w);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(signal!.reason as Error);
        },
      };
      signal?.addEventListener('abort', w.onAbort, { once: true });
      this.waiting.push(w);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter: the count stays the same.
    if (next) next.grant();
    else this.running--;
  }
}

/** A `fetch` that holds one of the gate's slots from its call until its answer's body is read (`text`, `json`, `arrayBuffer`). */
export function gatedFetch(gate: ConcurrencyGate, base: typeof fetch): (input: Parameters<typeof fetch>[0], init?: RequestInit) => Promise<{ res: Response; text: string }> {
  return (input, init) => gate.run(async () => {
    const res = await base(input, init);
    const text = await res.text();
    return { res, text };
  }, init?.signal ?? undefined);
}
