/**
 * Clover counts requests a second (16) and requests at once (5) per token: the pace
 * (kit/pace.ts, from the connector's rate-limit model) keeps the first, the concurrency gate
 * (kit/concurrency.ts) the second. A burst against the emulator enforcing both, each answer held
 * 40 ms, meets no 429; the same burst without the gate meets the concurrent limit.
 */
import { CloverHttp } from '../../../server/connectors/clover/http';
import { CLOVER_LIMIT, CloverEmulator } from '../../../server/connectors/clover/emulator';
import { pacedRequests, RequestPace } from '../../../server/connectors/kit/pace';
import { limiterFor } from '../../../server/outbox/rate-limit';
import { capabilities } from '../../../server/connectors/clover';

describe('Clover: the pace and the gate keep both of its limits', () => {
  test('a burst of 30 reads paced as the registry paces Clover against the emulator enforcing 16 a second and 5 at once, each answer slow: no 429', async () => {
    const emu = new CloverEmulator({ apiToken: 'tok-gate', authCode: 'auth', merchantId: 'GATEMERCHANT1', rateLimit: CLOVER_LIMIT });
    const base = await emu.start();
    try {
      emu.seed([{ sku: 'G-1', title: 'Gate', levels: { GATEMERCHANT1: 3 } }]);
      emu.faults.api.latencyMs = 40;
      const pace = new RequestPace(limiterFor(capabilities.rateLimit), () => Date.now());
      const { fetch: paced } = pacedRequests(() => pace, () => fetch);
      const http = new CloverHttp({ baseUrl: base, merchantId: 'GATEMERCHANT1', token: 'tok-gate', userAgent: 'stockrelay-test/1.0', timeoutMs: 10_000, fetch: paced });
      const id = emu.listing('G-1')!.variantId;
      await Promise.all(Array.from({ length: 30 }, () => http.send({ method: 'GET', path: `/item_stocks/${id}`, what: 'read' })));
      expect(emu.rateLimited).toEqual([]);
      expect(emu.arrivals).toHaveLength(30);
    } finally {
      await emu.stop();
    }
  });

  test('without the gate the same burst meets Clover\'s concurrent limit (what the gate is for)', async () => {
    const emu = new CloverEmulator({ apiToken: 'tok-gate', authCode: 'auth', merchantId: 'GATEMERCHANT1', rateLimit: { window: { requests: 1000, windowMs: 1000 }, concurrent: 5 } });
    const base = await emu.start();
    try {
      emu.seed([{ sku: 'G-1', title: 'Gate', levels: { GATEMERCHANT1: 3 } }]);
      emu.faults.api.latencyMs = 40;
      const id = emu.listing('G-1')!.variantId;
      const answers = await Promise.all(Array.from({ length: 12 }, () => fetch(`${base}/v3/merchants/GATEMERCHANT1/item_stocks/${id}`, { headers: { authorization: 'Bearer tok-gate', 'user-agent': 't/1' } }).then((r) => r.status)));
      expect(answers.filter((s) => s === 429).length).toBeGreaterThan(0);
    } finally {
      await emu.stop();
    }
  });
});
