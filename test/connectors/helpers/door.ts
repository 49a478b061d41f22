/**
 * What the connector tests share about the hub's webhook door: a caught delivery's own headers,
 * posting a delivery to a channel's address, what the hub holds (events and movements), and the
 * check that a delivery is refused (401, the reason, "Nothing was stored") with nothing kept.
 */
import type { TestHub } from '../../helpers/hub';
import type { Received } from './webhook-sink';

type Json = Record<string, any>;

/** The delivery's own headers (not the transport's: its length, host and connection). */
export const deliveryHeaders = (r: Received): Record<string, string> =>
  Object.fromEntries(Object.entries(r.headers).filter((e): e is [string, string] => typeof e[1] === 'string' && (e[0].startsWith('x-') || e[0] === 'content-type')));

/** The door of one channel of a test hub (`hub`: read when called, as the hub starts in a beforeAll). */
export function webhookDoor(hub: () => TestHub, channelId: string, skus: readonly string[]) {
  const post = async (raw: Buffer, headers: Record<string, string>) => {
    const res = await fetch(`${hub().url}/v1/webhooks/${channelId}`, { method: 'POST', body: raw, headers });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const kept = async () => ({
    events: (await hub().api('GET', '/v1/events?limit=500')).body.events as Json[],
    items: await Promise.all(skus.map(async (sku) => (await hub().api('GET', `/v1/items/${sku}/movements?limit=500`)).body.movements as Json[])),
  });
  /** Posts a delivery that must be refused: 401 with a reason matching `reason`, and what the hub holds unchanged. */
  const refused = async (raw: Buffer, headers: Record<string, string>, reason: RegExp): Promise<void> => {
    const before = await kept();
    const answer = await post(raw, headers);
    await hub().settle();
    expect([answer.status, answer.body.error?.message]).toEqual([401, expect.stringMatching(reason)]);
    expect(answer.body.error.message).toMatch(/Nothing was stored/);
    expect(await kept()).toEqual(before);
  };
  return { post, kept, refused };
}
