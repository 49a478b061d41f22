/** What a Toast stock record means as a level, for the client, the translator and the emulator alike (pure). */
/** The level the hub reads from an item's stock: a count, 0 when out of stock, null when Toast keeps no count. */
export function levelOf(inv: { status: string; quantity: number | null }): number | null {
  if (inv.status === 'OUT_OF_STOCK') return 0;
  if (inv.status === 'QUANTITY' && inv.quantity !== null) return Math.max(0, Math.floor(inv.quantity));
  return null;
}
