/**
 * What the sync benchmarks share about channels on emulators: waiting until every channel shows the
 * hub's level (and explaining it when one does not), and keeping the hub process's last errors.
 */
import type { ChildProcess } from 'node:child_process';
import type { Emulator } from '../server/connectors/emulator';
import type { hubClient } from './hub-process';
import { sleep } from './measure';

/** A channel of the benchmark: its id in the hub's config, its emulator, and the emulator's location id. */
export interface BenchChannel {
  id: string;
  emu: Emulator;
  loc: string;
}

type HubCall = ReturnType<typeof hubClient>['call'];

/** Keeps the hub's last 50 error lines (stderr, and log records of level error or fatal), to explain a failed run. */
export function keepHubErrors(proc: ChildProcess): string[] {
  const hubErrors: string[] = [];
  proc.stderr?.on('data', (d: Buffer) => hubErrors.push(d.toString()));
  proc.stdout?.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (/"level":(50|60)/.test(line)) hubErrors.push(line.slice(0, 500));
    if (hubErrors.length > 50) hubErrors.splice(0, hubErrors.length - 50);
  });
  return hubErrors;
}

/**
 * Waits until every channel shows `level` for every SKU given, flushing the emulators' webhooks as it
 * goes; after `ms`, throws with the SKUs off, what the hub and each channel show, and the ledger of
 * the first SKU off (to tell a missed or doubled booking from a push not made).
 */
export async function converged(channels: BenchChannel[], call: HubCall, skus: string[], level: (sku: string) => number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    // A hub that stops answering holds the webhooks in flight: the deadline holds all the same.
    await Promise.race([Promise.all(channels.map((c) => c.emu.flushWebhooks())), sleep(Math.max(0, until - Date.now()))]);
    if (skus.every((s) => channels.every((c) => c.emu.level(s, c.loc) === level(s)))) return;
    if (Date.now() > until) {
      const off = skus.filter((s) => channels.some((c) => c.emu.level(s, c.loc) !== level(s)));
      const detail = await Promise.all(off.slice(0, 5).map(async (s) => `${s}: want ${level(s)}, hub ${JSON.stringify((await call('GET', `/v1/items/${s}`)).locations?.[0])}, ${channels.map((c) => `${c.id} ${c.emu.level(s, c.loc)}`).join(', ')}`));
      const ledger = off.length > 0 ? ((await call('GET', `/v1/items/${off[0]}/movements?limit=200`)) as { movements: { reason: string; quantity: number; channelId: string | null; note: string | null; eventId: number | null }[] }).movements : [];
      const odd = ledger.filter((m) => m.reason !== 'sale').map((m) => `${m.reason} ${m.quantity} ${m.channelId ?? ''} event ${m.eventId}: ${(m.note ?? '').slice(0, 120)}`);
      throw new Error(`the channels did not converge (${off.length} SKUs off): ${detail.join(' | ')} || ${off[0]}: ${ledger.length} movements, ${ledger.filter((m) => m.reason === 'sale').length} sales; the others: ${odd.join(' ; ')}`);
    }
    await sleep(20);
  }
}
