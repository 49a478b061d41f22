/**
 * Inbox → ledger + outbox, one transaction per event (docs/inbox-outbox.md).
 */
import type { HubConfig } from '../config';
import { MovementError, stockAlertFor, type StockAlertKind } from '../domain/ledger';
import { RelayInputError, planRelay, type BookingCommand, type Command, type Relay } from '../domain/relay';
import { locationLevelView } from '../domain/views';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { InboxEntry, InboxStatus, OutboxInput, Store, StoreOps } from '../store/types';
import { planFacts } from '../channels/plan';
import { resolveLines, type ChannelRegistry, type LineToResolve } from '../channels/registry';
import { ConnectorError, type ChannelFact } from '../connectors/types';
import { Preparer, readPrepared, waitForPlatform } from './prepare';
import { MAX_QUANTITY_TEXT, isBoundedQuantity } from '../domain/quantity';
import { publishedLevel } from '../domain/ledger';
import { bookedOnChannel, changedOnChannelSince, landedLevel, observe, stateOf, windowEnded } from '../channels/attribution';
import type { ChannelConfig } from '../config';
import type { BookingObserver } from './observer';
import { Alerts, type AlertInput } from '../alerts';
import { boundedKey, chunks, ownValue } from '../util';
import { CONFLICT_DECISION, decideConflict } from './conflict-decision';
import { isPurchaseOrderRelay } from '../domain/relay';
import { guardReturns, recordOrderFacts } from '../orders/log';
import { cancelPurchaseOrder, fulfilPurchaseOrder, reevaluate, submitPurchaseOrder, type Desk, type PurchaseOrderInput, type PurchaseOrderView } from '../orders/purchase-orders';
import { createSupplierOrder, receiveSupplierOrder, updateSupplierOrderStatus, type ReceiptInput, type StatusInput, type SupplierDesk, type SupplierOrderInput } from '../orders/supplier-orders';
import type { Movement, Source } from '../domain/ledger';

/** An item and location whose numbers may have changed; `raised`: some stock became available. */
interface Touched {
  sku: string;
  location: string;
  raised?: boolean;
}

/** Inbound events of the order desks (docs/orders.md), stored by the API with source `api`. */
export const ORDER_DESK_KINDS = ['purchase_order', 'purchase_order_cancel', 'purchase_order_fulfil', 'supplier_order', 'supplier_receipt', 'supplier_status'] as const;
/** What the observers (sheet, Airtable) hear besides bookings; alerts go through `Alerts` (server/alerts.ts). */
export type AnnouncedTopic = 'level.changed' | 'purchase_order.changed' | 'order.recorded';

/** An engine event: the attribution window of a channel level discrepancy ended (docs/attribution.md). */
interface WindowEvent {
  channelId: string;
  sku: string;
  location: string;
  pendingSince: string;
}

export type CommandResult = {
  sku: string;
  location?: string;
  result: 'booked' | 'duplicate' | 'updated' | 'unchanged' | 'unmatched' | 'rejected' | 'conflict';
  message: string;
  movementId?: number;
  quantity?: number;
  /** A sheet edit that became a conflict, or a conflict decided (docs/conflicts.md). */
  conflictId?: number;
};

export interface Outcome {
  status: InboxStatus;
  results: CommandResult[];
}

/** The alert kind each flag of the transaction log raises. */
const ORDER_FLAG_ALERT: Record<string, string> = {
  currency_not_accepted: 'order_currency',
  refund_exceeds_order: 'refund_exceeds_order',
  refund_currency_differs: 'refund_exceeds_order',
  return_exceeds_sold: 'return_exceeds_sold',
};

type ProcessorConfig = Pick<HubConfig, 'defaultLocation' | 'channels' | 'notify' | 'defaultLowStockThreshold'> &
  Partial<Pick<HubConfig, 'orders' | 'purchaseOrders' | 'supplierOrders'>> & { attributionWindowMs?: number; fetchTimeoutMs?: number };

const DEFAULT_ORDERS: Pick<HubConfig, 'orders' | 'purchaseOrders' | 'supplierOrders'> = {
  orders: { currencies: [], keepContactDetails: false },
  purchaseOrders: { onShort: 'waitlist', customers: {} },
  supplierOrders: { onDelay: 'keep_listed' },
};

const ALERT_TEXT: Record<StockAlertKind, { severity: 'warning' | 'critical'; text: (sku: string, loc: string, available: number) => string }> = {
  oversold: { severity: 'critical', text: (s, l, a) => `${s} is oversold at ${l}: ${-a} more sold or reserved than on hand.` },
  out_of_stock: { severity: 'warning', text: (s, l) => `${s} is out of stock at ${l}.` },
  low_stock: { severity: 'warning', text: (s, l, a) => `${s} is running low at ${l}: ${a} available.` },
};
const STOCK_ALERT_KINDS: StockAlertKind[] = ['oversold', 'out_of_stock', 'low_stock'];

/** A number a channel reported beyond the bound on a quantity (docs/ledger.md), as a sentence. */
const beyondBound = (channel: string, what: string, sku: string | null, n: unknown) =>
  `${channel} reported ${what}${sku ? ` for ${sku}` : ''} of ${String(n)}, which is not a whole number of units within the ${MAX_QUANTITY_TEXT} the hub keeps of one item at one location. Nothing of this event was booked; check the item on ${channel}.`;

/** The first quantity or level in a channel's facts that is not a whole number within the bound; null when all are. */
function factBeyondBound(facts: ChannelFact[], channel: string): { sku: string; message: string } | null {
  for (const f of facts) {
    if (f.type === 'level_observed') {
      const ref = f.ref.inventoryItemId ?? f.ref.variantId ?? f.ref.productId;
      if (!isBoundedQuantity(f.available)) return { sku: f.sku ?? '', message: beyondBound(channel, 'a level', f.sku ?? (ref ? `its item ${ref}` : null), f.available) };
      continue;
    }
    const lines: { sku: string | null; quantity: number }[] = [];
    if (f.type === 'sale' || f.type === 'refund' || f.type === 'cancellation') lines.push(...f.lines);
    if ((f.type === 'sale' || f.type === 'cancellation' || f.type === 'order_updated') && f.order) lines.push(...f.order.lines);
    const bad = lines.find((l) => !isBoundedQuantity(l.quantity));
    if (bad) return { sku: bad.sku ?? '', message: beyondBound(channel, `a ${f.type === 'order_updated' ? 'sale' : f.type} line`, bad.sku, bad.quantity) };
  }
  return null;
}

/**
 * The longest platform id (order, refund, line) the hub books. The transaction log indexes them, and
 * PostgreSQL refuses an index entry of a few kilobytes: an event carrying a longer one would be retried
 * forever. Platforms use ids of a few dozen characters; a longer one is refused with its reason.
 */
export const MAX_PLATFORM_ID = 200;

export { MAX_WAIT_FOR_PLATFORM_MS } from './prepare';

function idTooLong(facts: ChannelFact[], channel: string): string | null {
  const what = (kind: string, id: string) => `${channel} sent ${kind} ${JSON.stringify(id.slice(0, 40))}… of ${id.length} characters; the hub keeps platform ids of up to ${MAX_PLATFORM_ID}. Nothing of this event was booked.`;
  for (const f of facts) {
    const ids: [string, unknown][] = [['an order id', (f as { orderId?: unknown }).orderId], ['a refund id', (f as { refundId?: unknown }).refundId]];
    const lines: { lineId: string }[] = [];
    if (f.type === 'sale' || f.type === 'refund' || f.type === 'cancellation') lines.push(...f.lines);
    if ((f.type === 'sale' || f.type === 'cancellation' || f.type === 'order_updated') && f.order) lines.push(...f.order.lines);
    for (const l of lines) ids.push(['a line id', l.lineId]);
    for (const [kind, id] of ids) if (typeof id === 'string' && id.length > MAX_PLATFORM_ID) return what(kind, id);
  }
  return null;
}

/** The worst result decides the entry's status: something to fix first, then something to decide. */
function statusOf(results: CommandResult[]): InboxStatus {
  if (results.some((r) => r.result === 'unmatched')) return 'unmatched';
  if (results.some((r) => r.result === 'conflict')) return 'conflict';
  if (results.some((r) => r.result === 'rejected')) return 'rejected';
  return 'processed';
}

export class InboxProcessor {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private pendingWake = false;
  /** Unexpected errors per entry; after a few the entry is set aside as `failed` so the queue moves on. */
  private readonly errors = new Map<number, number>();
  private readonly listeners = new Set<(eventId: number) => void>();
  private readonly observers: BookingObserver[] = [];
  private alerts: Alerts | null = null;
  private reconcileRequested: (() => void) | null = null;
  /** Entries still to be tried one per transaction after a batch failed. */
  private singles = 0;
  /**
   * The stage before booking: fetches what a channel event leaves out and finds its facts. Runs in
   * loops of its own (one per channel) while the hub runs; driven by hand, `processNext` runs it first.
   */
  readonly preparer: Preparer;
  /** Per event being handled: the movements it booked or found booked, by idempotency key. */
  private readonly bookedBy = new Map<number, Map<string, Movement>>();
  /**
   * SQLite runs each statement on the hub's own thread, so a batch holds it from start to commit;
   * PostgreSQL gives it back at every statement, and answering webhooks goes on in between.
   */
  private get blocksThread(): boolean {
    return this.store.dialect === 'sqlite';
  }
  /** True while webhooks and relays are arriving (a burst): booking on SQLite then leaves the thread half the time. */
  private busy: () => boolean = () => false;

  constructor(
    private readonly store: Store,
    private readonly config: ProcessorConfig,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly clock: () => Date = () => new Date(),
    private readonly idleMs = 1000,
    private readonly channels: ChannelRegistry | null = null,
    private readonly batch: { max: number; ms: number } = { max: 50, ms: 25 },
  ) {
    this.preparer = new Preparer(store, channels, log.child({ stage: 'prepare' }), clock, () => this.wakeUp(), { idleMs, ...(config.fetchTimeoutMs ? { timeoutMs: config.fetchTimeoutMs } : {}) });
  }

  /**
   * Processes the oldest waiting entries, in order, several in one transaction (one commit for all;
   * on SQLite, one fsync): up to `batch.max` entries, or fewer once `batch.ms` of work is spent.
   * False when nothing was waiting. If anything in the batch fails, nothing of it is kept and its
   * entries are tried again one per transaction, so only the failing entry counts a failure.
   */
  async processNext(): Promise<boolean> {
    // Driven by hand (tests, the simulation): what is waiting is prepared first, in order.
    if (!this.preparer.started) await this.preparer.prepareDue();
    if (this.batch.max <= 1 || this.singles > 0) {
      if (this.singles > 0) this.singles--;
      return this.processOne();
    }
    let claimed = 0;
    try {
      const started = performance.now();
      const done = await this.store.transaction(async (tx) => {
        const out: { entry: InboxEntry; outcome: Outcome }[] = [];
        while (out.length < this.batch.max && (out.length === 0 || performance.now() - started < this.batch.ms)) {
          const entry = await tx.inbox.claim(this.now());
          if (!entry) break;
          claimed++;
          const outcome = await this.handle(tx, entry);
          for (const o of this.observers) await o.afterEvent(tx, entry, outcome, this.now());
          await tx.inbox.finish(entry.id, outcome.status, outcome, this.now());
          out.push({ entry, outcome });
        }
        return out;
      });
      for (const d of done) this.finished(d.entry, d.outcome);
      return done.length > 0;
    } catch (err) {
      if (claimed === 0) throw err;
      this.log.warn({ err, entries: claimed }, 'a batch of inbound events failed and was undone; trying them one at a time');
      this.singles = claimed;
      return true;
    }
  }

  private finished(entry: InboxEntry, outcome: Outcome): void {
    this.errors.delete(entry.id);
    this.metrics.inboxProcessed.inc({ status: outcome.status });
    this.emit(entry.id);
    const level = outcome.status === 'processed' ? 'debug' : 'info';
    this.log[level]({ event: entry.id, kind: entry.kind, status: outcome.status, results: outcome.results }, 'inbound event processed');
  }

  /** Processes the oldest waiting entry alone in its transaction; false when there was none. */
  private async processOne(): Promise<boolean> {
    let claimedId: number | null = null;
    let attempts = 0;
    try {
      const done = await this.store.transaction(async (tx) => {
        const entry = await tx.inbox.claim(this.now());
        if (!entry) return null;
        claimedId = entry.id;
        attempts = entry.attempts;
        const outcome = await this.handle(tx, entry);
        for (const o of this.observers) await o.afterEvent(tx, entry, outcome, this.now());
        await tx.inbox.finish(entry.id, outcome.status, outcome, this.now());
        return { entry, outcome };
      });
      if (!done) return false;
      this.finished(done.entry, done.outcome);
      return true;
    } catch (err) {
      if (claimedId === null) throw err;
      if (err instanceof ConnectorError) {
        // The platform did not answer while the hub fetched what the event leaves out (an outage, a
        // 429, a credential it refuses): the event waits, with growing pauses, and the events behind
        // it go on. It is never set aside as failed for the platform's sake (docs/inbox-outbox.md).
        this.errors.delete(claimedId);
        const delay = waitForPlatform(err, attempts);
        const retryAt = new Date(Date.parse(this.now()) + delay).toISOString();
        await this.store.inbox.defer(claimedId, retryAt, { status: 'received', results: [], waiting: `${err.message} The event waits and is tried again at ${retryAt}.`, retryAt });
        this.log.warn({ event: claimedId, retryAt, err: err.message }, 'inbound event waits for its platform');
        return true;
      }
      const n = (this.errors.get(claimedId) ?? 0) + 1;
      this.errors.set(claimedId, n);
      this.log.error({ err, event: claimedId, tries: n }, 'processing an inbound event failed');
      if (n >= 5) {
        this.errors.delete(claimedId);
        await this.store.inbox.finish(claimedId, 'failed', { status: 'failed', error: (err as Error).message, results: [] }, this.now());
        this.metrics.inboxProcessed.inc({ status: 'failed' });
        this.emit(claimedId);
      } else {
        // Give a platform or database that stumbled a moment before the same entry is tried again.
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** (n - 1))));
      }
      return true;
    }
  }

  /**
   * While `busy()` is true, each batch is followed by a pause as long as the CPU time it took, so answering
   * the platforms (which give up after a few seconds and deliver again) keeps at least half of the
   * hub's thread during a burst; booking catches up when it is over (docs/inbox-outbox.md).
   */
  yieldWhile(busy: () => boolean): void {
    this.busy = busy;
  }

  /** Follows every booking inside its transaction (the sheet and Airtable write-backs). */
  observeBookings(observer: BookingObserver): void {
    this.observers.push(observer);
  }

  /** The hub's one path for alerts (server/alerts.ts); without it, alerts go to the notification webhooks only. */
  announceAlertsThrough(alerts: Alerts): void {
    this.alerts = alerts;
  }

  /** What a sync request asking for a reconciliation calls (the hub runs one; docs/reconcile.md). */
  onReconcileRequested(fn: () => void): void {
    this.reconcileRequested = fn;
  }

  /** Calls `fn` with the id of every event this processor finishes; returns a function to stop listening. */
  onProcessed(fn: (eventId: number) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(eventId: number): void {
    for (const fn of this.listeners) fn(eventId);
  }

  /** Prepares and processes everything waiting now; returns how many entries were booked. */
  async drain(): Promise<number> {
    let n = 0;
    for (;;) {
      await this.preparer.prepareDue();
      while (await this.processNext()) n++;
      if ((await this.openWindows()) === 0) return n;
    }
  }

  /**
   * Turns channel level discrepancies whose attribution window has ended into engine events, booked
   * in inbox order like everything else (deduped: one per discrepancy). Returns how many were added.
   */
  async openWindows(): Promise<number> {
    if (!this.channels) return 0;
    const window = this.config.attributionWindowMs ?? 15_000;
    const due = await this.store.channelLevels.discrepancies(new Date(this.clock().getTime() - window).toISOString(), 100);
    let added = 0;
    for (const d of due) {
      const body: WindowEvent = { channelId: d.channelId, sku: d.sku, location: d.locationId, pendingSince: d.pendingSince! };
      const stored = await this.store.inbox.insert(
        { dedupeKey: `engine:window:${d.channelId}:${d.sku}:${d.locationId}:${d.pendingSince}`, source: 'engine', kind: 'attribution_window', headers: {}, body: JSON.stringify(body) },
        this.now(),
      );
      if (stored) added++;
    }
    return added;
  }

  /**
   * Tells a running processor that new work arrived (channel events are prepared first; with
   * `channelId`, only that channel's prepare loop looks).
   */
  notify(channelId?: string): void {
    this.preparer.notify(channelId);
    this.wakeUp();
  }

  /** Wakes the booking loop only (an event became ready to book). */
  private wakeUp(): void {
    this.pendingWake = true;
    this.wake?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.preparer.start();
    this.loop = (async () => {
      while (this.running) {
        this.pendingWake = false;
        try {
          // The thread time a batch costs.
          const cpu = process.cpuUsage();
          const worked = await this.processNext();
          if (worked && this.blocksThread && this.busy()) {
            const used = process.cpuUsage(cpu);
            await new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, (used.user + used.system) / 1000))));
          }
          if (worked) continue;
        } catch (err) {
          this.log.error({ err }, 'inbox processor cannot reach the store; retrying');
        }
        try {
          if ((await this.openWindows()) > 0) continue;
        } catch (err) {
          this.log.error({ err }, 'inbox processor cannot look for channel discrepancies; retrying');
        }
        if (!this.running || this.pendingWake) continue;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.idleMs);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = null;
      }
    })();
  }

  /** Stops after the entry in hand (if any) is finished. */
  async stop(): Promise<void> {
    await this.preparer.stop();
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  private now(): string {
    return this.clock().toISOString();
  }

  private async handle(tx: StoreOps, entry: InboxEntry): Promise<Outcome> {
    this.bookedBy.set(entry.id, new Map());
    try {
      return await this.handleEntry(tx, entry);
    } finally {
      this.bookedBy.delete(entry.id);
    }
  }

  private async handleEntry(tx: StoreOps, entry: InboxEntry): Promise<Outcome> {
    if (entry.source === 'channel') return this.handleChannel(tx, entry);
    if (entry.source === 'engine' && entry.kind === 'attribution_window') return this.handleWindow(tx, entry);
    if (entry.source === 'api' && entry.kind === CONFLICT_DECISION) {
      const touched = new Map<string, Touched>();
      const outcome = await decideConflict(tx, entry, this.now(), (cmd) => this.apply(tx, cmd, entry.id, touched));
      await this.followUp(tx, touched, entry.id);
      return outcome;
    }
    if (entry.source === 'engine' && entry.kind === 'reconcile_observed') {
      // Reconciliation read a level nobody explains: treated as if the channel had reported it.
      const b = JSON.parse(entry.body) as { channelId: string; sku: string; location: string; level: number };
      const ch = this.channels?.get(b.channelId);
      if (!ch) return { status: 'rejected', results: [{ sku: b.sku, result: 'rejected', message: `Channel "${b.channelId}" is no longer configured.` }] };
      if (!isBoundedQuantity(b.level)) return { status: 'rejected', results: [{ sku: b.sku, result: 'rejected', message: beyondBound(ch.config.name, 'a level', b.sku, b.level) }] };
      const r = await this.observeLevel(tx, ch.config, b.sku, b.location, b.level, null);
      return { status: 'processed', results: [r] };
    }
    if (entry.source === 'api' && (ORDER_DESK_KINDS as readonly string[]).includes(entry.kind)) return this.handleOrderDesk(tx, entry);
    let commands: Command[];
    try {
      const relay = JSON.parse(entry.body) as Relay;
      if (isPurchaseOrderRelay(relay)) return this.handleOrderDesk(tx, entry, relay);
      commands = planRelay(relay, entry.dedupeKey, entry.source === 'api' ? 'api' : undefined);
    } catch (err) {
      const message = err instanceof RelayInputError ? err.message : `The event cannot be read: ${(err as Error).message}`;
      return { status: 'rejected', results: [{ sku: '', result: 'rejected', message }] };
    }
    const touched = new Map<string, Touched>();
    const results: CommandResult[] = [];
    for (const cmd of commands) {
      if (cmd.type === 'resync') results.push(...(await this.resync(tx, cmd, touched)));
      else results.push(await this.apply(tx, cmd, entry.id, touched));
    }
    await this.followUp(tx, touched, entry.id);
    return { status: statusOf(results), results };
  }

  /** A verified channel webhook: translate, resolve to our SKUs and locations, book. */
  private async handleChannel(tx: StoreOps, entry: InboxEntry): Promise<Outcome> {
    const channelId = entry.headers['x-stockrelay-channel'] ?? '';
    const ch = this.channels?.get(channelId);
    if (!ch) return { status: 'rejected', results: [{ sku: '', result: 'rejected', message: `Channel "${channelId}" is no longer configured; nothing was booked.` }] };
    // Booking only books: the facts were found before, by the prepare stage (./prepare.ts).
    const prepared = readPrepared(entry);
    if (!prepared) throw new Error(`Inbound event ${entry.id} was claimed before it was prepared.`);
    if ('rejected' in prepared) return { status: 'rejected', results: [{ sku: '', result: 'rejected', message: prepared.rejected }] };
    let facts: ChannelFact[] = prepared.facts;
    // A quantity or level beyond the bound is refused with its reason, before anything is booked or logged.
    const beyond = factBeyondBound(facts, ch.config.name);
    if (beyond) return { status: 'rejected', results: [{ sku: beyond.sku, result: 'rejected', message: beyond.message }] };
    const longId = idTooLong(facts, ch.config.name);
    if (longId) return { status: 'rejected', results: [{ sku: '', result: 'rejected', message: longId }] };
    // A refund that would put back more than the order sold is cut to what was sold (docs/orders.md).
    const guarded = await guardReturns(tx, ch.config.id, facts);
    facts = guarded.facts;
    const lines: LineToResolve[] = [];
    for (const f of facts) {
      if (f.type === 'sale') lines.push(...f.lines.map((l) => ({ ...l, sold: true })));
      else if (f.type === 'refund' || f.type === 'cancellation') lines.push(...f.lines);
      else if (f.type === 'level_observed') lines.push({ sku: f.sku, ref: f.ref, locationId: f.locationId });
    }
    const resolve = await resolveLines(tx, ch.config, lines);
    const touched = new Map<string, Touched>();
    const results: CommandResult[] = [];
    for (const p of planFacts(facts, { channelId: ch.config.id, channelName: ch.config.name, resolve })) {
      if (p.kind === 'command') {
        const r = await this.apply(tx, p.command, entry.id, touched);
        results.push(r);
        if (r.result === 'booked' && p.command.type === 'adjust' && r.location) results.push(...(await this.attributeBooked(tx, ch.config, p.command, r.location, entry.id, touched)));
      }
      else if (p.kind === 'unresolved') results.push({ sku: p.line.sku ?? '', result: 'unmatched', message: `${ch.config.name} reported ${p.what}. Map it (catalog discovery), then retry this event.` });
      else if (p.kind === 'not_booked') results.push({ sku: p.sku ?? '', result: 'unchanged', message: p.message });
      else if (p.sku && p.location) {
        results.push(await this.observeLevel(tx, ch.config, p.sku, p.location, p.available, p.occurredAt));
      } else {
        results.push({ sku: p.sku ?? '', result: 'unchanged', message: `${ch.config.name} reported a level for a listing that is not mapped to our catalog; ignored.` });
      }
    }
    // The transaction log: the order's money and states, linked to what was just booked.
    const logged = await recordOrderFacts(
      tx,
      { channelId: ch.config.id, channelName: ch.config.name, config: this.orderConfig().orders, eventId: entry.id, now: this.now(), booked: this.bookedBy.get(entry.id)! },
      facts,
      guarded.notes,
    );
    for (const n of logged.notes) {
      results.push({ sku: '', result: 'unchanged', message: n.message });
      if (n.flag) {
        await this.raiseAlert(tx, { kind: ORDER_FLAG_ALERT[n.flag] ?? 'order_flagged', severity: 'warning', sku: null, locationId: null, channelId: ch.config.id, message: n.message }, this.now());
      }
    }
    for (const e of logged.created) await this.announce(tx, 'order.recorded', { orderEventId: e.id, orderId: e.orderId }, this.now());
    await this.followUp(tx, touched, entry.id);
    return { status: statusOf(results), results };
  }

  private orderConfig(): Pick<HubConfig, 'orders' | 'purchaseOrders' | 'supplierOrders'> {
    return { orders: this.config.orders ?? DEFAULT_ORDERS.orders, purchaseOrders: this.config.purchaseOrders ?? DEFAULT_ORDERS.purchaseOrders, supplierOrders: this.config.supplierOrders ?? DEFAULT_ORDERS.supplierOrders };
  }

  private desk(tx: StoreOps, eventId: number, touched: Map<string, Touched>): Desk & SupplierDesk {
    const now = this.now();
    return {
      tx,
      now,
      eventId,
      config: { ...this.orderConfig(), defaultLocation: this.config.defaultLocation },
      book: (cmd) => this.apply(tx, cmd, eventId, touched),
      announce: (view: PurchaseOrderView) => this.fanOut(tx, 'purchase_order.changed', null, { purchaseOrder: view, at: now }, now),
      touch: (sku) => this.touchItem(tx, sku, touched),
    };
  }

  /** Purchase orders and supplier orders, from the API or the sheet (docs/orders.md). */
  private async handleOrderDesk(tx: StoreOps, entry: InboxEntry, relay?: Relay): Promise<Outcome> {
    const touched = new Map<string, Touched>();
    const desk = this.desk(tx, entry.id, touched);
    let results: CommandResult[];
    try {
      if (relay?.kind === 'purchase_order') {
        const input: PurchaseOrderInput = { ...relay, origin: relay.origin ?? 'sheet', submittedAt: relay.submittedAt };
        results = await submitPurchaseOrder(desk, input);
      } else if (relay?.kind === 'purchase_order_cancel') {
        results = await cancelPurchaseOrder(desk, { number: relay.number, reason: relay.reason, actor: relay.actor, origin: relay.origin ?? 'sheet' });
      } else {
        const body = JSON.parse(entry.body) as Record<string, unknown>;
        const origin = (body.origin as Source | undefined) ?? 'api';
        switch (entry.kind) {
          case 'purchase_order':
            results = await submitPurchaseOrder(desk, { ...(body as unknown as PurchaseOrderInput), origin });
            break;
          case 'purchase_order_cancel':
            results = await cancelPurchaseOrder(desk, { number: String(body.number), reason: body.reason as string | undefined, actor: body.actor as string | undefined, origin });
            break;
          case 'purchase_order_fulfil':
            results = await fulfilPurchaseOrder(desk, { number: String(body.number), actor: body.actor as string | undefined, origin });
            break;
          case 'supplier_order':
            results = await createSupplierOrder(desk, body as unknown as SupplierOrderInput);
            break;
          case 'supplier_receipt':
            results = await receiveSupplierOrder(desk, body as unknown as ReceiptInput, origin);
            break;
          default:
            results = await updateSupplierOrderStatus(desk, body as unknown as StatusInput);
        }
      }
    } catch (err) {
      if (err instanceof SyntaxError) return { status: 'rejected', results: [{ sku: '', result: 'rejected', message: `The request cannot be read: ${err.message}` }] };
      throw err;
    }
    await this.followUp(tx, touched, entry.id);
    return { status: statusOf(results), results };
  }

  /** A level the channel reports: compared with what we expect it to show (docs/attribution.md). */
  private async observeLevel(tx: StoreOps, ch: ChannelConfig, sku: string, location: string, available: number, platformAt: string | null): Promise<CommandResult> {
    const now = this.now();
    // A report equal to what a push whose answer never came would show is not taken for that push
    // here: it waits like any other, and the window's read decides (simulation seeds 306, 330, 489).
    const { verdict, state } = observe(stateOf(await tx.channelLevels.get(ch.id, sku, location)), available, platformAt, now);
    if (verdict !== 'stale') {
      await tx.channelLevels.update(ch.id, sku, location, { expected: state.expected, observed: state.observed, observedAt: now, observedPlatformAt: state.observedPlatformAt, pendingSince: state.pendingSince, pendingUp: state.pendingUp, pendingDown: state.pendingDown });
    }
    const message = {
      stale: `${ch.name} reported ${available}, older than a level it reported since; ignored.`,
      adopted: `${ch.name} shows ${available}; taken as its current level.`,
      explained: `${ch.name} shows ${available}, as expected (our own update, or a sale already booked); nothing to do.`,
      unexplained: `${ch.name} shows ${available} where ${state.expected} was expected; waiting up to ${Math.round((this.config.attributionWindowMs ?? 15_000) / 1000)} s for the order or refund that explains it before booking it as a change made on ${ch.name}.`,
    }[verdict];
    return { sku, location, result: 'unchanged', message };
  }

  /**
   * A sale or restock from a channel was booked: the channel changed its own count. If that change
   * was already booked as unexplained drift (the order came late), the movement is reversed so stock
   * moves once.
   */
  private async attributeBooked(tx: StoreOps, ch: ChannelConfig, cmd: Extract<BookingCommand, { type: 'adjust' }>, location: string, eventId: number, touched: Map<string, Touched>): Promise<CommandResult[]> {
    const record = await tx.channelLevels.get(ch.id, cmd.sku, location);
    if (!record) return [];
    const { reverse, state } = bookedOnChannel(stateOf(record), cmd.quantity, cmd.occurredAt);
    // A change already booked as drift moved expected then; a new one is counted for the pushes in flight.
    await tx.channelLevels.update(ch.id, cmd.sku, location, { expected: state.expected, pendingSince: state.pendingSince, pendingUp: state.pendingUp, pendingDown: state.pendingDown, driftDown: state.driftDown, driftUp: state.driftUp, ...(reverse ? {} : { bookedDelta: record.bookedDelta + cmd.quantity }) });
    if (!reverse) return [];
    const r = await this.apply(
      tx,
      {
        type: 'adjust',
        key: `reattributed:${cmd.key}`,
        sku: cmd.sku,
        location,
        quantity: -cmd.quantity,
        reason: 'adjustment',
        source: 'channel',
        actor: null,
        note: `Already counted: ${ch.name} reported this change of its stock before the order arrived, and it was booked then as a change made on ${ch.name}.`,
        occurredAt: cmd.occurredAt,
        channelId: ch.id,
        ...(cmd.externalRef ? { externalRef: cmd.externalRef } : {}),
      },
      eventId,
      touched,
    );
    return [r];
  }

  /** The attribution window of a discrepancy ended: confirm by reading the channel, then book or clear. */
  private async handleWindow(tx: StoreOps, entry: InboxEntry): Promise<Outcome> {
    const w = JSON.parse(entry.body) as WindowEvent;
    const ch = this.channels?.get(w.channelId);
    const record = await tx.channelLevels.get(w.channelId, w.sku, w.location);
    if (!ch || !record || record.pendingSince !== w.pendingSince) {
      return { status: 'processed', results: [{ sku: w.sku, location: w.location, result: 'unchanged', message: 'Explained before its window ended; nothing to book.' }] };
    }
    let read: number | null = null;
    let readNote = '';
    const listing = await tx.listings.forSku(ch.config.id, w.sku);
    const platformLocation = ownValue(ch.config.locations, w.location);
    if (listing && platformLocation !== undefined) {
      try {
        const ref = { productId: listing.productId, variantId: listing.variantId, ...(listing.inventoryItemId ? { inventoryItemId: listing.inventoryItemId } : {}) };
        const got = await ch.connector.read([{ sku: w.sku, ref, locationId: platformLocation }], AbortSignal.timeout(10_000));
        read = got.find((g) => g.sku === w.sku && g.locationId === platformLocation)?.available ?? null;
        if (read !== null && !isBoundedQuantity(read)) {
          readNote = ` (${ch.config.name} read back ${read}, beyond the ${MAX_QUANTITY_TEXT} units the hub keeps; the level it reported was used)`;
          read = null;
        }
      } catch (err) {
        readNote = ` (${ch.config.name} could not be read: ${(err as Error).message}; the level it reported was used)`;
      }
    }
    const now = this.now();
    // A push whose answer was lost (a crash, a timeout) and that landed: the channel shows our number.
    const landed = landedLevel(record);
    const actual = read ?? record.observed;
    if (landed !== null && actual === landed) {
      await tx.channelLevels.update(w.channelId, w.sku, w.location, { expected: landed, observed: actual, pendingSince: null, pendingUp: 0, pendingDown: 0, pushed: record.pushing, pushedAt: now, pushedWrote: true, pushing: null, pushingBookedDelta: null });
      return { status: 'processed', results: [{ sku: w.sku, location: w.location, result: 'unchanged', message: `${ch.config.name} shows ${actual}, the number we sent it (its answer never reached us); nothing to book.` }] };
    }
    const before = stateOf(record);
    // Still showing our last number means our update crossed sales made before it landed, unless the
    // channel changed on its own since (a count there plus a sale can come back to that number).
    // Only an absolute write can land over a sale: a compare-and-set that finds the channel moved is
    // refused, a delta composes with the sale, and a push that found our number already there wrote
    // nothing. Otherwise our number showing after sales were booked means something else raised it by
    // as much (a count typed there and a sale before our compare-and-set push: simulation seed 20205;
    // a late order of a sale the store's level already held when our push found it there: seed 21585),
    // and that change is booked.
    const canCross = ch.connector.capabilities.push.includes('absolute_set') && record.pushedWrote;
    const changedSincePush = !canCross || (record.pushedAt !== null && changedOnChannelSince(await tx.ledger.listMovements(w.sku, { limit: 50 }), w.channelId, w.location, record.pushedAt));
    const { book, repush, state } = windowEnded(before, read, now, changedSincePush ? null : record.pushed);
    await tx.channelLevels.update(w.channelId, w.sku, w.location, { expected: state.expected, observed: state.observed, pendingSince: state.pendingSince, pendingUp: state.pendingUp, pendingDown: state.pendingDown, driftDown: state.driftDown, driftUp: state.driftUp, driftThrough: state.driftThrough });
    if (repush) {
      const { item, level } = await tx.ledger.itemAt(w.sku, w.location);
      await tx.outbox.enqueueAll(this.pushesFor(await this.listedOn(tx, w.sku), w.sku, w.location, level ?? { onHand: 0, reserved: 0 }, item?.listingHold ?? null), now);
      return {
        status: 'processed',
        results: [{ sku: w.sku, location: w.location, result: 'unchanged', message: `${ch.config.name} still shows ${state.observed}, the number we last sent it, although sales were booked since (our update crossed one of them); our current number is sent again.` }],
      };
    }
    if (book === null) {
      return { status: 'processed', results: [{ sku: w.sku, location: w.location, result: 'unchanged', message: `${ch.config.name} shows ${state.observed ?? 'no level'}, as expected after all${readNote}; nothing to book.` }] };
    }
    const touched = new Map<string, Touched>();
    const r = await this.apply(
      tx,
      {
        type: 'adjust',
        key: `drift:${w.channelId}:${w.sku}:${w.location}:${w.pendingSince}`,
        sku: w.sku,
        location: w.location,
        quantity: book,
        reason: 'adjustment',
        source: 'channel',
        actor: null,
        note: `${ch.config.name} shows ${state.expected} where ${before.expected} was expected, and no order or refund explains it: booked as a change made on ${ch.config.name} (a count or an edit there)${readNote}.`,
        occurredAt: now,
        channelId: w.channelId,
      },
      entry.id,
      touched,
    );
    await this.followUp(tx, touched, entry.id);
    return { status: statusOf([r]), results: [r] };
  }

  private async apply(tx: StoreOps, command: BookingCommand, eventId: number, touched: Map<string, Touched>): Promise<CommandResult> {
    // A booking key is built from an id someone else chose (a webhook-id, an Idempotency-Key, a
    // platform's order and line ids) and the prefixes and suffixes booking adds: past the ledger's
    // 200 characters it is hashed (server/util.ts), so whatever a door accepted is booked once.
    const cmd: BookingCommand = 'key' in command ? { ...command, key: boundedKey(command.key) } : command;
    const now = this.now();
    if (cmd.type === 'add_item') {
      const before = await tx.items.get(cmd.sku);
      await tx.items.upsert({ sku: cmd.sku, title: cmd.title, lowStockThreshold: cmd.lowStockThreshold }, now);
      await this.touchItem(tx, cmd.sku, touched);
      return { sku: cmd.sku, result: 'updated', message: before?.status === 'archived' ? 'Item back in the catalog.' : before ? 'Item details updated.' : 'Item added to the catalog.' };
    }
    const item = await tx.items.get(cmd.sku);
    if (cmd.type === 'archive_item') {
      if (!item) return { sku: cmd.sku, result: 'unchanged', message: 'No such item in the catalog; nothing to remove.' };
      if (item.status === 'archived') return { sku: cmd.sku, result: 'unchanged', message: 'Item was already removed.' };
      await tx.items.archive(cmd.sku, now);
      for (const l of await tx.ledger.levelsFor([cmd.sku])) await tx.alerts.resolve(cmd.sku, l.locationId, STOCK_ALERT_KINDS, now);
      return { sku: cmd.sku, result: 'updated', message: 'Item removed from the catalog; its history is kept.' };
    }
    if (!item) {
      return { sku: cmd.sku, result: 'unmatched', message: `SKU "${cmd.sku}" is not in the catalog. Add it to the catalog, then retry this event.` };
    }
    if (item.status === 'archived') {
      return { sku: cmd.sku, result: 'rejected', message: `SKU "${cmd.sku}" was removed from the catalog on ${item.archivedAt ?? 'an earlier date'}; nothing was booked.` };
    }
    if (cmd.type === 'set_item') {
      // Setting what is already there changes nothing and writes nothing back (an Airtable automation
      // sends the title with every change of a record; its echo must end here).
      const same = (!('title' in cmd) || cmd.title === item.title) && (!('lowStockThreshold' in cmd) || cmd.lowStockThreshold === item.lowStockThreshold);
      if (same) return { sku: cmd.sku, result: 'unchanged', message: 'Item details were already so.' };
      await tx.items.upsert({ sku: cmd.sku, ...('title' in cmd ? { title: cmd.title } : {}), ...('lowStockThreshold' in cmd ? { lowStockThreshold: cmd.lowStockThreshold } : {}) }, now);
      await this.touchItem(tx, cmd.sku, touched);
      return { sku: cmd.sku, result: 'updated', message: 'Item details updated.' };
    }

    const location = cmd.location ?? this.config.defaultLocation;
    if (!(await tx.locations.get(location))) {
      return { sku: cmd.sku, location, result: 'unmatched', message: `Location "${location}" is not known to the hub. Declare it in the config file, then retry this event.` };
    }
    // A count is checked first: booked again, it must not become a conflict. Any other movement's
    // booking finds its own key already booked (one statement fewer on every sale).
    if (cmd.type === 'count') {
      const existing = await tx.ledger.movementByKey(cmd.key);
      if (existing) {
        this.bookedBy.get(eventId)?.set(existing.idempotencyKey, existing);
        return { sku: cmd.sku, location, result: 'duplicate', message: 'Already booked.', movementId: existing.id, quantity: existing.quantity };
      }
    }
    const fromChannel = cmd.type === 'adjust' && cmd.channelId ? { channelId: cmd.channelId, externalRef: cmd.externalRef ?? null } : {};
    const base = { sku: cmd.sku, locationId: location, source: cmd.source, idempotencyKey: cmd.key, occurredAt: cmd.occurredAt, actor: cmd.actor, note: cmd.note, eventId, ...fromChannel };
    try {
      let booked;
      if (cmd.type === 'count') {
        if (cmd.expectedOnHand !== null) {
          // An edit that was a conflict and has been decided since is not booked again (docs/conflicts.md).
          const decided = await tx.conflicts.byKey(cmd.key);
          if (decided && decided.status !== 'open') {
            return { sku: cmd.sku, location, result: 'unchanged', conflictId: decided.id, message: `This edit was conflict ${decided.id}, ${decided.status} since; nothing more to book.` };
          }
          const current = (await tx.ledger.getLevel(cmd.sku, location))?.onHand ?? 0;
          if (current !== cmd.expectedOnHand) {
            const { conflict } = await tx.conflicts.record(
              { key: cmd.key, eventId, sku: cmd.sku, locationId: location, sheetShowed: cmd.expectedOnHand, typed: cmd.counted, hubHad: current, source: cmd.source, actor: cmd.actor, editedAt: cmd.occurredAt },
              now,
            );
            return {
              sku: cmd.sku,
              location,
              result: 'conflict',
              conflictId: conflict.id,
              message: `The cell showed ${cmd.expectedOnHand} when it was changed to ${cmd.counted}, but the hub has ${current} on hand now (something sold or changed meanwhile). Nothing was overwritten: choose which number is right (conflict ${conflict.id}).`,
            };
          }
        }
        booked = await tx.ledger.bookCount({ ...base, counted: cmd.counted }, now);
      } else {
        booked = await tx.ledger.book({ ...base, quantity: cmd.quantity, reason: cmd.reason }, now);
      }
      // Stock that became available may serve a waiting purchase order (followUp); a sale cannot.
      const m = booked.movement;
      this.bookedBy.get(eventId)?.set(m.idempotencyKey, m);
      if (booked.duplicate) return { sku: cmd.sku, location, result: 'duplicate', message: 'Already booked.', movementId: m.id, quantity: m.quantity };
      const raised = !booked.duplicate && ((m.reason === 'release' && m.quantity < 0) || (m.reason !== 'reservation' && m.reason !== 'release' && m.quantity > 0));
      const key = `${cmd.sku}\u0000${location}`;
      touched.set(key, { sku: cmd.sku, location, raised: raised || (touched.get(key)?.raised ?? false) });
      if (!booked.duplicate) this.metrics.movements.inc({ reason: booked.movement.reason });
      return {
        sku: cmd.sku,
        location,
        result: booked.duplicate ? 'duplicate' : 'booked',
        message: cmd.type === 'count' ? `Counted ${cmd.counted}; booked ${booked.movement.quantity >= 0 ? '+' : ''}${booked.movement.quantity}.` : `Booked ${cmd.quantity >= 0 ? '+' : ''}${cmd.quantity}.`,
        movementId: booked.movement.id,
        quantity: booked.movement.quantity,
      };
    } catch (err) {
      if (err instanceof MovementError) return { sku: cmd.sku, location, result: 'rejected', message: err.message };
      throw err;
    }
  }

  /**
   * A sync request: books nothing; every item asked for is followed up as if it had changed, so its
   * current numbers go again to every channel (coalesced like any push) and to the write-backs.
   */
  private async resync(tx: StoreOps, cmd: Extract<Command, { type: 'resync' }>, touched: Map<string, Touched>): Promise<CommandResult[]> {
    const results: CommandResult[] = [];
    let items: { sku: string; status: string }[] = [];
    if (cmd.skus) {
      for (const sku of cmd.skus) {
        const item = await tx.items.get(sku);
        if (item) items.push(item);
        else results.push({ sku, result: 'unmatched', message: `SKU "${sku}" is not in the catalog; nothing to send.` });
      }
    } else {
      for (let cursor: string | undefined; ; ) {
        const page = await tx.items.list({ limit: 500, cursor, status: 'active' });
        items.push(...page);
        if (page.length < 500) break;
        cursor = page[page.length - 1]!.sku;
      }
    }
    items = items.filter((item) => {
      if (item.status === 'active') return true;
      results.push({ sku: item.sku, result: 'unchanged', message: `SKU "${item.sku}" was removed from the catalog; nothing to send.` });
      return false;
    });
    // Every location the item has stock records at; an item never counted anywhere, at the default location.
    for (const part of chunks(items, 500)) {
      const levels = await tx.ledger.levelsFor(part.map((i) => i.sku));
      for (const { sku } of part) {
        const locations = levels.filter((l) => l.sku === sku).map((l) => l.locationId);
        for (const location of locations.length > 0 ? locations : [this.config.defaultLocation]) touched.set(`${sku}\u0000${location}`, { sku, location });
      }
    }
    const where = 'to every channel and write-back';
    if (items.length > 0) results.push({ sku: cmd.skus && items.length === 1 ? items[0]!.sku : '', result: 'unchanged', message: `Current numbers of ${items.length} item${items.length === 1 ? '' : 's'} sent again ${where}.` });
    if (cmd.reconcile && this.reconcileRequested) {
      const run = this.reconcileRequested;
      // After this booking commits: a reconciliation reads the channels and books through the inbox itself.
      setImmediate(run);
      results.push({ sku: '', result: 'unchanged', message: 'Every channel will be read back and compared (reconciliation).' });
    }
    return results;
  }

  private async touchItem(tx: StoreOps, sku: string, touched: Map<string, Touched>): Promise<void> {
    for (const l of await tx.ledger.levelsFor([sku])) touched.set(`${sku}\u0000${l.locationId}`, { sku, location: l.locationId });
  }

  /** Alerts and outbox rows for every item × location whose numbers may have changed. */
  private async followUp(tx: StoreOps, touched: Map<string, Touched>, eventId: number): Promise<void> {
    const now = this.now();
    const raised = [...touched.values()].filter((t) => t.raised);
    if (raised.length > 0) {
      // Stock that came back serves the purchase orders waiting for it, first in, first out; the
      // reservations are booked as part of the same event.
      await reevaluate(this.desk(tx, eventId, touched), new Set(raised.map((t) => t.sku)));
    }
    const listings = new Map<string, Set<string>>();
    const pushes: OutboxInput[] = [];
    for (const { sku, location } of touched.values()) {
      const found = await tx.ledger.itemAt(sku, location);
      const level = found.level ?? { onHand: 0, reserved: 0 };
      const item = found.item;
      const threshold = item?.lowStockThreshold ?? this.config.defaultLowStockThreshold;
      const kind = stockAlertFor(level, threshold);
      await tx.alerts.resolve(sku, location, STOCK_ALERT_KINDS.filter((k) => k !== kind), now);
      if (kind) {
        const view = locationLevelView(location, level, []);
        let message = ALERT_TEXT[kind].text(sku, location, view.available);
        if (kind === 'oversold') message += await this.ordersInvolved(tx, sku, location);
        await this.raiseAlert(tx, { kind, severity: ALERT_TEXT[kind].severity, sku, locationId: location, message }, now);
      }
      const view = locationLevelView(location, level, this.config.channels);
      await this.fanOut(tx, 'level.changed', `level:${sku}:${location}`, { sku, ...view, at: now }, now);
      if (!listings.has(sku)) listings.set(sku, await this.listedOn(tx, sku));
      pushes.push(...this.pushesFor(listings.get(sku)!, sku, location, level, item?.listingHold ?? null));
    }
    await tx.outbox.enqueueAll(pushes, now);
  }

  /** For an oversold alert: the latest sales of the item at that location, with their channel and order. */
  private async ordersInvolved(tx: StoreOps, sku: string, location: string): Promise<string> {
    const recent = (await tx.ledger.listMovements(sku, { limit: 20 })).filter((m) => m.locationId === location && m.reason === 'sale').slice(0, 5);
    if (recent.length === 0) return '';
    const names = new Map(this.config.channels.map((c) => [c.id, c.name]));
    const list = recent.map((m) => `${m.externalRef ? `order ${m.externalRef}` : `movement ${m.id}`} (${m.channelId ? (names.get(m.channelId) ?? m.channelId) : m.source}, ${-m.quantity} at ${m.occurredAt})`);
    return ` Latest sales: ${list.join('; ')}.`;
  }

  /**
   * Queues a push of the current published level of every listed item, on every channel, at every
   * mapped location: after catalog discovery, or when a channel may have drifted.
   */
  async resyncChannels(): Promise<number> {
    let queued = 0;
    for (const ch of this.channels?.all() ?? []) {
      const listings = await this.store.listings.list(ch.config.id);
      for (let i = 0; i < listings.length; i += 200) {
        const slice = listings.slice(i, i + 200);
        await this.store.transaction(async (tx) => {
          const levels = await tx.ledger.levelsFor(slice.map((l) => l.sku));
          const pushes: OutboxInput[] = [];
          for (const listing of slice) {
            const hold = (await tx.items.get(listing.sku))?.listingHold ?? null;
            for (const location of Object.keys(ch.config.locations)) {
              const level = levels.find((l) => l.sku === listing.sku && l.locationId === location) ?? { onHand: 0, reserved: 0 };
              const published = publishedLevel(level, { buffer: ch.config.buffer, cap: ch.config.cap });
              pushes.push({ sink: `channel:${ch.config.id}`, topic: 'level.push', coalesceKey: `push:${ch.config.id}:${listing.sku}:${location}`, payload: { sku: listing.sku, location, level: published, ...(hold ? { hold } : {}) } });
            }
          }
          await tx.outbox.enqueueAll(pushes, this.now());
          queued += pushes.length;
        });
      }
    }
    return queued;
  }

  /** The channels that list the item. */
  private async listedOn(tx: StoreOps, sku: string): Promise<Set<string>> {
    return new Set((await tx.listings.allForSku(sku)).map((l) => l.channelId));
  }

  /** One `level.push` per connected channel that lists the item (`listedOn`) at this location, coalesced per item and location. */
  private pushesFor(listedOn: Set<string>, sku: string, location: string, level: { onHand: number; reserved: number }, hold: 'hide' | 'keep_listed' | null): OutboxInput[] {
    const out: OutboxInput[] = [];
    for (const ch of this.channels?.all() ?? []) {
      if (!Object.hasOwn(ch.config.locations, location) || !listedOn.has(ch.config.id)) continue;
      const published = publishedLevel(level, { buffer: ch.config.buffer, cap: ch.config.cap });
      // `hold`: a late supplier order decides what the listing does at zero (docs/orders.md).
      out.push({ sink: `channel:${ch.config.id}`, topic: 'level.push', coalesceKey: `push:${ch.config.id}:${sku}:${location}`, payload: { sku, location, level: published, ...(hold ? { hold } : {}) } });
    }
    return out;
  }

  /** Tells the observers (sheet, Airtable) only; not a notification topic. */
  private async announce(tx: StoreOps, topic: AnnouncedTopic, payload: unknown, now: string): Promise<void> {
    for (const o of this.observers) await o.announced(tx, topic, payload, now);
  }

  /** Every alert the processor opens: to the sheet, Airtable and the `alert.raised` subscribers at once (server/alerts.ts). */
  private raiseAlert(tx: StoreOps, input: AlertInput, now: string): Promise<unknown> {
    this.alerts ??= new Alerts(this.config.notify);
    return this.alerts.raise(tx, input, now);
  }

  private async fanOut(tx: StoreOps, topic: 'level.changed' | 'purchase_order.changed', coalesceKey: string | null, payload: unknown, now: string): Promise<void> {
    for (const o of this.observers) await o.announced(tx, topic, payload, now);
    for (const sink of this.config.notify) {
      if (!sink.topics.includes(topic)) continue;
      await tx.outbox.enqueue({ sink: `notify:${sink.id}`, topic, coalesceKey: coalesceKey ? `${coalesceKey}:${sink.id}` : null, payload }, now);
    }
  }
}
