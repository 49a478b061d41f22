/**
 * Catalog discovery, the pure part: match the platform's listings to our SKUs. A SKU listed twice
 * is reported, never guessed at; an empty SKU is unmatched.
 */
import type { DiscoveryReport, PlatformListing } from './facts';

export function matchCatalog(ourSkus: Iterable<string>, listings: PlatformListing[]): DiscoveryReport {
  const ours = new Set(ourSkus);
  const bySku = new Map<string, PlatformListing[]>();
  const unmatched: PlatformListing[] = [];
  for (const l of listings) {
    const sku = l.sku?.trim() ?? '';
    if (sku === '' || !ours.has(sku)) {
      unmatched.push(l);
      continue;
    }
    bySku.set(sku, [...(bySku.get(sku) ?? []), l]);
  }
  const matched: DiscoveryReport['matched'] = [];
  const duplicated: DiscoveryReport['duplicated'] = [];
  for (const [sku, ls] of bySku) {
    if (ls.length === 1) matched.push({ sku, ref: ls[0]!.ref, title: ls[0]!.title });
    else duplicated.push({ sku, listings: ls });
  }
  const missing = [...ours].filter((s) => !bySku.has(s)).sort();
  matched.sort((a, b) => a.sku.localeCompare(b.sku));
  duplicated.sort((a, b) => a.sku.localeCompare(b.sku));
  return { matched, unmatched, duplicated, missing };
}
