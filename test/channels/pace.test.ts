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

  test('a clock that stands still holds no request for ever: the turn is given after one wait', async () => {
    const pace = new RequestPace(limiterFor(PER_SECOND), () => 5, async () => undefined);
    for (let i = 0; i < 5; i++) await pace.turn();
  });
});

describe('through the channel registry', () => {
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
