/**
 * Every request a connector makes, paced by its channel's one limiter (docs/dispatch.md, "Every
 * request counts"). The channel registry hands each connector a `fetch` (`ConnectorContext.fetch`)
 * that waits for its turn here (`turn`) and takes one request's cost before each HTTP request. So a
 * call that makes several requests — a read before a write and a read-back, a listing of several
 * pages, the fetch of the order a webhook names, a poll — is counted request by request, whichever
 * part of the hub made it: pushes, polls, reads and fetches spend one budget, as the platform counts
 * them.
 *
 * Turns are given in the order they were asked for, so a push waiting for its turn is never passed
 * over by polls and fetches asked for after it. A request whose signal ends while it waits leaves
 * the queue without taking a turn.
 *
 * The dispatcher and the poller, which pace their calls when a channel is built by hand
 * (`limiterFor`), see `callerView()` instead: no wait before a call, nothing taken per call; the
 * requests take their own turns.
 */
import type { Limiter } from '../../outbox/rate-limit';
import type { ConnectorContext } from '../types';

interface Waiter {
  /** What this request costs (the limiter's `costOf` its method, else its `requestCost`). */
  cost: number;
  grant: () => void;
  onAbort: () => void;
}

export class RequestPace {
  private readonly queue: Waiter[] = [];
  private pumping = false;

  /**
   * `now` is the hub's clock; `sleep` waits on it (a fake clock's sleep advances it). A clock that
   * does not move while the pace sleeps (a test's or the simulation's frozen time) would hold a
   * request for ever: after such a sleep the turn is given.
   */
  constructor(
    readonly limiter: Limiter,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /**
   * Waits for the next request's turn, in the order asked, and takes it; rejects with the signal's
   * reason when it ends first. `method`: the request's HTTP method, for a model that charges writes
   * more than reads (a leaky bucket's `writeCost`); a turn asked without one costs `requestCost`.
   */
  turn(signal?: AbortSignal, method?: string): Promise<void> {
    const cost = method !== undefined && this.limiter.costOf ? this.limiter.costOf(method) : this.limiter.requestCost;
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const w: Waiter = {
        cost,
        grant: () => {
          signal?.removeEventListener('abort', w.onAbort);
          resolve();
        },
        onAbort: () => {
          const i = this.queue.indexOf(w);
          if (i >= 0) this.queue.splice(i, 1);
          reject(signal!.reason as Error);
        },
      };
      signal?.addEventListener('abort', w.onAbort, { once: true });
      this.queue.push(w);
      void this.pump();
    });
  }

  /**
   * The limiter as the dispatcher and the poller see it for a channel whose requests pace themselves:
   * they need not wait before a call, and take nothing. Their requests wait in the queue with the
   * others: a caller that waited until the limiter had room before joining it would be passed over
   * for as long as requests already queued take every turn that comes free (a push behind a run of
   * order fetches).
   */
  callerView(): Limiter {
    const l = this.limiter;
    return { requestCost: l.requestCost, description: l.description, waitMs: () => 0, take: () => undefined };
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const cost = this.queue[0]!.cost;
        const before = this.now();
        const wait = this.limiter.waitMs(cost, before);
        if (wait > 0) {
          await this.sleep(wait);
          if (this.now() !== before) continue;
        }
        const w = this.queue.shift();
        if (!w) break;
        this.limiter.take(cost, this.now());
        w.grant();
      }
    } finally {
      this.pumping = false;
    }
  }
}

/**
 * A connector's `fetch` and `requestTurn` (ConnectorContext) when every request it makes takes its
 * turn from `pace()`: the pace is built from the connector's own rate-limit model, so it is looked
 * up at each request (null: not built yet; no connector sends a request while it is created).
 * `base` is the fetch that sends, looked up at each request too.
 */
export function pacedRequests(pace: () => RequestPace | null, base: () => typeof fetch): Required<Pick<ConnectorContext, 'fetch' | 'requestTurn'>> {
  const requestTurn = async (signal?: AbortSignal): Promise<void> => {
    await pace()?.turn(signal);
  };
  return {
    requestTurn,
    fetch: async (input, init) => {
      // The method decides the cost where the model charges writes more (a leaky bucket's writeCost).
      const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
      await pace()?.turn(init?.signal ?? undefined, method);
      return base()(input, init);
    },
  };
}
