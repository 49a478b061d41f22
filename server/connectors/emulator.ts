/**
 * What every platform emulator offers: a real HTTP server on 127.0.0.1 that keeps products,
 * locations and levels in memory, speaks the platform's API shapes and errors, enforces its auth and
 * rate-limit model, and sends the webhooks the platform would send, signed the same way.
 * Emulators are a product feature (the sandbox that `npm start` runs) as well as the tests' fakes.
 */

export interface EmulatorProduct {
  sku: string;
  title: string;
  /** Units available per platform location id. */
  levels: Record<string, number>;
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
  sell(sale: { sku: string; quantity: number; locationId?: string }): Promise<{ orderId: string }>;
  /** A refund of an earlier sale, with or without putting the goods back. */
  refund(refund: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }>;
  /** Someone changes stock in the platform's own dashboard: emits the inventory webhook only. */
  setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void>;
  faults: { api: ApiFaults; webhooks: WebhookFaults };
  /** Waits until every webhook queued so far has been sent (or dropped). */
  flushWebhooks(): Promise<void>;
  /** Every API request received, for tests: method, path and parsed body. */
  readonly requests: { method: string; path: string; body: unknown }[];
}
