/**
 * Channels that refuse whole requests (issue #15, item 11), through the hub and each platform's
 * emulator behind a loopback front that answers every request itself while told to: a revoked key
 * (401), a missing permission or a firewall (403), a route that is gone (404), a proxy error (502).
 * For Shopify, Square and WooCommerce alike, and for every kind of request (pushes with their reads
 * before and after, catalog discovery, reconciliation reads):
 * - the pushes are kept and retried (never dead letters), the failure count grows, the channel is
 *   suspended after `dispatch.suspendAfter` failures, one `channel_failing` alert is raised and shows
 *   in GET /v1/alerts and in the channel's health (GET /v1/channels); discovery answers 502 and keeps
 *   the listing map; reconciliation reports the error;
 * - once the platform answers again the pushes go through, the channel shows the published level,
 *   its health is ok and the alert is resolved;
 * - a refusal of one item (a WooCommerce batch answer with a per-item error, a Square per-change
 *   error, a Shopify userError on one quantity) dead-letters that item only, and the channel stays ok;
 * - a WooCommerce key that may read but not write fails every push: reads that work do not clear
 *   those failures, and the channel is suspended with its alert all the same.
 */
import { ShopifyEmulator } from '../../server/connectors/shopify/emulator';
import { SquareEmulator } from '../../server/connectors/square/emulator';
import { WooEmulator } from '../../server/connectors/woocommerce/emulator';
import { WOO_LOCATION } from '../../server/connectors/woocommerce/translate';
import { Front, type Refusal } from '../helpers/front';
import { startHub, type TestHub } from '../helpers/hub';

jest.setTimeout(90_000);

/** The WooCommerce emulator answering at the front's address (its OAuth check signs that address). */
class FrontedWoo extends WooEmulator {
  answerAt(url: string): void {
    this.baseUrl = url;
  }
}

interface Platform {
  id: string;
  name: string;
  location: string;
  /** Starts the emulator behind a front; returns the channel config (baseUrl: the front). */
  start(): Promise<{ front: Front; channel: Record<string, unknown>; env: Record<string, string> }>;
  stop(): Promise<void>;
  level(sku: string): number | null;
  seed(skus: string[], level: number): void;
  /** What the platform (or what stands in front of it) answers a whole request refused with this status. */
  refusal(status: number): Refusal;
  /** Makes the platform refuse pushes of `sku` only (its own per-item answer); null: done in the store. */
  refuseItem(t: TestHub, front: Front, sku: string): Promise<void>;
}

const HTML_502: Refusal = { status: 502, body: '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>' };

const woo = (() => {
  let emu: FrontedWoo;
  return {
    id: 'woo',
    name: 'Online shop (WooCommerce)',
    location: WOO_LOCATION,
    async start() {
      emu = new FrontedWoo({ consumerKey: 'ck_refusals', consumerSecret: 'cs_refusals', webhookSecret: 'refusals-woo-hook' });
      const front = new Front(await emu.start());
      const url = await front.start();
      emu.answerAt(url);
      return {
        front,
        channel: { id: 'woo', name: this.name, platform: 'woocommerce', baseUrl: url, locations: { gallery: WOO_LOCATION }, buffer: 0, credentials: { consumerKey: 'F_WOO_KEY', consumerSecret: 'F_WOO_SECRET', webhookSecret: 'F_WOO_HOOK' } },
        env: { F_WOO_KEY: 'ck_refusals', F_WOO_SECRET: 'cs_refusals', F_WOO_HOOK: 'refusals-woo-hook' },
      };
    },
    stop: () => emu.stop(),
    level: (sku: string) => emu.level(sku, WOO_LOCATION),
    seed: (skus: string[], level: number) => emu.seed(skus.map((sku) => ({ sku, title: sku, levels: { [WOO_LOCATION]: level } }))),
    refusal(status: number): Refusal {
      if (status === 401) return { status, body: { code: 'woocommerce_rest_authentication_error', message: 'Consumer key is invalid.', data: { status: 401 } } };
      // A security plugin or the host's firewall, before WordPress runs.
      if (status === 403) return { status, body: '<html><body><h1>403 Forbidden</h1><p>Request blocked by the security rules of this site.</p></body></html>' };
      if (status === 404) return { status, body: { code: 'rest_no_route', message: 'No route was found matching the URL and request method.', data: { status: 404 } } };
      return HTML_502;
    },
    async refuseItem(_t: TestHub, front: Front, sku: string) {
      // The batch carries an id WooCommerce does not have in place of this item's: WooCommerce answers
      // that entry of the batch with its own error and applies the others.
      const id = Number(emu.listing(sku)!.variantId);
      front.rewrite = (method, path, body) => {
        if (method !== 'POST' || !/\/products\/batch/.test(path)) return body;
        const b = JSON.parse(body) as { update: { id: number }[] };
        for (const u of b.update) if (u.id === id) u.id = 999_999;
        return JSON.stringify(b);
      };
    },
  } satisfies Platform;
})();

const SHOP_LOC = 'gid://shopify/Location/4242';
const shopify = (() => {
  let emu: ShopifyEmulator;
  return {
    id: 'shop',
    name: 'Web store (Shopify)',
    location: SHOP_LOC,
    async start() {
      emu = new ShopifyEmulator({ accessToken: 'shpat_refusals_0001', webhookSecret: 'refusals-shop-hook', shopDomain: 'refusals.myshopify.com', locations: [SHOP_LOC] });
      const front = new Front(await emu.start());
      const url = await front.start();
      return {
        front,
        channel: { id: 'shop', name: this.name, platform: 'shopify', baseUrl: url, locations: { gallery: SHOP_LOC }, buffer: 0, settings: { shopDomain: 'refusals.myshopify.com' }, credentials: { accessToken: 'F_SHOP_TOKEN', webhookSecret: 'F_SHOP_HOOK' } },
        env: { F_SHOP_TOKEN: 'shpat_refusals_0001', F_SHOP_HOOK: 'refusals-shop-hook' },
      };
    },
    stop: () => emu.stop(),
    level: (sku: string) => emu.level(sku, SHOP_LOC),
    seed: (skus: string[], level: number) => emu.seed(skus.map((sku) => ({ sku, title: sku, levels: { [SHOP_LOC]: level } }))),
    refusal(status: number): Refusal {
      // Shopify's own bodies (https://shopify.dev/docs/api/usage/response-codes).
      if (status === 401) return { status, body: { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' } };
      if (status === 403) return { status, body: { errors: '[API] This action requires merchant approval for write_inventory scope.' } };
      if (status === 404) return { status, body: { errors: 'Not Found' } };
      return HTML_502;
    },
    async refuseItem(t: TestHub, _front: Front, sku: string) {
      // The listing names an inventory item Shopify does not have: a userError on that quantity only.
      await t.hub.store.listings.replace(
        'shop',
        (await t.hub.store.listings.list('shop')).map((l) => ({ sku: l.sku, productId: l.productId, variantId: l.variantId, inventoryItemId: l.sku === sku ? 'gid://shopify/InventoryItem/999999' : l.inventoryItemId, title: l.title })),
        new Date().toISOString(),
      );
    },
  } satisfies Platform;
})();

const SQ_LOC = 'LREFUSALS01';
const square = (() => {
  let emu: SquareEmulator;
  return {
    id: 'square',
    name: 'Gallery POS (Square)',
    location: SQ_LOC,
    async start() {
      emu = new SquareEmulator({ accessToken: 'EAAA_refusals_token', webhookSignatureKey: 'refusals-square-key', locations: [SQ_LOC] });
      const front = new Front(await emu.start());
      const url = await front.start();
      return {
        front,
        channel: {
          id: 'square',
          name: this.name,
          platform: 'square',
          baseUrl: url,
          locations: { gallery: SQ_LOC },
          buffer: 0,
          settings: { notificationUrl: 'https://hub.example/v1/webhooks/square', merchantId: emu.merchantId },
          credentials: { accessToken: 'F_SQ_TOKEN', webhookSignatureKey: 'F_SQ_KEY' },
        },
        env: { F_SQ_TOKEN: 'EAAA_refusals_token', F_SQ_KEY: 'refusals-square-key' },
      };
    },
    stop: () => emu.stop(),
    level: (sku: string) => emu.level(sku, SQ_LOC),
    seed: (skus: string[], level: number) => emu.seed(skus.map((sku) => ({ sku, title: sku, levels: { [SQ_LOC]: level } }))),
    refusal(status: number): Refusal {
      // Square's error shape and codes (https://developer.squareup.com/docs/build-basics/handling-errors).
      if (status === 401) return { status, body: { errors: [{ category: 'AUTHENTICATION_ERROR', code: 'UNAUTHORIZED', detail: 'This request could not be authorized.' }] } };
      if (status === 403) {
        return { status, body: { errors: [{ category: 'AUTHENTICATION_ERROR', code: 'INSUFFICIENT_SCOPES', detail: 'The merchant has not given your application sufficient permissions to do that. The merchant must authorize your application for the following scopes: [INVENTORY_WRITE]' }] } };
      }
      if (status === 404) return { status, body: { errors: [{ category: 'INVALID_REQUEST_ERROR', code: 'NOT_FOUND', detail: 'Resource not found.' }] } };
      return HTML_502;
    },
    async refuseItem(t: TestHub, _front: Front, sku: string) {
      // The listing names a variation Square does not have: Square refuses that change (changes[i]) only.
      await t.hub.store.listings.replace(
        'square',
        (await t.hub.store.listings.list('square')).map((l) => ({ sku: l.sku, productId: l.productId, variantId: l.sku === sku ? 'NOSUCHVARIATION999' : l.variantId, inventoryItemId: l.inventoryItemId, title: l.title })),
        new Date().toISOString(),
      );
    },
  } satisfies Platform;
})();

const SKUS = ['REF-1', 'REF-2', 'REF-3'];
const SUSPEND_AFTER = 3;

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

type Health = { status: 'ok' | 'failing' | 'suspended'; failures: number; suspendedUntil: string | null; lastError: string | null };
type Alert = { id: number; kind: string; channelId: string | null; message: string; status: string };

describe.each<Platform>([woo, shopify, square])('$name answering whole requests with an error', (p) => {
  let t: TestHub;
  let front: Front;

  const health = async (): Promise<Health> => ((await t.api('GET', '/v1/channels')).body.channels as { id: string; health: Health }[]).find((c) => c.id === p.id)!.health;
  const failingAlerts = async (status: 'open' | 'resolved'): Promise<Alert[]> =>
    ((await t.api('GET', `/v1/alerts?status=${status}&limit=200`)).body.alerts as Alert[]).filter((a) => a.kind === 'channel_failing' && a.channelId === p.id);
  const rows = async () => (await t.hub.store.outbox.list({ limit: 500 })).filter((r) => r.sink === `channel:${p.id}`);
  const listings = async () => ((await t.api('GET', `/v1/channels/${p.id}/listings`)).body.listings as { sku: string; variantId: string }[]).map((l) => [l.sku, l.variantId]);
  const count = (sku: string, counted: number) => t.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted });

  beforeAll(async () => {
    const rig = await p.start();
    front = rig.front;
    p.seed(SKUS, 0);
    t = await startHub('sqlite', {
      file: {
        locations: [{ id: 'gallery', name: 'Gallery' }],
        engine: { attributionWindowMs: 200, reconcileEveryMs: 0 },
        dispatch: { baseDelayMs: 20, maxDelayMs: 100, suspendAfter: SUSPEND_AFTER, suspendMs: 1000 },
        channels: [rig.channel],
      },
      env: rig.env,
    });
    for (const sku of SKUS) expect((await t.api('PUT', `/v1/items/${sku}`, { title: sku })).status).toBeLessThan(300);
    expect((await t.api('POST', `/v1/channels/${p.id}/discover`)).status).toBe(200);
    for (const sku of SKUS) await count(sku, 5);
    await until('the opening counts on the channel', () => SKUS.every((s) => p.level(s) === 5));
    await t.settle();
  });

  afterAll(async () => {
    await t?.close();
    await front?.stop();
    await p.stop();
  });

  test('401, 403, 404 and 502 to every request: pushes kept and retried, suspended with one alert, then delivered once it answers', async () => {
    const mapped = await listings();
    expect(mapped.map(([sku]) => sku)).toEqual(SKUS);
    for (const [k, status] of [401, 403, 404, 502].entries()) {
      const level = 10 + k;
      const shown = p.level('REF-1');
      front.refuse = p.refusal(status);
      const mark = front.requests.length;
      expect(await health()).toMatchObject({ status: 'ok', failures: 0 });

      // Discovery: refused as a whole, answered 502 with what the platform said; the map is kept.
      const d = await t.api('POST', `/v1/channels/${p.id}/discover`);
      expect(d.status).toBe(502);
      expect(d.body.error.message).toContain(String(status));
      expect(await listings()).toEqual(mapped);
      await until('discovery counted against the channel', async () => (await health()).failures === 1);

      // A reconciliation read: reported, and counted.
      const r = await t.api('POST', '/v1/reconcile', { channel: p.id });
      expect(r.status).toBe(200);
      expect(r.body.channels[0].error).toContain(String(status));
      await until('reconciliation counted against the channel', async () => (await health()).failures === 2);
      expect(await failingAlerts('open')).toEqual([]);

      // A push: refused, kept, and the third failure in a row suspends the channel with its alert.
      await count('REF-1', level);
      await until('the channel suspended', async () => (await health()).status === 'suspended');
      const h = await health();
      expect(h.failures).toBeGreaterThanOrEqual(SUSPEND_AFTER);
      expect(h.lastError).toContain(String(status));
      expect(h.suspendedUntil).not.toBeNull();
      const open = await failingAlerts('open');
      expect(open).toHaveLength(1);
      expect(open[0]!.message).toMatch(new RegExp(`^${p.name.replace(/[()]/g, '\\$&')} failed ${SUSPEND_AFTER} times in a row \\(last: .*${status}`));
      const mine = await rows();
      expect(mine.filter((x) => x.status === 'dead')).toEqual([]);
      const held = mine.filter((x) => x.status !== 'done');
      expect(held.length).toBe(1);
      expect(held[0]).toMatchObject({ status: 'pending', payload: expect.objectContaining({ sku: 'REF-1', level }) });
      expect(held[0]!.attempts).toBeGreaterThanOrEqual(1);
      expect(held[0]!.lastError).toContain(String(status));
      expect(p.level('REF-1')).toBe(shown);
      expect(front.refusedSince(mark)).toBeGreaterThanOrEqual(SUSPEND_AFTER);
      expect((await t.api('GET', '/v1/dead-letters')).body.deadLetters ?? []).toEqual([]);

      // The platform answers again: after the suspension the push goes through and everything clears.
      front.refuse = null;
      await until('the push delivered', () => p.level('REF-1') === level);
      await until('the channel healthy again', async () => (await health()).status === 'ok');
      expect(await health()).toEqual({ status: 'ok', failures: 0, suspendedUntil: null, lastError: null });
      expect(await failingAlerts('open')).toEqual([]);
      expect((await failingAlerts('resolved')).length).toBe(k + 1);
      expect((await rows()).every((x) => x.status === 'done')).toBe(true);
      expect(p.level('REF-1')).toBe((await t.api('GET', '/v1/items/REF-1')).body.locations[0].onHand);
    }
    // Whatever was refused, discovery changed nothing: the map is the one found at the start.
    expect(await listings()).toEqual(mapped);
  });

  test('a refusal of one item dead-letters that item only; the others are delivered and the channel stays ok', async () => {
    await p.refuseItem(t, front, 'REF-2');
    const at = new Date().toISOString();
    const edited = await t.relay({
      kind: 'edit_batch',
      editedAt: at,
      actor: 'staff@gallery.example',
      edits: [
        { sku: 'REF-2', field: 'on_hand', location: 'gallery', oldValue: 5, newValue: 7 },
        { sku: 'REF-3', field: 'on_hand', location: 'gallery', oldValue: 5, newValue: 8 },
      ],
    });
    expect(edited.status).toBeLessThan(300);
    await until('REF-3 delivered and REF-2 given up', async () => p.level('REF-3') === 8 && (await rows()).some((r) => r.status === 'dead'));
    await t.settle();
    const dead = (await rows()).filter((r) => r.status === 'dead');
    expect(dead.map((r) => (r.payload as { sku: string }).sku)).toEqual(['REF-2']);
    expect(dead[0]!.attempts).toBe(1);
    expect(dead[0]!.lastError).toMatch(/refused REF-2/);
    expect(p.level('REF-2')).toBe(5);
    expect(await health()).toEqual({ status: 'ok', failures: 0, suspendedUntil: null, lastError: null });
    expect(await failingAlerts('open')).toEqual([]);
    if (p.id === 'woo') expect(front.requests.some((r) => r.method === 'POST' && /\/products\/batch/.test(r.path))).toBe(true);
    front.rewrite = null;
  });
});

describe('a WooCommerce key that may read but not write', () => {
  let t: TestHub;
  let front: Front;

  afterAll(async () => {
    await t?.close();
    await front?.stop();
    await woo.stop();
  });

  test('every push fails with 401: reads that work do not clear that, and the channel is suspended with its alert', async () => {
    const rig = await woo.start();
    front = rig.front;
    woo.seed(['RO-1'], 0);
    t = await startHub('sqlite', {
      file: {
        locations: [{ id: 'gallery', name: 'Gallery' }],
        engine: { attributionWindowMs: 200, reconcileEveryMs: 0 },
        dispatch: { baseDelayMs: 300, maxDelayMs: 600, suspendAfter: SUSPEND_AFTER, suspendMs: 1000 },
        channels: [rig.channel],
      },
      env: rig.env,
    });
    await t.api('PUT', '/v1/items/RO-1', { title: 'RO-1' });
    expect((await t.api('POST', '/v1/channels/woo/discover')).status).toBe(200);
    const health = async (): Promise<Health> => ((await t.api('GET', '/v1/channels')).body.channels as { health: Health }[])[0]!.health;

    // WooCommerce's answer to a write with a Read-only key; reads pass.
    front.refuse = { status: 401, body: { code: 'woocommerce_rest_cannot_edit', message: 'Sorry, you are not allowed to edit this resource.', data: { status: 401 } } };
    front.refuseOnly = (method) => method !== 'GET';
    const writes = () => front.requests.filter((x) => x.method !== 'GET' && x.status === 401).length;

    await t.api('POST', '/v1/items/RO-1/counts', { location: 'gallery', counted: 4 });
    await until('a first write refused', async () => (await health()).failures >= 1);
    // A reconciliation reads fine in between: the failing pushes are not forgotten.
    const r = await t.api('POST', '/v1/reconcile', { channel: 'woo' });
    expect(r.body.channels[0].error).toBeNull();
    await new Promise((res) => setTimeout(res, 50));
    expect((await health()).failures).toBeGreaterThanOrEqual(1);
    await until('suspended', async () => (await health()).status === 'suspended');
    expect(writes()).toBeGreaterThanOrEqual(SUSPEND_AFTER);
    expect(front.requests.filter((x) => x.method === 'GET' && x.status === 200).length).toBeGreaterThan(0);
    const open = ((await t.api('GET', '/v1/alerts?status=open')).body.alerts as Alert[]).filter((a) => a.kind === 'channel_failing');
    expect(open.map((a) => a.channelId)).toEqual(['woo']);
    expect(open[0]!.message).toContain('woocommerce_rest_cannot_edit');
    expect((await t.hub.store.outbox.list({ limit: 50 })).filter((x) => x.sink === 'channel:woo' && x.status === 'dead')).toEqual([]);
    expect(woo.level('RO-1')).toBe(0);
  });
});
