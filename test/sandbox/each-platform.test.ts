/**
 * Every platform the sandbox can run, alone (`STOCKRELAY_SANDBOX=<platform>`): its emulator starts
 * and nothing else, start-up and /healthz say which, and the demo catalog is mapped and pushed.
 * A hub and an emulator per platform: left out of test:fast (jest.fast.config.js).
 */
import { sandboxCapable } from '../../server/connectors';
import { createLogger } from '../../server/log';
import { startStockrelay } from '../../server/start';
import { testConfig } from '../helpers/hub';

test.each(sandboxCapable().map((p) => [p.platform, p]))('the sandbox with %s alone starts its emulator only, maps the demo catalog and pushes it', async (_n, p) => {
  const config = testConfig('sqlite');
  const s = await startStockrelay(config, createLogger('silent'), { STOCKRELAY_SANDBOX: p.platform }, { idleMs: 50 });
  try {
    expect(s.sandbox!.channels.map((c) => c.config.id)).toEqual([p.channelId]);
    expect(s.sandbox!.warning).toContain(`built-in emulators of ${p.displayName} with a demo catalog`);
    const health = (await (await fetch(`${s.url}/healthz`)).json()) as { message: string };
    expect(health.message).toBe(s.sandbox!.warning);
    const ch = s.sandbox!.channels[0]!;
    const [ours, theirs] = Object.entries(ch.config.locations)[0]!;
    // The demo catalog's first artwork hangs in the gallery; every listed location got the hub's level.
    const expected = { gallery: 3, warehouse: 9 }[ours as 'gallery' | 'warehouse'];
    // The pushes leave after start-up returns: wait for the emulator to show the hub's level.
    for (let i = 0; i < 600 && ch.emulator.level('ART-0004', theirs) !== expected; i++) await new Promise((r) => setTimeout(r, 50));
    const view = (await (await fetch(`${s.url}/v1/sandbox/levels/ART-0004`, { headers: { authorization: `Bearer ${config.adminToken}` } })).json()) as {
      channels: { channelId: string; levels: { locationId: string; level: number }[] }[];
    };
    expect(view.channels[0]!.levels.find((l) => l.locationId === ours)?.level).toBe(expected);
    expect(ch.emulator.level('ART-0004', theirs)).toBe(expected);
  } finally {
    await s.stop();
  }
});
