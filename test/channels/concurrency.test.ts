/**
 * Requests in flight at once (server/connectors/kit/concurrency.ts): `RequestPace` gives turns by
 * rate only and gets nothing back when a request ends, so it cannot keep a platform's concurrent
 * limit (Clover: 5 per token). The gate can:
 * - never more than `limit` running, however many are asked for at once; all of them run;
 * - slots are given in the order asked, and a slot comes back when the work fails too;
 * - a caller whose signal ends while it waits leaves the queue and takes no slot;
 * - `gatedFetch` holds its slot until the answer's body is read.
 * (test/connectors/clover/pace.test.ts: the gate and the pace together against Clover's emulator.)
 */
import { ConcurrencyGate, gatedFetch } from '../../server/connectors/kit/concurrency';

/** A piece of work that runs until released. */
function held() {
  let release!: () => void;
  let fail!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => {
    release = res;
    fail = rej;
  });
  return { done, release: () => release(), fail: (e: Error) => fail(e) };
}

describe('the concurrency gate', () => {
  test('never runs more than its limit at once, and runs every one of a burst', async () => {
    const gate = new ConcurrencyGate(5);
    let running = 0;
    let most = 0;
    const work = async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 2));
      running--;
      return 'ok';
    };
    const results = await Promise.all(Array.from({ length: 40 }, () => gate.run(work)));
    expect(results).toEqual(Array(40).fill('ok'));
    expect(most).toBe(5);
    expect(gate.inFlight).toBe(0);
  });

  test('gives slots in the order asked, and takes a slot back when the work fails', async () => {
    const gate = new ConcurrencyGate(1);
    const first = held();
    const order: string[] = [];
    const a = gate.run(async () => {
      await first.done;
      order.push('a');
    });
    const b = gate.run(async () => {
      order.push('b');
      throw new Error('b failed');
    });
    const c = gate.run(async () => {
      order.push('c');
    });
    first.release();
    await a;
    await expect(b).rejects.toThrow('b failed');
    await c;
    expect(order).toEqual(['a', 'b', 'c']);
    expect(gate.inFlight).toBe(0);
  });

  test('a caller whose signal ends while it waits leaves the queue without a slot', async () => {
    const gate = new ConcurrencyGate(1);
    const first = held();
    const a = gate.run(() => first.done);
    const gaveUp = new AbortController();
    let ran = false;
    const b = gate.run(async () => {
      ran = true;
    }, gaveUp.signal);
    gaveUp.abort(new Error('gave up'));
    await expect(b).rejects.toThrow('gave up');
    first.release();
    await a;
    expect(ran).toBe(false);
    expect(gate.inFlight).toBe(0);
    // The slot is free again.
    await expect(gate.run(async () => 'next')).resolves.toBe('next');
  });

  test('a limit that is not a whole number of at least 1 is refused', () => {
    expect(() => new ConcurrencyGate(0)).toThrow(/at least 1/);
    expect(() => new ConcurrencyGate(2.5)).toThrow(/whole number/);
  });

  test('gatedFetch holds the slot until the answer is read', async () => {
    const gate = new ConcurrencyGate(1);
    const slow = held();
    let calls = 0;
    const base = (async () => {
      calls++;
      const n = calls;
      return new Response(new ReadableStream({ async start(c) {
        if (n === 1) await slow.done;
        c.enqueue(new TextEncoder().encode(`answer ${n}`));
        c.close();
      } }));
    }) as unknown as typeof fetch;
    const f = gatedFetch(gate, base);
    const one = f('http://127.0.0.1/one');
    const two = f('http://127.0.0.1/two');
    await new Promise((r) => setTimeout(r, 10));
    // The first answer's body is still coming: the second request has not been sent.
    expect(calls).toBe(1);
    slow.release();
    expect((await one).text).toBe('answer 1');
    expect((await two).text).toBe('answer 2');
  });
});
