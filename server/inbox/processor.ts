/**
 * Inbox → ledger + outbox, one transaction per event (docs/inbox-outbox.md).
 */
import type { HubConfig } from '../config';
import { MovementError, stockAlertFor, type StockAlertKind } from '../domain/ledger';
import { RelayInputError, planRelay, type Command, type Relay } from '../domain/relay';
import { locationLevelView } from '../domain/views';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { InboxEntry, InboxStatus, Store, StoreOps } from '../store/types';
import { planFacts } from '../channels/plan';
import { resolveLines, type ChannelRegistry } from '../channels/registry';
import { ConnectorError, TranslateError, type FactLine } from '../connectors/types';
import { publishedLevel } from '../domain/ledger';

export type CommandResult = {
  sku: string;
  location?: string;
  result: 'booked' | 'duplicate' | 'updated' | 'unchanged' | 'unmatched' | 'rejected' | 'conflict';
  message: string;
  movementId?: number;
  quantity?: number;
};

export interface Outcome {
  status: InboxStatus;
  results: CommandResult[];
}

type ProcessorConfig = Pick<HubConfig, 'defaultLocation' | 'channels' | 'notify' | 'defaultLowStockThreshold'>;

const ALERT_TEXT: Record<StockAlertKind, { severity: 'warning' | 'critical'; text: (sku: string, loc: string, available: number) => string }> = {
  oversold: { severity: 'critical', text: (s, l, a) => `${s} is oversold at ${l}: ${-a} more sold or reserved than on hand.` },
  out_of_stock: { severity: 'warning', text: (s, l) => `${s} is out of stock at ${l}.` },
  low_stock: { severity: 'warning', text: (s, l, a) => `${s} is running low at ${l}: ${a} available.` },
};
const STOCK_ALERT_KINDS: StockAlertKind[] = ['oversold', 'out_of_stock', 'low_stock'];

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

  constructor(
    private readonly store: Store,
    private readonly config: ProcessorConfig,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly clock: () => Date = () => new Date(),
    private readonly idleMs = 1000,
    private readonly channels: ChannelRegistry | null = null,
  ) {}

  /** Processes the oldest waiting entry; false when there was none. */
  async processNext(): Promise<boolean> {
    let claimedId: number | null = null;
    try {
      const done = await this.store.transaction(async (tx) => {
        const entry = await tx.claimInbox();
        if (!entry) return null;
        claimedId = entry.id;
        const outcome = await this.handle(tx, entry);
        await tx.finishInbox(entry.id, outcome.status, outcome, this.now());
        return { entry, outcome };
      });
      if (!done) return false;
      this.errors.delete(done.entry.id);
      this.metrics.inboxProcessed.inc({ status: done.outcome.status });
      this.emit(done.entry.id);
      const level = done.outcome.status === 'processed' ? 'debug' : 'info';
      this.log[level]({ event: done.entry.id, kind: done.entry.kind, status: done.outcome.status, results: done.outcome.results }, 'inbound event processed');
      return true;
    } catch (err) {
      if (claimedId === null) throw err;
      const n = (this.errors.get(claimedId) ?? 0) + 1;
      this.errors.set(claimedId, n);
      this.log.error({ err, event: claimedId, tries: n }, 'processing an inbound event failed');
      if (n >= 5) {
        this.errors.delete(claimedId);
        await this.store.finishInbox(claimedId, 'failed', { status: 'failed', error: (err as Error).message, results: [] }, this.now());
        this.metrics.inboxProcessed.inc({ status: 'failed' });
        this.emit(claimedId);
      } else {
        // Give a platform or database that stumbled a moment before the same entry is tried again.
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** (n - 1))));
      }
      return true;
    }
  }

  /** Calls `fn` with the id of every event this processor finishes; returns a function to stop listening. */
  onProcessed(fn: (eventId: number) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(eventId: number): void {
    for (const fn of this.listeners) fn(eventId);
  }

  /** Processes everything waiting now; returns how many entries were handled. */
  async drain(): Promise<number> {
    let n = 0;
    while (await this.processNext()) n++;
    return n;
  }

  /** Tells a running processor that new work arrived. */
  notify(): void {
    this.pendingWake = true;
    this.wake?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        this.pendingWake = false;
        try {
          const worked = await this.processNext();
          if (worked) continue;
        } catch (err) {
          this.log.error({ err }, 'inbox processor cannot reach the store; retrying');
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
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  private now(): string {
    return this.clock().toISOString();
  }

  private async handle(tx: StoreOps, entry: InboxEntry): Promise<Outcome> {
    if (entry.source === 'channel') return this.handleChannel(tx, entry);
    let commands: Command[];
    try {
      const relay = JSON.parse(entry.body) as Relay;
      commands = planRelay(relay, entry.dedupeKey, entry.source === 'api' ? 'api' : undefined);
    } catch (err) {
      const message = err instanceof RelayInputError ? err.message : `The event cannot be read: ${(err as Error).message}`;
      return { status: 'rejected', results: [{ sku: '', result: 'rejected', message }] };
    }
    const touched = new Map<string, { sku: string; location: string }>();
    const results: CommandResult[] = [];
    for (const cmd of commands) {
      results.push(await this.apply(tx, cmd, entry.id, touched));
    }
    await this.followUp(tx, touched);
    return { status: statusOf(results), results };
  }

  /** A verified channel webhook: translate, resolve to our SKUs and locations, book. */
  private async handleChannel(tx: StoreOps, entry: InboxEntry): Promise<Outcome> {
    const channelId = entry.headers['x-stockrelay-channel'] ?? '';
    const ch = this.channels?.get(channelId);
    if (!ch) return { status: 'rejected', results: [{ sku: '', result: 'rejected', message: `Channel "${channelId}" is no longer configured; nothing was booked.` }] };
    let facts;
    try {
      let body = JSON.parse(entry.body) as unknown;
      if (ch.connector.expand) body = await ch.connector.expand(entry.kind, body, AbortSignal.timeout(10_000));
      facts = ch.connector.translate(entry.kind, body, entry.headers);
    } catch (err) {
      // The platform did not answer while fetching what a thin event leaves out: try again later.
      if (err instanceof ConnectorError) throw err;
      const why = err instanceof TranslateError || err instanceof SyntaxError ? err.message : `unexpected: ${(err as Error).message}`;
      return { status: 'rejected', results: [{ sku: '', result: 'rejected', message: `The ${ch.config.name} event "${entry.kind}" cannot be read: ${why}` }] };
    }
    const lines: Pick<FactLine, 'sku' | 'ref' | 'locationId'>[] = [];
    for (const f of facts) {
      if (f.type === 'sale' || f.type === 'refund' || f.type === 'cancellation') lines.push(...f.lines);
      else if (f.type === 'level_observed') lines.push({ sku: f.sku, ref: f.ref, locationId: f.locationId });
    }
    const resolve = await resolveLines(tx, ch.config, lines);
    const touched = new Map<string, { sku: string; location: string }>();
    const results: CommandResult[] = [];
    for (const p of planFacts(facts, { channelId: ch.config.id, channelName: ch.config.name, resolve })) {
      if (p.kind === 'command') results.push(await this.apply(tx, p.command, entry.id, touched));
      else if (p.kind === 'unresolved') results.push({ sku: p.line.sku ?? '', result: 'unmatched', message: `${ch.config.name} reported ${p.what}. Map it (catalog discovery), then retry this event.` });
      else if (p.kind === 'not_booked') results.push({ sku: p.sku ?? '', result: 'unchanged', message: p.message });
      else if (p.sku && p.location) {
        await tx.recordChannelLevel(ch.config.id, p.sku, p.location, 'observed', p.available, this.now());
        results.push({ sku: p.sku, location: p.location, result: 'unchanged', message: `${ch.config.name} shows ${p.available}; recorded, not booked (levels a channel reports are compared, not booked).` });
      } else {
        results.push({ sku: p.sku ?? '', result: 'unchanged', message: `${ch.config.name} reported a level for a listing that is not mapped to our catalog; ignored.` });
      }
    }
    await this.followUp(tx, touched);
    return { status: statusOf(results), results };
  }

  private async apply(tx: StoreOps, cmd: Command, eventId: number, touched: Map<string, { sku: string; location: string }>): Promise<CommandResult> {
    const now = this.now();
    if (cmd.type === 'add_item') {
      const before = await tx.getItem(cmd.sku);
      await tx.upsertItem({ sku: cmd.sku, title: cmd.title, lowStockThreshold: cmd.lowStockThreshold }, now);
      await this.touchItem(tx, cmd.sku, touched);
      return { sku: cmd.sku, result: 'updated', message: before?.status === 'archived' ? 'Item back in the catalog.' : before ? 'Item details updated.' : 'Item added to the catalog.' };
    }
    const item = await tx.getItem(cmd.sku);
    if (cmd.type === 'archive_item') {
      if (!item) return { sku: cmd.sku, result: 'unchanged', message: 'No such item in the catalog; nothing to remove.' };
      if (item.status === 'archived') return { sku: cmd.sku, result: 'unchanged', message: 'Item was already removed.' };
      await tx.archiveItem(cmd.sku, now);
      for (const l of await tx.levelsFor([cmd.sku])) await tx.resolveAlerts(cmd.sku, l.locationId, STOCK_ALERT_KINDS, now);
      return { sku: cmd.sku, result: 'updated', message: 'Item removed from the catalog; its history is kept.' };
    }
    if (!item) {
      return { sku: cmd.sku, result: 'unmatched', message: `SKU "${cmd.sku}" is not in the catalog. Add it to the catalog, then retry this event.` };
    }
    if (item.status === 'archived') {
      return { sku: cmd.sku, result: 'rejected', message: `SKU "${cmd.sku}" was removed from the catalog on ${item.archivedAt ?? 'an earlier date'}; nothing was booked.` };
    }
    if (cmd.type === 'set_item') {
      await tx.upsertItem({ sku: cmd.sku, ...('title' in cmd ? { title: cmd.title } : {}), ...('lowStockThreshold' in cmd ? { lowStockThreshold: cmd.lowStockThreshold } : {}) }, now);
      await this.touchItem(tx, cmd.sku, touched);
      return { sku: cmd.sku, result: 'updated', message: 'Item details updated.' };
    }

    const location = cmd.location ?? this.config.defaultLocation;
    if (!(await tx.getLocation(location))) {
      return { sku: cmd.sku, location, result: 'unmatched', message: `Location "${location}" is not known to the hub. Declare it in the config file, then retry this event.` };
    }
    const existing = await tx.movementByKey(cmd.key);
    if (existing) {
      return { sku: cmd.sku, location, result: 'duplicate', message: 'Already booked.', movementId: existing.id, quantity: existing.quantity };
    }
    const fromChannel = cmd.type === 'adjust' && cmd.channelId ? { channelId: cmd.channelId, externalRef: cmd.externalRef ?? null } : {};
    const base = { sku: cmd.sku, locationId: location, source: cmd.source, idempotencyKey: cmd.key, occurredAt: cmd.occurredAt, actor: cmd.actor, note: cmd.note, eventId, ...fromChannel };
    try {
      let booked;
      if (cmd.type === 'count') {
        if (cmd.expectedOnHand !== null) {
          const current = (await tx.getLevel(cmd.sku, location))?.onHand ?? 0;
          if (current !== cmd.expectedOnHand) {
            return {
              sku: cmd.sku,
              location,
              result: 'conflict',
              message: `The cell showed ${cmd.expectedOnHand} when it was changed to ${cmd.counted}, but the hub has ${current} on hand now (something sold or changed meanwhile). Nothing was overwritten: choose which number is right.`,
            };
          }
        }
        booked = await tx.bookCount({ ...base, counted: cmd.counted }, now);
      } else {
        booked = await tx.book({ ...base, quantity: cmd.quantity, reason: cmd.reason }, now);
      }
      touched.set(`${cmd.sku}\u0000${location}`, { sku: cmd.sku, location });
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

  private async touchItem(tx: StoreOps, sku: string, touched: Map<string, { sku: string; location: string }>): Promise<void> {
    for (const l of await tx.levelsFor([sku])) touched.set(`${sku}\u0000${l.locationId}`, { sku, location: l.locationId });
  }

  /** Alerts and outbox rows for every item × location whose numbers may have changed. */
  private async followUp(tx: StoreOps, touched: Map<string, { sku: string; location: string }>): Promise<void> {
    const now = this.now();
    for (const { sku, location } of touched.values()) {
      const level = (await tx.getLevel(sku, location)) ?? { onHand: 0, reserved: 0 };
      const item = await tx.getItem(sku);
      const threshold = item?.lowStockThreshold ?? this.config.defaultLowStockThreshold;
      const kind = stockAlertFor(level, threshold);
      await tx.resolveAlerts(sku, location, STOCK_ALERT_KINDS.filter((k) => k !== kind), now);
      if (kind) {
        const view = locationLevelView(location, level, []);
        const opened = await tx.openAlert({ kind, severity: ALERT_TEXT[kind].severity, sku, locationId: location, message: ALERT_TEXT[kind].text(sku, location, view.available) }, now);
        if (opened) await this.fanOut(tx, 'alert.raised', null, { alert: opened }, now);
      }
      const view = locationLevelView(location, level, this.config.channels);
      await this.fanOut(tx, 'level.changed', `level:${sku}:${location}`, { sku, ...view, at: now }, now);
      await this.pushToChannels(tx, sku, location, level, now);
    }
  }

  /**
   * Queues a push of the current published level of every listed item, on every channel, at every
   * mapped location: after catalog discovery, or when a channel may have drifted.
   */
  async resyncChannels(): Promise<number> {
    let queued = 0;
    for (const ch of this.channels?.all() ?? []) {
      const listings = await this.store.listListings(ch.config.id);
      for (let i = 0; i < listings.length; i += 200) {
        const slice = listings.slice(i, i + 200);
        await this.store.transaction(async (tx) => {
          const levels = await tx.levelsFor(slice.map((l) => l.sku));
          for (const listing of slice) {
            for (const location of Object.keys(ch.config.locations)) {
              const level = levels.find((l) => l.sku === listing.sku && l.locationId === location) ?? { onHand: 0, reserved: 0 };
              const published = publishedLevel(level, { buffer: ch.config.buffer, cap: ch.config.cap });
              await tx.enqueue({ sink: `channel:${ch.config.id}`, topic: 'level.push', coalesceKey: `push:${ch.config.id}:${listing.sku}:${location}`, payload: { sku: listing.sku, location, level: published } }, this.now());
              queued++;
            }
          }
        });
      }
    }
    return queued;
  }

  /** One `level.push` per connected channel that lists the item at this location, coalesced per item and location. */
  private async pushToChannels(tx: StoreOps, sku: string, location: string, level: { onHand: number; reserved: number }, now: string): Promise<void> {
    for (const ch of this.channels?.all() ?? []) {
      if (ch.config.locations[location] === undefined) continue;
      if (!(await tx.listingForSku(ch.config.id, sku))) continue;
      const published = publishedLevel(level, { buffer: ch.config.buffer, cap: ch.config.cap });
      await tx.enqueue({ sink: `channel:${ch.config.id}`, topic: 'level.push', coalesceKey: `push:${ch.config.id}:${sku}:${location}`, payload: { sku, location, level: published } }, now);
    }
  }

  private async fanOut(tx: StoreOps, topic: 'level.changed' | 'alert.raised', coalesceKey: string | null, payload: unknown, now: string): Promise<void> {
    for (const sink of this.config.notify) {
      if (!sink.topics.includes(topic)) continue;
      await tx.enqueue({ sink: `notify:${sink.id}`, topic, coalesceKey: coalesceKey ? `${coalesceKey}:${sink.id}` : null, payload }, now);
    }
  }
}
