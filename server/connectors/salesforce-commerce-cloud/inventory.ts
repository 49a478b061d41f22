/**
 * Stock through Omnichannel Inventory (OCI), the inventory of B2C Commerce sites that use it:
 * - read: `POST …/availability-records/actions/get-availability` with up to 100 SKUs and one
 *   location a request; the level the hub compares is available to fulfil (`atf`: on hand less
 *   reservations and safety stock), what the storefront can still sell from that location;
 * - push: OCI takes absolute on-hand figures only (`…/actions/batch-update`, up to 100 records,
 *   partial success), so a push is an absolute set narrowed on both sides, as for WooCommerce: a
 *   read first (a level that moved since the hub saw it is answered `stale`, nothing written), the
 *   write of on-hand = level + reserved + safety stock (so that available to fulfil becomes the
 *   level while the storefront's open reservations stay), then a read back (a sale landing in
 *   between is reported `stale`). Each record carries `effectiveDate` (now: OCI orders updates by
 *   it) and an `actionRequestId` derived from the hub's idempotency key, the SKU, the location and
 *   the figure, so a retried write is applied once and a different figure is a different request.
 * - the same available figure is not always the same stock: a sale (reserved + 1) and a return put
 *   back on the shelf (on hand + 1) leave `atf` where it was, and a write checked on `atf` alone
 *   would wipe out the return before the hub heard of it (simulation seeds 29 and 190 with
 *   shopify,salesforce-commerce-cloud). Each record the hub learns of change by change (a delta of
 *   the `levels` feed, a level a push found moved, our write read back) carries its basis, on hand
 *   and reserved (`oci:<onHand>/<reserved>`), which the hub keeps and hands back with the next push.
 *   A read, or a push that found the level it expected, gives none: a figure equal to the hub's says
 *   nothing of what cancelled out behind it. While the record has moved since that basis (`atf` off
 *   what the hub expects, or on hand moved other than by a shipment, on hand and reserved falling
 *   together), the push answers `stale` with `untilFeed: levels`, writes nothing and hands over no
 *   level (one figure would fold a return and a sale into their difference: seed 176); the hub
 *   tries again when that feed is next due, by which time it has reported each change. Without a
 *   basis (a record the hub never learnt of that way) the write is checked on `atf` alone.
 * The OCI SKU is the B2C Commerce product id (ListingRef.variantId; productId for a plain item).
 */
import { type LevelReading, type ListingRef, type PushOutcome, type PushTarget } from '../types';
import { chunks, requestKey } from '../../util';
import { PLATFORM, type SfccClient } from './client';
import { basisOf, isObj, onHandMoved, readBasis, readOciRecord, skuOf, unreadable, type OciLevel } from './oci-records';

export { basisOf, onHandMoved, readBasis, readOciRecord, skuOf, type OciLevel };

/** Most records one OCI batch update takes, and SKUs one availability request asks for (README.md, "Not confirmed" for the first). */
export const MAX_BATCH = 100;

export class OciInventory {
  constructor(private readonly client: SfccClient) {}

  /** OCI's records of these SKUs at one location; a SKU OCI has no record of is absent. */
  async levels(location: string, skus: string[], signal?: AbortSignal): Promise<Map<string, OciLevel>> {
    const out = new Map<string, OciLevel>();
    for (const part of chunks([...new Set(skus)], MAX_BATCH)) {
      const answer = await this.client.call('POST', this.client.url('oci', 'availability-records/actions/get-availability'), 'read stock levels', { skus: part, locations: [location] }, signal);
      if (!Array.isArray(answer.locations)) throw unreadable('the answer has no locations list');
      const asked = new Set(part);
      for (const [i, loc] of answer.locations.entries()) {
        if (!isObj(loc) || !Array.isArray(loc.records)) throw unreadable(`locations[${i}] has no records list`);
        if (loc.id !== location) throw unreadable(`it answered for location ${String(loc.id)}, which was not asked for`);
        for (const [j, raw] of loc.records.entries()) {
          const { sku, level } = readOciRecord(raw, `locations[${i}].records[${j}]`);
          if (!asked.has(sku)) throw unreadable(`it answered for SKU ${sku}, which was not asked for`);
          out.set(sku, level);
        }
      }
    }
    return out;
  }

  async read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]> {
    const byLocation = new Map<string, { item: (typeof items)[number]; sku: string }[]>();
    for (const item of items) {
      const sku = skuOf(item.ref);
      if (sku) byLocation.set(item.locationId, [...(byLocation.get(item.locationId) ?? []), { item, sku }]);
    }
    const out: LevelReading[] = [];
    for (const [location, list] of byLocation) {
      const levels = await this.levels(location, list.map((l) => l.sku), signal);
      for (const { item, sku } of list) {
        const l = levels.get(sku);
        if (l) out.push({ sku: item.sku, ref: item.ref, locationId: location, available: l.atf });
      }
    }
    return out;
  }

  async push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]> {
    const outcomes: (PushOutcome | undefined)[] = new Array(targets.length);
    const byLocation = new Map<string, { index: number; target: PushTarget; sku: string }[]>();
    targets.forEach((target, index) => {
      const sku = skuOf(target.ref);
      const fail = (message: string) => (outcomes[index] = { sku: target.sku, locationId: target.locationId, status: 'failed', message });
      if (!sku) fail('This listing has no B2C Commerce product id; run catalog discovery again.');
      else if (!Number.isInteger(target.level) || target.level < 0) fail(`Omnichannel Inventory needs a whole, non-negative level (got ${target.level}).`);
      else if (target.locationId.trim() === '') fail('This channel location is not mapped to an Omnichannel Inventory location id.');
      else byLocation.set(target.locationId, [...(byLocation.get(target.locationId) ?? []), { index, target, sku }]);
    });
    for (const [location, list] of byLocation) for (const part of chunks(list, MAX_BATCH)) await this.pushPart(location, part, outcomes, signal);
    return outcomes.map((o, i) => o ?? { sku: targets[i]!.sku, locationId: targets[i]!.locationId, status: 'failed', message: `${PLATFORM} gave no answer for this record.` });
  }

  private async pushPart(location: string, part: { index: number; target: PushTarget; sku: string }[], outcomes: (PushOutcome | undefined)[], signal?: AbortSignal): Promise<void> {
    const before = await this.levels(location, part.map((p) => p.sku), signal);
    const write: { p: (typeof part)[number]; onHand: number; id: string }[] = [];
    for (const p of part) {
      const { sku, locationId, level, expected } = p.target;
      const now = before.get(p.sku) ?? null;
      const basis = readBasis(p.target.basis);
      // The record moved since the hub last learnt of it (ATF off what it expects, or on hand moved
      // behind an unchanged ATF): nothing is written, and the level found is not handed over either
      // (one figure would fold a return and a sale into their difference, seed 176); the levels feed
      // reports each change as it came, and the push goes again when that feed is next due.
      if (now && expected !== null && basis && (now.atf !== expected || onHandMoved(basis, now))) outcomes[p.index] = { sku, locationId, status: 'stale', observed: null, untilFeed: 'levels' };
      else if (now && now.atf === level && (expected === null || now.atf === expected)) outcomes[p.index] = { sku, locationId, status: 'applied', level, wrote: false };
      else if (now && expected !== null && now.atf !== expected) outcomes[p.index] = { sku, locationId, status: 'stale', observed: now.atf, basis: basisOf(now) };
      else {
        const onHand = level + (now?.reserved ?? 0) + (now?.safetyStockCount ?? 0);
        write.push({ p, onHand, id: requestKey(['stockrelay-oci', p.target.idempotencyKey, p.sku, location, onHand]) });
      }
    }
    if (write.length === 0) return;
    const effectiveDate = this.client.clock().toISOString();
    const body = { records: write.map((w) => ({ actionRequestId: w.id, stockKeepingUnit: w.p.sku, locationIdentifier: location, onHand: w.onHand, effectiveDate })) };
    const answer = await this.client.call('POST', this.client.url('oci', 'availability-records/actions/batch-update'), `set the stock of ${write.length} SKU(s) at ${location}`, body, signal);
    if (!Array.isArray(answer.records) || (answer.errors !== undefined && !Array.isArray(answer.errors))) throw unreadable('the batch update answer has no records list');
    const done = new Set(answer.records.filter(isObj).map((r) => r.actionRequestId));
    const refused = new Map((Array.isArray(answer.errors) ? answer.errors : []).filter(isObj).map((e) => [e.actionRequestId, e]));
    const written: typeof part = [];
    for (const w of write) {
      const { sku, locationId } = w.p.target;
      const err = refused.get(w.id);
      if (err) outcomes[w.p.index] = { sku, locationId, status: 'failed', message: `Omnichannel Inventory refused the update: ${[err.errorCode, err.message].filter((s) => typeof s === 'string').join(': ') || 'no reason given'}.` };
      else if (done.has(w.id)) written.push(w.p);
      else outcomes[w.p.index] = { sku, locationId, status: 'failed', message: `${PLATFORM} gave no answer for this record in the batch.` };
    }
    if (written.length === 0) return;
    const after = await this.levels(location, written.map((p) => p.sku), signal);
    for (const p of written) {
      const record = after.get(p.sku);
      const now = record?.atf ?? null;
      const { sku, locationId, level } = p.target;
      const basis = record ? { basis: basisOf(record) } : {};
      outcomes[p.index] = now === level ? { sku, locationId, status: 'applied', level, ...basis } : { sku, locationId, status: 'stale', observed: now, ...basis };
    }
  }
}
