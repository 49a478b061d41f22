/**
 * A real hub (test/helpers/hub.ts startHub('sqlite')) in a child process, on the data folder given
 * as argv[2]. The add-on's UrlFetchApp fake blocks its thread while it waits for an answer, so the
 * hub must not share that thread. Prints {"url": …} once listening; reads commands on stdin:
 * "settle" (answers {"settled": true}) and "close" (answers {"closed": true}, then exits).
 */
import readline from 'node:readline';
import { startHub } from '../../helpers/hub';

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: hub-child.ts <data dir>');
  const hub = await startHub('sqlite', { env: { STOCKRELAY_DATA_DIR: dir }, file: { locations: [{ id: 'gallery', name: 'Gallery' }] } });
  const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  say({ url: hub.url });
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (line === 'settle') {
      await hub.settle();
      say({ settled: true });
    } else if (line === 'close') {
      await hub.close();
      say({ closed: true });
      process.exit(0);
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
