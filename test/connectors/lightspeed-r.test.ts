/**
 * What is Lightspeed Retail (R-Series)'s own, beyond the conformance suite: its auth (a bearer token
 * for one account; OAuth through the kit with rotating refresh tokens), the translation of its sales
 * (sales, returns that restock, refunds of money alone, exchanges, voids of sales and of returns,
 * open sales, fee lines) and of its ItemShop records (counts typed at the counter), the feeds read
 * from where the account stands, its leaky bucket and 429s, the writes it refuses, and the settings.
 */
import { ChannelRegistry } from '../../server/channels/registry';
import { beginAuthorization, finishAuthorization, type AuthorizeContext } from '../../server/connectors/kit/oauth-authorize';
import { TokenCipher } from '../../server/connectors/kit/oauth';
import { definition } from '../../server/connectors/lightspeed-r';
import { LS_BUCKET, LsEmulator } from '../../server/connectors/lightspeed-r/emulator';
import { ConnectorError, TranslateError, type ChannelFact, type Connector } from '../../server/connectors/types';
import { openStore } from '../../server/store/open';
import { tempDir } from '../helpers/hub';
import { DOCS_ITEM_SHOP_EVENT, DOCS_RETURN_EVENT, DOCS_SALE, DOCS_SALE_EVENT } from './lightspeed-r/documented';

const TOKEN = 'ls-test-access-token-41d0';
const ACCOUNT = '104455';

describe('Lightspeed Retail (R-Series)', () => {
  let emu: LsEmulator;
  let baseUrl: string;
  const connector = (settings: Record<string, unknown> = {}, credentials: Record<string, string> = { accessToken: TOKEN }): Connector =>
    definition.create({ channelId: 'ls', baseUrl, settings: { accountId: ACCOUNT, ...settings }, credentials });

  beforeEach(async () => {
    emu = new LsEmulator({ accountId: ACCOUNT, accessToken: TOKEN });
    baseUrl = await emu.start();
    emu.seed([
      { sku: 'ART-1', title: 'Dot painting', levels: { '1': 10, '2': 4 } },
      { sku: 'ART-2', title: 'Bark painting', levels: { '1': 6, '2': 0 } },
    ]);
  });
  afterEach(async () => {
    await emu.stop();
  });

  /** Where each feed was read to, and the event ids stored so far (the inbox drops one read again). */
  type Cursors = Map<string, string | null> & { seen?: Set<string> };

  /** Every new event of both feeds after `cursors` (advanced in place), translated, as the inbox stores them. */
  async function pollAll(c: Connector, cursors: Cursors): Promise<ChannelFact[]> {
    const out: ChannelFact[] = [];
    cursors.seen ??= new Set();
    for (const feed of definition.capabilities.polled) {
      for (let i = 0; i < 20; i++) {
        const r = await c.poll!(feed, cursors.get(feed) ?? null);
        cursors.set(feed, r.cursor);
        for (const ev of r.events) {
          if (cursors.seen.has(ev.eventId)) continue;
          cursors.seen.add(ev.eventId);
          out.push(...c.translate(ev.topic, ev.body, {}));
        }
        if (!r.more) break;
      }
    }
    return out;
  }

  async function started(c: Connector): Promise<Cursors> {
    const cursors: Cursors = new Map<string, string | null>();
    await pollAll(c, cursors);
    return cursors;
  }

  describe('authentication', () => {
    test('R-Series sends no webhooks: any delivery to the webhook address is refused, whatever it claims, and verify never throws', () => {
      const c = connector();
      const sale = Buffer.from(JSON.stringify(DOCS_SALE_EVENT));
      const cases: [string, Buffer, Record<string, string>][] = [
        ['a sale body as the feed stores it', sale, {}],
        ['the same, tampered', Buffer.from(sale.toString().replace('"2"', '"20"')), {}],
        ['signed with a made-up header', sale, { 'x-ls-signature': 'abc' }],
        ['naming another account', Buffer.from(JSON.stringify({ ...DOCS_SALE_EVENT, accountID: '999' })), {}],
        ['the same bytes again (a replay)', sale, {}],
        ['malformed', Buffer.from('{not json'), {}],
        ['empty', Buffer.alloc(0), {}],
      ];
      for (const [name, raw, headers] of cases) expect([name, c.verify(raw, headers)]).toEqual([name, expect.objectContaining({ valid: false, refusal: 'signature' })]);
    });

    test('a wrong token is refused (401) as a fault of the channel whose message names no secret; another account (403) too', async () => {
      const wrong = await connector({}, { accessToken: 'not-the-token-77' }).listCatalog().catch((e: unknown) => e);
      expect(wrong).toMatchObject({ status: 401, channelFault: true, retryable: false });
      expect((wrong as Error).message).not.toContain('not-the-token-77');
      expect((wrong as Error).message).toContain('authorise the channel again');
      const other = await connector({ accountId: '999' }).listCatalog().catch((e: unknown) => e);
      expect(other).toMatchObject({ status: 403, channelFault: true });
      expect((other as Error).message).toContain('accountId 999');
    });

    test('OAuth through the kit: consent once, then the token is used, refreshed when it expires (the refresh token rotates), and a revoked app is a clear fault', async () => {
      await emu.stop();
      const client = { clientId: 'stockrelay-ls-app', clientSecret: 'ls-app-secret-9e31' };
      const redirect = 'https://hub.example.com/oauth/callback';
      emu = new LsEmulator({ accountId: ACCOUNT, accessToken: 'another-token-only-the-emulator-knows', oauth: { ...client, redirectUris: [redirect] } });
      baseUrl = await emu.start();
      emu.seed([{ sku: 'ART-1', title: 'Dot painting', levels: { '1': 10 } }]);
      const store = await openStore({ dataDir: tempDir('sr-ls-oauth-') });
      try {
        const cipher = new TokenCipher('test-credential-key-0123456789-abcdefghijklmnop');
        const channel = { id: 'ls-pos', platform: 'lightspeed-r', baseUrl, settings: { accountId: ACCOUNT, oauthBaseUrl: baseUrl, oauthRedirectUri: redirect }, credentials: { ...client } };
        const ctx: AuthorizeContext = { channel, def: definition, store, cipher };
        const { url } = await beginAuthorization(ctx);
        expect(new URL(url).pathname).toBe('/auth/oauth/authorize');
        expect(new URL(url).searchParams.get('scope')).toBe('employee:inventory employee:register_read');
        const consent = await fetch(url, { redirect: 'manual' });
        await consent.arrayBuffer();
        expect(consent.status).toBe(302);
        await finishAuthorization(ctx, consent.headers.get('location')!);
        const server = emu.oauthServer!;
        expect(server.tokenRequests).toEqual([{ grant: 'authorization_code', clientId: client.clientId, status: 200, error: null }]);

        const registry = new ChannelRegistry([{ ...channel, name: 'Counter', locations: { gallery: '1' }, buffer: 0, cap: null, hideAtZero: false, relistOnRestock: false, reconcile: 'adopt' }], { tokens: { store, cipher } });
        const c = registry.get('ls-pos')!.connector;
        const [listing] = await c.listCatalog();
        server.expireAccessTokens();
        expect(await c.push([{ sku: 'ART-1', ref: listing!.ref, locationId: '1', level: 7, expected: 10, idempotencyKey: 'k1' }])).toEqual([{ sku: 'ART-1', locationId: '1', status: 'applied', level: 7, basis: expect.stringMatching(/^ts:\d+$/) }]);
        expect(server.count('refresh_token')).toBe(1);
        expect(emu.level('ART-1', '1')).toBe(7);
        // The refresh token rotated: only the newest one works.
        server.revokeAll();
        const err = await c.listCatalog().catch((e: unknown) => e);
        expect(err).toMatchObject({ channelFault: true, retryable: false });
        expect((err as Error).message).toContain('npm run stockrelay -- authorize --channel ls-pos');
        expect((err as Error).message).not.toContain(client.clientSecret);
      } finally {
        await store.close();
      }
    });
  });

  describe('translation of the documented shapes', () => {
    const t = (topic: string, body: unknown) => connector().translate(topic, body, {});

    test('a completed sale is a sale of its lines at its shop, with the SKU of the item', () => {
      expect(t('sale', DOCS_SALE_EVENT)).toEqual([
        { type: 'sale', orderId: '27', occurredAt: '2026-12-07T14:05:11.000Z', lines: [{ lineId: '51', sku: 'DOT-PAINTING-7', ref: { productId: '12', variantId: '12' }, quantity: 2, locationId: '1' }] },
      ]);
    });

    test('a return is a refund that restocks, against the sale the returned line came from', () => {
      expect(t('sale', DOCS_RETURN_EVENT)).toEqual([
        { type: 'refund', refundId: '31', orderId: '27', occurredAt: '2026-12-08T09:12:40.000Z', lines: [{ lineId: '60', sku: 'DOT-PAINTING-7', ref: { productId: '12', variantId: '12' }, quantity: 1, locationId: '1', restock: true }] },
      ]);
      // A return without a receipt (no parent line): against itself.
      const adHoc = { Sale: { ...DOCS_RETURN_EVENT.Sale, SaleLines: { SaleLine: { ...DOCS_RETURN_EVENT.Sale.SaleLines.SaleLine, parentSaleLineID: '0' } } }, parents: {} };
      expect(t('sale', adHoc)).toEqual([expect.objectContaining({ type: 'refund', refundId: '31', orderId: '31' })]);
    });

    test('an exchange (a return and a sale in one) is both; a fee line without an item moves nothing', () => {
      const line = DOCS_SALE.SaleLines.SaleLine;
      const body = {
        Sale: { ...DOCS_SALE, saleID: '40', SaleLines: { SaleLine: [{ ...line, saleLineID: '70', unitQuantity: '-1', parentSaleLineID: '51' }, { ...line, saleLineID: '71', itemID: '13', unitQuantity: '1', Item: { ...line.Item, itemID: '13', customSku: 'BARK-2' } }, { ...line, saleLineID: '72', itemID: '0', unitQuantity: '1' }] } },
        parents: { '51': '27' },
      };
      expect(t('sale', body).map((f) => [f.type, f.type === 'sale' || f.type === 'refund' ? f.lines.map((l) => `${l.lineId}:${l.quantity}`) : []])).toEqual([
        ['sale', ['71:1']],
        ['refund', ['70:1']],
      ]);
    });

    test('a void of a completed sale puts its lines back once; a void of a return takes them out again; an open sale or one voided before completion books nothing', () => {
      const voided = t('sale', { ...DOCS_SALE_EVENT, Sale: { ...DOCS_SALE, voided: 'true' } });
      expect(voided.map((f) => f.type)).toEqual(['sale', 'cancellation']);
      expect(voided[1]).toMatchObject({ orderId: '27', lines: [{ lineId: '51', quantity: 2, restock: true }] });
      const returnVoided = t('sale', { ...DOCS_RETURN_EVENT, Sale: { ...DOCS_RETURN_EVENT.Sale, voided: 'true' } });
      expect(returnVoided.map((f) => [f.type, f.type === 'sale' || f.type === 'refund' ? f.orderId : ''])).toEqual([
        ['refund', '27'],
        ['sale', 'void-31'],
      ]);
      expect(t('sale', { ...DOCS_SALE_EVENT, Sale: { ...DOCS_SALE, completed: 'false' } })).toEqual([]);
      expect(t('sale', { ...DOCS_SALE_EVENT, Sale: { ...DOCS_SALE, completed: 'false', voided: 'true' } })).toEqual([]);
    });

    test('an ItemShop record is a level observed at its shop; the all-shops summary (shop 0) is none', () => {
      expect(t('item_shop', DOCS_ITEM_SHOP_EVENT)).toEqual([{ type: 'level_observed', sku: 'DOT-PAINTING-7', ref: { productId: '12', variantId: '12' }, locationId: '1', available: 7, occurredAt: '2026-12-07T14:05:11.000Z', basis: `ts:${Date.parse('2026-12-07T14:05:11Z')}` }]);
      expect(t('item_shop', { ItemShop: { ...DOCS_ITEM_SHOP_EVENT.ItemShop, shopID: '0' } })).toEqual([]);
    });

    test('a body that lacks what its topic needs is refused with the reason, never read as nothing happened', () => {
      const bad: [string, unknown, RegExp][] = [
        ['sale', {}, /has no Sale/],
        ['sale', { Sale: { ...DOCS_SALE, saleID: 'x' } }, /has no saleID/],
        ['sale', { Sale: { ...DOCS_SALE, SaleLines: { SaleLine: { ...DOCS_SALE.SaleLines.SaleLine, unitQuantity: 'two' } } } }, /no whole unitQuantity/],
        ['item_shop', { ItemShop: { ...DOCS_ITEM_SHOP_EVENT.ItemShop, qoh: '' } }, /no whole qoh/],
        ['item_shop', null, /not an object/],
        ['order', DOCS_SALE_EVENT, /has no event "order"/],
      ];
      for (const [topic, body] of bad) expect(() => t(topic, body)).toThrow(TranslateError);
      for (const [topic, body, why] of bad) expect(() => t(topic, body)).toThrow(why);
    });
  });

  describe('what happens at the counter, as the feeds read it', () => {
    test('the feeds start where the account stands: nothing before the first poll is booked', async () => {
      await emu.sell({ sku: 'ART-1', quantity: 1, locationId: '1' });
      const c = connector();
      const cursors = await started(c);
      expect(await pollAll(c, cursors)).toEqual([]);
    });

    test('a sale, a return that restocks, a refund of money alone, an exchange and a void: each booked once, by its keys', async () => {
      const c = connector({ pageSize: 2 });
      const cursors = await started(c);
      const { orderId } = await emu.sell({ sku: 'ART-1', quantity: 3, locationId: '1' });
      let facts = await pollAll(c, cursors);
      expect(facts.filter((f) => f.type === 'sale')).toEqual([expect.objectContaining({ orderId, lines: [expect.objectContaining({ sku: 'ART-1', quantity: 3, locationId: '1' })] })]);
      expect(facts.filter((f) => f.type === 'level_observed')).toEqual([expect.objectContaining({ sku: 'ART-1', locationId: '1', available: 7 })]);

      const { refundId } = await emu.refund({ orderId, restock: true, quantity: 1 });
      facts = await pollAll(c, cursors);
      expect(facts.filter((f) => f.type === 'refund')).toEqual([expect.objectContaining({ refundId, orderId, lines: [expect.objectContaining({ quantity: 1, restock: true })] })]);
      expect(emu.level('ART-1', '1')).toBe(8);

      // Money back through Financial Services: no sale, no stock, nothing to read.
      await emu.refund({ orderId, restock: false, quantity: 1 });
      expect(await pollAll(c, cursors)).toEqual([]);
      expect(emu.level('ART-1', '1')).toBe(8);

      await emu.exchange({ orderId, quantity: 1, sku: 'ART-2' });
      facts = await pollAll(c, cursors);
      expect(facts.filter((f) => f.type === 'sale' || f.type === 'refund').map((f) => f.type)).toEqual(['sale', 'refund']);

      await emu.void(orderId);
      facts = await pollAll(c, cursors);
      // The voided sale comes again with its cancellation: the sale's keys are the ones already booked.
      const cancel = facts.find((f) => f.type === 'cancellation');
      expect(cancel).toMatchObject({ orderId, lines: [expect.objectContaining({ lineId: expect.any(String), quantity: 3, restock: true })] });
      expect(facts.filter((f) => f.type === 'sale').map((f) => (f.type === 'sale' ? f.orderId : ''))).toEqual([orderId]);
      // 10 − 3 sold + 1 returned + 1 exchanged back + 3 of the voided sale back.
      expect(emu.level('ART-1', '1')).toBe(12);
    });

    test('a count typed at the counter reaches the hub as a level observed, never as a sale', async () => {
      const c = connector();
      const cursors = await started(c);
      await emu.setLevel({ sku: 'ART-2', locationId: '2', available: 9 });
      expect(await pollAll(c, cursors)).toEqual([expect.objectContaining({ type: 'level_observed', sku: 'ART-2', locationId: '2', available: 9 })]);
    });

    test('a sale left open moves nothing until it is completed', async () => {
      const c = connector();
      const cursors = await started(c);
      const { saleId } = await emu.open({ sku: 'ART-1', quantity: 2, locationId: '2' });
      expect(await pollAll(c, cursors)).toEqual([]);
      await emu.complete(saleId);
      const facts = await pollAll(c, cursors);
      expect(facts.map((f) => f.type).sort()).toEqual(['level_observed', 'sale']);
    });
  });

  describe('writes', () => {
    test('a push writes every shop of one item in one PUT, with each record named, and the level is absolute', async () => {
      const c = connector();
      const ref = emu.listing('ART-1')!;
      const out = await c.push([
        { sku: 'ART-1', ref, locationId: '1', level: 3, expected: 10, idempotencyKey: 'a' },
        { sku: 'ART-1', ref, locationId: '2', level: 5, expected: 4, idempotencyKey: 'b' },
      ]);
      expect(out.map((o) => o.status)).toEqual(['applied', 'applied']);
      const puts = emu.requests.filter((r) => r.method === 'PUT');
      expect(puts).toHaveLength(1);
      expect(puts[0]!.body).toEqual({ ItemShops: { ItemShop: [expect.objectContaining({ shopID: '1', qoh: '3', itemShopID: expect.any(String) }), expect.objectContaining({ shopID: '2', qoh: '5', itemShopID: expect.any(String) })] } });
      expect([emu.level('ART-1', '1'), emu.level('ART-1', '2')]).toEqual([3, 5]);
    });

    test('a write never wipes out a count the figure does not show: the record moved on since the level the hub knows, so the push waits for the item_shops feed', async () => {
      await emu.stop();
      let now = Date.parse('2026-12-08T10:00:00Z');
      emu = new LsEmulator({ accountId: ACCOUNT, accessToken: TOKEN, clock: () => now });
      baseUrl = await emu.start();
      emu.seed([{ sku: 'ART-1', title: 'Dot painting', levels: { '1': 10 } }]);
      const c = connector();
      const cursors = await started(c);
      now += 2000;
      await emu.setLevel({ sku: 'ART-1', locationId: '1', available: 9 });
      const [seen] = await pollAll(c, cursors);
      expect(seen).toMatchObject({ type: 'level_observed', available: 9, basis: expect.stringMatching(/^ts:\d+$/) });
      const basis = seen!.type === 'level_observed' ? seen!.basis! : '';
      // A count typed at the counter (+1) and a sale (−1), neither read by the hub yet: the figure is 9 again.
      now += 2000;
      await emu.setLevel({ sku: 'ART-1', locationId: '1', available: 10 });
      await emu.sell({ sku: 'ART-1', quantity: 1, locationId: '1' });
      const ref = emu.listing('ART-1')!;
      const out = await c.push([{ sku: 'ART-1', ref, locationId: '1', level: 4, expected: 9, idempotencyKey: 'k', basis }]);
      expect(out).toEqual([{ sku: 'ART-1', locationId: '1', status: 'stale', observed: null, untilFeed: 'item_shops' }]);
      // Sent: 4 over an unchanged-looking 9; kept: 9, and nothing written.
      expect(emu.level('ART-1', '1')).toBe(9);
      expect(emu.requests.filter((r) => r.method === 'PUT')).toEqual([]);
      // Once the feed has reported the record, the push with its new basis writes, and says what it stands on.
      const after = (await pollAll(c, cursors)).filter((f) => f.type === 'level_observed');
      const newer = after[after.length - 1]!;
      const again = await c.push([{ sku: 'ART-1', ref, locationId: '1', level: 4, expected: 9, idempotencyKey: 'k2', basis: newer.type === 'level_observed' ? newer.basis! : '' }]);
      expect(again).toEqual([{ sku: 'ART-1', locationId: '1', status: 'applied', level: 4, basis: expect.stringMatching(/^ts:\d+$/) }]);
      expect(emu.level('ART-1', '1')).toBe(4);
    });

    test('a write the API refuses changes nothing: a qoh that is not a whole number, a record of another item', async () => {
      const id = emu.listing('ART-1')!.productId;
      const put = (body: unknown) => fetch(`${baseUrl}/API/V3/Account/${ACCOUNT}/Item/${id}.json`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const notWhole = await put({ ItemShops: { ItemShop: [{ shopID: '1', qoh: '2' }, { shopID: '2', qoh: 'seven' }] } });
      expect([notWhole.status, ((await notWhole.json()) as { message: string }).message]).toEqual([400, 'qoh must be a whole number, not "seven".']);
      const foreign = await put({ ItemShops: { ItemShop: [{ itemShopID: '99999', qoh: '1' }] } });
      expect(foreign.status).toBe(400);
      // Sent: shop 1 to 2 beside a bad shop 2; kept: both as they were.
      expect([emu.level('ART-1', '1'), emu.level('ART-1', '2')]).toEqual([10, 4]);
    });

    test('hide and relist set publishToEcom only; the item stays sellable at the counter (not archived)', async () => {
      const c = connector();
      const ref = emu.listing('ART-2')!;
      await c.hide(ref);
      expect([emu.item('ART-2')!.publishToEcom, emu.item('ART-2')!.archived]).toEqual([false, false]);
      await c.relist(ref);
      expect(emu.item('ART-2')!.publishToEcom).toBe(true);
      expect(emu.requests.filter((r) => r.method === 'PUT').map((r) => r.body)).toEqual([{ publishToEcom: 'false' }, { publishToEcom: 'true' }]);
    });
  });

  describe('the leaky bucket', () => {
    test('a full bucket is answered 429 with its level, which the connector turns into the wait the request needs', async () => {
      await emu.stop();
      let now = 1_000_000;
      emu = new LsEmulator({ accountId: ACCOUNT, accessToken: TOKEN, bucket: LS_BUCKET, clock: () => now });
      baseUrl = await emu.start();
      emu.seed([{ sku: 'ART-1', title: 'Dot painting', levels: { '1': 10 } }]);
      const ref = emu.listing('ART-1')!;
      const c = connector();
      // Five pushes that each write: 1 + 10 + 1 units each, 60 in all; the bucket is full.
      for (let i = 0; i < 5; i++) await c.push([{ sku: 'ART-1', ref, locationId: '1', level: 20 + i, expected: null, idempotencyKey: `p${i}` }]);
      const err = await c.push([{ sku: 'ART-1', ref, locationId: '1', level: 30, expected: null, idempotencyKey: 'p5' }]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      // A GET of 1 unit in a bucket at 60/60: one second.
      expect(err).toMatchObject({ status: 429, retryable: true, retryAfterMs: 1000 });
      expect(emu.rateLimited).toHaveLength(1);
      now += 10_000;
      expect((await c.read([{ sku: 'ART-1', ref, locationId: '1' }]))[0]!.available).toBe(24);
    });

    test('the capabilities pace a write ten times a read within the documented bucket; a push fits a full bucket', () => {
      expect(definition.capabilities.rateLimit).toMatchObject({ kind: 'leaky_bucket', bucketSize: 60, dripPerSecond: 1, writeCost: 10 });
      expect(definition.capabilities.maxBatch).toBe(5);
      expect(connector({ bucketSize: 180, dripPerSecond: 3 }).capabilities).toMatchObject({ maxBatch: 17, rateLimit: { bucketSize: 180, dripPerSecond: 3 } });
    });
  });

  describe('settings', () => {
    test('a missing or wrong setting is named, and nothing is sent', () => {
      const cases: [Record<string, unknown>, Record<string, string>, RegExp][] = [
        [{ accountId: undefined }, { accessToken: TOKEN }, /setting accountId must be the account's number/],
        [{ accountId: 'gallery' }, { accessToken: TOKEN }, /setting accountId/],
        [{ skuField: 'barcode' }, { accessToken: TOKEN }, /skuField must be one of customSku, systemSku/],
        [{ pageSize: 500 }, { accessToken: TOKEN }, /pageSize must be a whole number from 1 to 100/],
        [{ bucketSize: 5 }, { accessToken: TOKEN }, /bucketSize must be a number from 11/],
        [{}, {}, /needs its OAuth client .* or the credential accessToken/],
      ];
      for (const [settings, credentials, why] of cases) {
        expect(() => definition.create({ channelId: 'ls', baseUrl, settings: { accountId: ACCOUNT, ...settings }, credentials })).toThrow(why);
      }
      expect(emu.requests).toEqual([]);
    });
  });
});
