/**
 * What every platform emulator offers: a real HTTP server on 127.0.0.1 that keeps products,
 * locations and levels in memory, speaks the platform's API shapes and errors, enforces its auth and
 * rate-limit model, and sends the webhooks the platform would send, signed the same way.
 * Emulators are a product feature (the sandbox that `npm start` runs) as well as the tests' fakes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP server listening on 127.0.0.1 (`port` 0: any free one). It keeps an idle connection open
 * longer than a client does (Node's fetch: 4 s), as the platforms' front servers do (a minute or
 * more): with Node's default of 5 s, a connection the server closed just as the client reused it
 * answered ECONNRESET on a loaded machine (the Squarespace conformance run in CI).
 */
export async function listenOnLoopback(handler: http.RequestListener, port = 0): Promise<http.Server> {
  const server = http.createServer({ keepAliveTimeout: 65_000, headersTimeout: 66_000 }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

export function loopbackUrl(server: http.Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Closes a server at once, open keep-alive connections included. */
export async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface EmulatorProduct {
  sku: string;
  title: string;
  /** Units available per platform location id. */
  levels: Record<string, number>;
  /** Price of one unit in minor units of the emulator's currency (2500 when not given). */
  price?: number;
}

/** The price of a listing nobody priced: 25.00 in a two-decimal currency, the same on every emulator. */
export const DEFAULT_PRICE = 2500;

/**
 * A tax rate given as a decimal percentage ("10", "7.25") in parts per million, so the emulators
 * compute tax with integers only.
 */
export function percentPpm(percent: string): number {
  const m = /^(\d+)(?:\.(\d{1,4}))?$/.exec(percent.trim());
  if (!m) throw new Error(`"${percent}" is not a tax rate in percent (e.g. "10" or "7.25").`);
  return Number(m[1]) * 10_000 + Number((m[2] ?? '').padEnd(4, '0'));
}

/** `amount × ppm / 1 000 000`, rounded half up, in minor units (what a platform charges as tax on `amount`). */
export function applyPpm(amount: number, ppm: number): number {
  const n = BigInt(amount) * BigInt(ppm);
  return Number((n + 500_000n) / 1_000_000n);
}

/**
 * The share of `total` (minor units, for `units` units) that units `from` … `from + count − 1` carry:
 * floored shares whose sum over every unit is exactly `total`, so partial refunds add up to the line.
 */
export function unitShare(total: number, units: number, from: number, count: number): number {
  if (units <= 0) return 0;
  const upTo = (k: number) => Number((BigInt(total) * BigInt(k)) / BigInt(units));
  return upTo(Math.min(units, from + count)) - upTo(from);
}

/** What the emulators accept on a sale besides the SKU and quantity. */
export interface SaleMoney {
  /** A fixed discount on the line, in minor units. */
  discount?: number;
  /** A tax rate in percent ("10") for this sale; the emulator's own rate when not given. */
  taxRate?: string;
}

export interface WebhookFaults {
  /** Probability (0–1) that a webhook is never sent. */
  drop?: number;
  /** Probability (0–1) that a webhook is sent twice. */
  duplicate?: number;
  /** Extra delay before each webhook is sent, in ms. */
  delayMs?: number;
  /** Hold webhooks and send each batch of this many in reverse order. */
  reorderWindow?: number;
}

export interface ApiFaults {
  /** Added to every API answer, in ms. */
  latencyMs?: number;
  /** The next n API calls answer 5xx (the platform's own error body). */
  failNext?: number;
  /** The next n API calls answer 429 with this Retry-After (seconds). */
  rateLimitNext?: { count: number; retryAfterSeconds: number };
  /**
   * The next `count` API calls are refused as a whole with `status`, in the platform's own error
   * body: 401 (the credentials were revoked), 403 (a permission is missing, or a firewall), 404 (the
   * route is not there: a wrong address, an API that is gone).
   */
  statusNext?: { count: number; status: 401 | 403 | 404 };
  /** The next n API calls get no answer at all: the connection stays open until the caller gives up. */
  hangNext?: number;
  /**
   * The next n writes of levels are applied, but their answers never arrive (the connection stays
   * open until the caller gives up): the caller cannot tell whether the write landed.
   */
  loseWriteAnswerNext?: number;
  /**
   * Lists answer their first page whatever page or cursor is asked, still saying there is more (a
   * cache or proxy in front of the shop that ignores paging).
   */
  ignorePaging?: boolean;
  /**
   * Writes to this SKU are refused with the platform's own answer for one item (as if the item had
   * just gone), in the batch answer beside the other items, which are applied.
   */
  refuseSku?: string | null;
}

/** A rate limit counted in requests: at most `requests` in any window of `windowMs`. */
export interface RequestWindow {
  requests: number;
  windowMs: number;
}

/**
 * Counts requests in a sliding window, as a platform or a host enforcing "N requests per window"
 * does. A request at `t` leaves the window at `t + windowMs` (the same rule as the hub's
 * requests-per-window limiter).
 */
export class WindowCounter {
  private readonly sent: number[] = [];
  constructor(readonly limit: RequestWindow) {}

  /** Admits a request at `now`, or says how long until one would be admitted. */
  admit(now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    while (this.sent.length > 0 && this.sent[0]! <= now - this.limit.windowMs) this.sent.shift();
    if (this.sent.length >= this.limit.requests) return { ok: false, retryAfterMs: this.sent[this.sent.length - this.limit.requests]! + this.limit.windowMs - now };
    this.sent.push(now);
    return { ok: true };
  }
}

/**
 * The most of `times` (ms, e.g. an emulator's `arrivals`) in any window of `windowMs`, by the same
 * rule: a time leaves the window `windowMs` after it. For the tests and the benchmark.
 */
export function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** A request an emulator refused for its rate limit: when (on its clock) and the wait it asked for, if any. */
export interface RateLimitRefusal {
  at: number;
  retryAfterMs: number | null;
}

/**
 * The faults every emulator applies first, before its own checks: the `latencyMs` wait, then
 * `hangNext` (`'hang'`: leave the request without an answer), then `statusNext` (the status to
 * answer in the platform's own error shape). Each counts itself down. Null: answer as usual.
 */
export async function commonApiFault(f: ApiFaults): Promise<'hang' | 401 | 403 | 404 | null> {
  if (f.latencyMs) await new Promise((r) => setTimeout(r, f.latencyMs));
  if (f.hangNext && f.hangNext > 0) {
    f.hangNext--;
    return 'hang';
  }
  if (f.statusNext && f.statusNext.count > 0) {
    f.statusNext.count--;
    return f.statusNext.status;
  }
  return null;
}

export interface Emulator {
  readonly platform: string;
  /** Starts listening on 127.0.0.1; resolves with the base URL a connector should be given. */
  start(port?: number): Promise<string>;
  stop(): Promise<void>;
  /** Where the platform sends its webhooks (the hub's `/v1/webhooks/<channel>` address). */
  subscribe(url: string): void;
  /** Creates products (or replaces their levels) without sending webhooks. */
  seed(products: EmulatorProduct[]): void;
  /** The platform's location ids. */
  locations(): string[];
  level(sku: string, locationId: string): number | null;
  /** A sale made on the platform (at its POS or web store): emits the order and inventory webhooks. */
  sell(sale: { sku: string; quantity: number; locationId?: string } & SaleMoney): Promise<{ orderId: string }>;
  /** A refund of an earlier sale, with or without putting the goods back. */
  refund(refund: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }>;
  /** Someone changes stock in the platform's own dashboard: emits the inventory webhook only. */
  setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void>;
  faults: { api: ApiFaults; webhooks: WebhookFaults };
  /** Called right after an API write changed a level, with its SKU (tests land a sale between a write and its read-back). */
  afterStockWrite?: ((sku: string) => void) | null;
  /** When each API request arrived, on the emulator's clock (the one its rate limit counts with). */
  readonly arrivals?: readonly number[];
  /** Every request refused for the emulator's rate limit (429, THROTTLED). */
  readonly rateLimited?: readonly RateLimitRefusal[];
  /** Waits until every webhook queued so far has been sent (or dropped). */
  flushWebhooks(): Promise<void>;
  /** Every API request received, for tests: method, path and parsed body. */
  readonly requests: { method: string; path: string; body: unknown }[];
  /*
   * What the deterministic simulation asks of an emulator besides the above (docs/simulation.md,
   * "Running over any platforms"): it knows platforms only through these, never by name.
   */
  /**
   * Whether one request of `requests` writes stock levels on the platform (a push of ours). The
   * simulation counts pushes with it, to check that a quiet hub pushes nothing; it needs it.
   */
  isStockWrite?(request: { method: string; path: string; body: unknown }): boolean;
  /**
   * What the emulator itself found wrong so far, one sentence each: its own errors while answering,
   * requests outside the platform's published spec. Empty when all is well; a simulation run that
   * leaves any fails.
   */
  selfCheck?(): string[];
  /**
   * The longest run of API faults in a row (`faults.api.failNext`, `rateLimitNext.count`) the
   * simulation gives this platform at once; unset: as many as the scenario draws.
   */
  readonly faultRunLimit?: number;
  /** For a simulation trace: what a webhook body this emulator sent says about stock, in a few words ('' for nothing). */
  describeWebhook?(body: string): string;
}

/** One webhook as a platform sends it; `id` names the delivery (event id or delivery id). */
export interface OutgoingWebhook {
  topic: string;
  id: string;
  body: string;
  headers: Record<string, string>;
}

export interface WebhookDeliveryRecord {
  topic: string;
  id: string;
  status: number | 'error' | 'dropped';
}

/**
 * How every emulator sends its webhooks: the fault modes (drop, duplicate, hold and reverse, delay),
 * the platform's own retries, a log of every attempt, and a way to wait until all are sent.
 * The emulator passes its own `dispatch` step to `send`, so a test can catch webhooks there.
 */
export class WebhookSender {
  readonly deliveries: WebhookDeliveryRecord[] = [];
  private readonly held: OutgoingWebhook[] = [];
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly opts: {
      url: () => string | null;
      faults: () => WebhookFaults;
      random: () => number;
      /** Tries per webhook: the platform retries a failed delivery (quickly, here). */
      attempts: number;
      /** The headers of a given try (Square numbers its retries). */
      headersFor?: (w: OutgoingWebhook, attempt: number) => Record<string, string>;
    },
  ) {}

  /** Queues a webhook through the fault modes; `dispatch` sends one. */
  send(w: OutgoingWebhook, dispatch: (w: OutgoingWebhook) => void): void {
    const f = this.opts.faults();
    if (f.drop && this.opts.random() < f.drop) {
      this.deliveries.push({ topic: w.topic, id: w.id, status: 'dropped' });
      return;
    }
    const copies = f.duplicate && this.opts.random() < f.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      if (f.reorderWindow && f.reorderWindow > 1) {
        this.held.push(w);
        if (this.held.length >= f.reorderWindow) this.releaseHeld(dispatch);
      } else {
        dispatch(w);
      }
    }
  }

  /** POSTs one webhook to the subscribed address, with the configured delay and retries. */
  deliver(w: OutgoingWebhook): void {
    const url = this.opts.url();
    if (!url) return;
    const delay = this.opts.faults().delayMs ?? 0;
    const p = (async () => {
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      for (let attempt = 0; attempt < this.opts.attempts; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * attempt));
        try {
          const res = await fetch(url, { method: 'POST', headers: this.opts.headersFor?.(w, attempt) ?? w.headers, body: w.body });
          await res.arrayBuffer().catch(() => undefined);
          this.deliveries.push({ topic: w.topic, id: w.id, status: res.status });
          if (res.ok) return;
        } catch {
          this.deliveries.push({ topic: w.topic, id: w.id, status: 'error' });
        }
      }
    })();
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /** Sends what is held back, then waits until every webhook in flight is answered (or given up). */
  async flush(dispatch: (w: OutgoingWebhook) => void): Promise<void> {
    if (this.held.length > 0) this.releaseHeld(dispatch);
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  private releaseHeld(dispatch: (w: OutgoingWebhook) => void): void {
    for (const w of this.held.splice(0, this.held.length).reverse()) dispatch(w);
  }
}

/**
 * What the three emulators share: the loopback server's life, the address webhooks go to, and the
 * step that sends one webhook (`dispatch`: the simulation replaces it on an instance to catch each
 * webhook as the platform sends it, and delivers them itself).
 */
export abstract class LoopbackEmulator {
  private server: http.Server | null = null;
  protected webhookUrl: string | null = null;
  /** The emulator's own address once started (links in WooCommerce's answers use it). */
  protected baseUrl = 'http://127.0.0.1';
  /** The clock the rate limit counts with (ms); a test may share a fake one with the hub's dispatcher. */
  protected clockMs: () => number = () => Date.now();
  /** When each API request arrived, on `clockMs`. */
  readonly arrivals: number[] = [];
  /** Every request refused for the emulator's rate limit. */
  readonly rateLimited: RateLimitRefusal[] = [];
  afterStockWrite: ((sku: string) => void) | null = null;
  protected abstract readonly webhooks: WebhookSender;
  protected abstract handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;

  async start(port = 0): Promise<string> {
    const server = await listenOnLoopback((req, res) => {
      this.arrivals.push(this.clockMs());
      void this.handle(req, res);
    }, port);
    this.server = server;
    this.baseUrl = loopbackUrl(server);
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await closeServer(s);
  }

  /** Where webhooks go (and, for Square, the notification URL they are signed with, as in its Developer Dashboard). */
  subscribe(url: string): void {
    this.webhookUrl = url;
  }

  /** Every delivery attempt of a webhook (and every one dropped), for tests. */
  get deliveries(): readonly WebhookDeliveryRecord[] {
    return this.webhooks.deliveries;
  }

  async flushWebhooks(): Promise<void> {
    await this.webhooks.flush((w) => this.dispatch(w));
  }

  /** Queues a webhook through the fault modes. */
  protected queueWebhook(w: OutgoingWebhook): void {
    this.webhooks.send(w, (x) => this.dispatch(x));
  }

  /** Sends one webhook. */
  protected dispatch(w: OutgoingWebhook): void {
    this.webhooks.deliver(w);
  }

  /** Answers nothing: resolves when the caller gives up (or the emulator stops), as a hung server does. */
  protected hang(res: http.ServerResponse): Promise<void> {
    return new Promise<void>((resolve) => {
      if (res.destroyed) return resolve();
      res.once('close', () => resolve());
    });
  }

  /** Tells every hook that these SKUs' levels were just written through the API. */
  protected stockWritten(skus: Iterable<string | null>): void {
    for (const sku of new Set(skus)) if (sku !== null) this.afterStockWrite?.(sku);
  }
}

/** One API request as an emulator reads it: its method, address and body (JSON, or the text when it is not JSON; null when empty). */
export async function readRequest(req: http.IncomingMessage, baseUrl: string): Promise<{ method: string; url: URL; raw: string; body: unknown }> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  let body: unknown = null;
  try {
    body = raw ? JSON.parse(raw) : null;
  } catch {
    body = raw;
  }
  return { method: (req.method ?? 'GET').toUpperCase(), url: new URL(req.url ?? '/', baseUrl), raw, body };
}
