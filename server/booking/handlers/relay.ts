/**
 * A relay: an edit from the sheet, Airtable or the API (counts, adjustments, catalog changes, a sync
 * request), planned into booking commands (server/core/relay.ts) and booked one by one.
 */
import { rejected, statusOf, type CommandResult, type Outcome } from '../../core/booking';
import { RelayInputError, planRelay, type Command } from '../../core/relay';
import { isPurchaseOrderRelay, type Relay } from '../../shared/relay';
import type { InboxEntry } from '../../store/types';
import { chunks } from '../../util';
import { applyCommand } from '../apply';
import type { BookingContext } from '../context';
import { followUp } from '../follow-up';
import { bookOrderDesk } from './order-desk';

export async function bookRelay(ctx: BookingContext, entry: InboxEntry): Promise<Outcome> {
  let commands: Command[];
  try {
    const relay = JSON.parse(entry.body) as Relay;
    // A purchase order typed in the sheet goes to the order desk.
    if (isPurchaseOrderRelay(relay)) return bookOrderDesk(ctx, entry, relay);
    commands = planRelay(relay, entry.dedupeKey, entry.source === 'api' ? 'api' : undefined);
  } catch (err) {
    return rejected(err instanceof RelayInputError ? err.message : `The event cannot be read: ${(err as Error).message}`);
  }
  const results: CommandResult[] = [];
  for (const cmd of commands) {
    if (cmd.type === 'resync') results.push(...(await resync(ctx, cmd)));
    else results.push(await applyCommand(ctx, cmd));
  }
  await followUp(ctx);
  return { status: statusOf(results), results };
}

/**
 * A sync request: books nothing; every item asked for is followed up as if it had changed, so its
 * current numbers go again to every channel (coalesced like any push) and to the write-backs.
 */
async function resync(ctx: BookingContext, cmd: Extract<Command, { type: 'resync' }>): Promise<CommandResult[]> {
  const { tx, deps } = ctx;
  const results: CommandResult[] = [];
  const items = (await itemsAskedFor(ctx, cmd.skus, results)).filter((item) => {
    if (item.status === 'active') return true;
    results.push({ sku: item.sku, result: 'unchanged', message: `SKU "${item.sku}" was removed from the catalog; nothing to send.` });
    return false;
  });
  // Every location the item has stock records at; an item never counted anywhere, at the default location.
  for (const part of chunks(items, 500)) {
    const levels = await tx.ledger.levelsFor(part.map((i) => i.sku));
    for (const { sku } of part) {
      const locations = levels.filter((l) => l.sku === sku).map((l) => l.locationId);
      for (const location of locations.length > 0 ? locations : [deps.config.defaultLocation]) ctx.touched.set(`${sku}\u0000${location}`, { sku, location });
    }
  }
  const where = 'to every channel and write-back';
  if (items.length > 0) results.push({ sku: cmd.skus && items.length === 1 ? items[0]!.sku : '', result: 'unchanged', message: `Current numbers of ${items.length} item${items.length === 1 ? '' : 's'} sent again ${where}.` });
  if (cmd.reconcile && deps.reconcileRequested) {
    const run = deps.reconcileRequested;
    // After this booking commits: a reconciliation reads the channels and books through the inbox itself.
    setImmediate(run);
    results.push({ sku: '', result: 'unchanged', message: 'Every channel will be read back and compared (reconciliation).' });
  }
  return results;
}

/** The items a sync request names (an unknown SKU is reported in `results`), or every active item. */
async function itemsAskedFor(ctx: BookingContext, skus: string[] | null | undefined, results: CommandResult[]): Promise<{ sku: string; status: string }[]> {
  const items: { sku: string; status: string }[] = [];
  if (skus) {
    for (const sku of skus) {
      const item = await ctx.tx.items.get(sku);
      if (item) items.push(item);
      else results.push({ sku, result: 'unmatched', message: `SKU "${sku}" is not in the catalog; nothing to send.` });
    }
    return items;
  }
  for (let cursor: string | undefined; ; ) {
    const page = await ctx.tx.items.list({ limit: 500, cursor, status: 'active' });
    items.push(...page);
    if (page.length < 500) return items;
    cursor = page[page.length - 1]!.sku;
  }
}
