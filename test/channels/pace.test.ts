/**
 * Every request counts (docs/dispatch.md): a channel's requests take their turns one by one from its
 * one pace (server/connectors/kit/pace.ts), whichever call made them, on a fake clock whose sleep
 * advances it.
 * - a call that makes several requests takes a turn for each; the limit holds over every window;
 * - turns go in the order asked: a push asked behind a run of fetches is served in its place;
 * - a request whose signal ends while it waits leaves the queue without taking a turn;
 * - through the channel registry, every request a connector sends through `ctx.fetch` or announces
 *   with `ctx.requestTurn` is paced, and the dispatcher and the poller take nothing per call;
 * - a clock that stands still never holds a request for ever.
 */
import type { ChannelConfig } from '../../server/config';
import { ChannelRegistry } from '../../server/channels/registry';
import { RequestPace } from '../../server/connectors/kit/pace';
import type { Connector, ConnectorDefinition } from '../../server/connectors/types';
import { limiterFor } from '../../server/outbox/rate-limit';
import { busiestWindow as busiest } from '../../server/connectors/emulator';
import { channelConfig, FakeClock } from '../helpers/pace';
import { acceptingPlatform } from '../helpers/test-platform';

const PER_SECOND = { kind: 'requests_per_window' as const, requests: 2, windowMs: 1000, description: '2 a second (test)' };

describe('a channel’s pace', () => {
  test('a call of three requests takes three turns; no window holds more than the limit', async () => {
    const clock = new FakeClock();
    const pace = new RequestPace(limiterFor(PER_SECOND), clock.now, clock.sleep);
    const sent: number[] = [];
    // A push that reads, writes and reads back, then a poll of two pages, asked at once.
    const call = async (requests: number) => {
      for (let i = 0; i < requests; i++) {
        await pace.turn();
        sent.push(clock.ms);
      }
    };
    await Promise.all([call(3), call(2), call(3)]);
    expect(sent).toHaveLength(8);
    expect(busiest(sent, 1000)).toBe(2);
    // Eight requests at two a second: the last one three seconds after the first.
    expect(Math.max(...sent) - Math.min(...sent)).toBe(3000);
  });

  test('turns go in the order asked: a push behind a run of fetches is served in its place', async () => {
    const clock = new FakeClock();
    const pace = new RequestPace(limiterFor(PER_SECOND), clock.now, clock.sleep);
    const order: string[] = [];
    const ask = (what: string) => pace.turn().then(() => order.push(what));
    await Promise.all([ask('fetch 1'), ask('fetch 2'), ask('fetch 3'), ask('push'), ask('fetch 4'), ask('poll')]);
    expect(order).toEqual(['fetch 1', 'fetch 2', 'fetch 3', 'push', 'fetch 4', 'poll']);
  });

  test('a request whose signal ends while it waits leaves the queue and takes no turn', async () => {
    const clock = new FakeClock();
    // The pace sleeps on a clock the test holds: the third request waits until released.
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const pace = new RequestPace(limiterFor(PER_SECOND), clock.now, async (ms) => {
      await held;
      clock.ms += ms;
    });
    const start = clock.ms;
    await Promise.all([pace.turn(), pace.turn()]);
    const stop = new AbortController();
    const gone = pace.turn(stop.signal).then(
      () => 'sent',
      (err: Error) => err.message,
    );
    const granted: string[] = [];
    const next = pace.turn().then(() => granted.push(`next at +${clock.ms - start}`));
    stop.abort(new Error('the hub is stopping'));
    expect(await gone).toBe('the hub is stopping');
    release();
    await next;
    // The abandoned request took nothing: a second one goes in the same second as "next".
    await pace.turn();
    granted.push(`one more at +${clock.ms - start}`);
    expect(granted).toEqual(['next at +1000', 'one more at +1000']);
    await expect(pace.turn(AbortSignal.abort(new Error('already over')))).rejects.toThrow('already over');
  });

  test('a leaky bucket with a write cost: a write pours ten units, a read one, and the bucket never holds more than its size', async () => {
    const clock = new FakeClock();
    // Lightspeed Retail R-Series: 60 units, draining 1 a second, a PUT/POST/DELETE 10 units.
    const model = { kind: 'leaky_bucket' as const, bucketSize: 60, dripPerSecond: 1, writeCost: 10, description: 'R-Series (test)' };
    const pace = new RequestPace(limiterFor(model), clock.now, clock.sleep);
    const start = clock.ms;
    const sent: { method: string; at: number }[] = [];
    const ask = (method: string) => pace.turn(undefined, method).then(() => sent.push({ method, at: clock.ms - start }));
    // Six writes fill the bucket at once; the seventh waits ten seconds for ten units to drain, a read then one more.
    await Promise.all([...Array.from({ length: 7 }, () => ask('PUT')), ask('GET'), ask('get')]);
    expect(sent.map((s) => `${s.method}@${s.at}`)).toEqual(['PUT@0', 'PUT@0', 'PUT@0', 'PUT@0', 'PUT@0', 'PUT@0', 'PUT@10000', 'GET@11000', 'get@12000']);
    // Without a method a turn costs one unit (a client announcing its request with requestTurn).
    const plain = new RequestPace(limiterFor(model), clock.now, clock.sleep);
    const before = clock.ms;
    for (let i = 0; i < 60; i++) await plain.turn();
    expect(clock.ms).toBe(before);
    await plain.turn();
    expect(clock.ms - before).toBe(1000);
  });

  test('a clock that stands still holds no request for ever: the turn is given after one wait', async () => {
    const pace = new RequestPace(limiterFor(PER_SECOND), () => 5, async () => undefined);
    for (let i = 0; i < 5; i++) await pace.turn();
  });
});

describe('through the channel registry', () => {
  test('a connector’s fetch is charged by its method where the model says writes cost more', async () => {
    const clock = new FakeClock();
    const sent: { method: string; at: number }[] = [];
    const fetchStub: typeof fetch = async (_input, init) => {
      sent.push({ method: init?.method ?? 'GET', at: clock.ms });
      return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const base = acceptingPlatform('bucketed', 'Bucketed platform');
    const capabilities = { ...base.capabilities, rateLimit: { kind: 'leaky_bucket' as const, bucketSize: 20, dripPerSecond: 2, writeCost: 10, description: '20 units, 2 a second, writes 10 (test)' } };
    const def: ConnectorDefinition = {
      ...base,
      capabilities,
      create(ctx) {
        return {
          ...base.create(ctx),
          capabilities,
          async push(targets, signal) {
            await ctx.fetch!('http://bucketed.invalid/read', signal ? { signal } : {});
            await ctx.fetch!('http://bucketed.invalid/write', { method: 'PUT', ...(signal ? { signal } : {}) });
            return targets.map((t) => ({ sku: t.sku, locationId: t.locationId, status: 'applied' as const, level: t.level }));
          },
        };
      },
    };
    const config = channelConfig({ id: 'bucketed', name: 'Bucketed channel', platform: 'bucketed' as ChannelConfig['platform'], baseUrl: null });
    const registry = new ChannelRegistry([config], { definitions: [def], fetch: fetchStub, clock: clock.date, sleep: clock.sleep });
    const ch = registry.get('bucketed')!;
    const start = clock.ms;
    const target = { sku: 'A', ref: { productId: '1', variantId: '1' }, locationId: 'default', level: 3, expected: null, idempotencyKey: 'k' };
    await ch.connector.push([target]);
    await ch.connector.push([target]);
    // 1 + 10 + 1 units at once; the second write waits until 10 − 8 = 2 more units drained (1 s at 2 a second).
    expect(sent.map((s) => `${s.method}@${s.at - start}`)).toEqual(['GET@0', 'PUT@0', 'GET@0', 'PUT@1000']);
  });

  test('every request a connector makes takes a turn, by fetch or by requestTurn; the dispatcher and the poller take nothing per call', async () => {
    const clock = new FakeClock();
    const sent: { url: string; at: number }[] = [];
    const fetchStub: typeof fetch = async (input) => {
      sent.push({ url: String(input), at: clock.ms });
      return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const base = acceptingPlatform('paced', 'Paced platform');
    const capabilities = { ...base.capabilities, polled: ['orders'], rateLimit: PER_SECOND };
    const def: ConnectorDefinition = {
      ...base,
      capabilities,
      create(ctx) {
        const get = (path: string, signal?: AbortSignal) => ctx.fetch!(`http://paced.invalid${path}`, signal ? { signal } : {});
        const connector: Connector = {
          ...base.create(ctx),
          capabilities,
          // Read, write, read back: three requests for one call.
          async push(targets, signal) {
            for (const path of ['/read', '/write', '/read-back']) await get(path, signal);
            return targets.map((t) => ({ sku: t.sku, locationId: t.locationId, status: 'applied' as const, level: t.level }));
          },
          async poll(_feed, _cursor, signal) {
            // A client that does not send through fetch announces its request.
            await ctx.requestTurn!(signal);
            sent.push({ url: 'other-client/orders', at: clock.ms });
            return { events: [], cursor: 'c', more: false };
          },
          async expand(_topic, body, signal) {
            await get('/order', signal);
            return body;
          },
        };
        return connector;
      },
    };
    const config = channelConfig({ id: 'paced', name: 'Paced channel', platform: 'paced' as ChannelConfig['platform'], baseUrl: null });
    const registry = new ChannelRegistry([config], { definitions: [def], fetch: fetchStub, clock: clock.date, sleep: clock.sleep });
    const ch = registry.get('paced')!;
    // The callers' view: no wait before a call, nothing taken for it.
    for (let i = 0; i < 10; i++) {
      expect(ch.limiter.waitMs(ch.limiter.requestCost, clock.ms)).toBe(0);
      ch.limiter.take(ch.limiter.requestCost, clock.ms);
    }
    const target = { sku: 'A', ref: { productId: '1', variantId: '1' }, locationId: 'default', level: 3, expected: null, idempotencyKey: 'k' };
    await Promise.all([
      ch.connector.push([target]),
      ch.connector.poll!('orders', null),
      ch.connector.expand!('order.create', {}),
      ch.connector.push([target]),
      ch.connector.poll!('orders', 'c'),
    ]);
    expect(sent).toHaveLength(3 + 1 + 1 + 3 + 1);
    expect(busiest(sent.map((s) => s.at), 1000)).toBe(2);
    // The first turns were the first asked for: the first push's read, the first poll, the order fetch.
    expect(sent.slice(0, 3).map((s) => s.url)).toEqual(['http://paced.invalid/read', 'other-client/orders', 'http://paced.invalid/order']);
  });
});
