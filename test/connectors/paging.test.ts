/**
 * Paging with a guard (issue #15, item 12): against loopback servers that ignore the page number or
 * the cursor (a cache or proxy in front of the shop, a plugin rewriting the query), every paged read
 * of the three connectors stops after a couple of requests with an error that says what the platform
 * did and what to fix, takes nothing from the list, and discovery through the hub maps nothing
 * wrongly: the map found before stays. The guard itself: repeated pages, repeated cursors, the cap.
 */
import http from 'node:http';
import { closeServer, listenOnLoopback, loopbackUrl } from '../../server/connectors/emulator';
import { MAX_PAGES, PageGuard } from '../../server/connectors/paging';
import { createShopifyConnector } from '../../server/connectors/shopify';
import { createSquareConnector } from '../../server/connectors/square';
import { ConnectorError, type Connector } from '../../server/connectors/types';
import { createWooConnector } from '../../server/connectors/woocommerce';
import { WOO_LOCATION } from '../../server/connectors/woocommerce/translate';
import { startHub } from '../helpers/hub';

/** A loopback server answering from `answer`; every request is recorded with its query and body. */
class Fake {
  readonly requests: { method: string; path: string; query: Record<string, string>; body: unknown }[] = [];
  private server: http.Server | null = null;
  constructor(private readonly answer: (req: Fake['requests'][number]) => { status?: number; body: unknown; headers?: Record<string, string> }) {}
  async start(): Promise<string> {
    this.server = await listenOnLoopback((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const text = Buffer.concat(chunks).toString('utf8');
        const r = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), body: text ? (JSON.parse(text) as unknown) : null };
        this.requests.push(r);
        const a = this.answer(r);
        res.writeHead(a.status ?? 200, { 'content-type': 'application/json', ...a.headers });
        res.end(JSON.stringify(a.body));
      });
    });
    return loopbackUrl(this.server);
  }
  async stop(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }
}

const fakes: Fake[] = [];
async function serve(answer: ConstructorParameters<typeof Fake>[0]): Promise<{ fake: Fake; url: string }> {
  const fake = new Fake(answer);
  fakes.push(fake);
  return { fake, url: await fake.start() };
}
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

const failure = async (p: Promise<unknown>): Promise<ConnectorError> => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectorError);
  return err as ConnectorError;
};

// ---------------------------------------------------------------- WooCommerce

const wooProduct = (id: number) => ({ id, name: `Print ${id}`, type: 'simple', sku: `P-${id}`, manage_stock: true, stock_quantity: 3 });
const woo = (url: string, settings: Record<string, unknown> = {}): Connector =>
  createWooConnector({ channelId: 'woo', baseUrl: url, settings, credentials: { consumerKey: 'ck_paging', consumerSecret: 'cs_paging', webhookSecret: 'paging-hook' } });

describe('WooCommerce', () => {
  it('a store that ignores `page` and sends no total: two requests, then an error naming the cause; nothing listed', async () => {
    const { fake, url } = await serve(() => ({ body: Array.from({ length: 100 }, (_, i) => wooProduct(i + 1)) }));
    const err = await failure(woo(url).listCatalog());
    expect(fake.requests.map((r) => r.query.page)).toEqual(['1', '2']);
    expect(err.channelFault).toBe(true);
    expect(err.message).toMatch(/^WooCommerce answered page 2 with the same 100 items as page 1 while trying to list the catalog: the store, or a cache or proxy in front of it, ignores the "page" parameter/);
    expect(err.message).toContain('exclude /wp-json/ from page caching');
    expect(err.message).toContain('took nothing from this list');
  });

  it('the same with X-WP-Total and X-WP-TotalPages (the totals say 3 pages): still stopped at the first repeat', async () => {
    const { fake, url } = await serve(() => ({ body: Array.from({ length: 100 }, (_, i) => wooProduct(i + 1)), headers: { 'x-wp-total': '250', 'x-wp-totalpages': '3' } }));
    await failure(woo(url).listCatalog());
    expect(fake.requests).toHaveLength(2);
  });

  it('stops at the total the store reports: X-WP-TotalPages, else X-WP-Total items, else a short page', async () => {
    // Pages that honour `page` but never run out: the reported totals end the listing.
    const endless = (headers: (page: number) => Record<string, string>) => (r: { query: Record<string, string> }) => {
      const page = Number(r.query.page);
      return { body: Array.from({ length: 10 }, (_, i) => wooProduct(page * 100 + i)), headers: headers(page) };
    };
    const byPages = await serve(endless(() => ({ 'x-wp-totalpages': '2', 'x-wp-total': '999' })));
    expect(await woo(byPages.url, { pageSize: 10 }).listCatalog()).toHaveLength(20);
    expect(byPages.fake.requests).toHaveLength(2);
    const byItems = await serve(endless(() => ({ 'x-wp-total': '30' })));
    expect(await woo(byItems.url, { pageSize: 10 }).listCatalog()).toHaveLength(30);
    expect(byItems.fake.requests).toHaveLength(3);
    const short = await serve((r) => ({ body: Number(r.query.page) < 3 ? Array.from({ length: 10 }, (_, i) => wooProduct(Number(r.query.page) * 100 + i)) : [wooProduct(999)] }));
    expect(await woo(short.url, { pageSize: 10 }).listCatalog()).toHaveLength(21);
    expect(short.fake.requests).toHaveLength(3);
  });

  it('the variations of a variable product are guarded the same way', async () => {
    const { fake, url } = await serve((r) => {
      if (r.path.endsWith('/products')) return { body: [{ id: 7, name: 'Tee', type: 'variable', sku: '' }], headers: { 'x-wp-totalpages': '1' } };
      return { body: Array.from({ length: 100 }, (_, i) => ({ id: 1000 + i, sku: `TEE-${i}`, attributes: [{ name: 'Size', option: String(i) }] })) };
    });
    const err = await failure(woo(url).listCatalog());
    expect(err.message).toMatch(/^WooCommerce answered page 2 with the same 100 items as page 1 while trying to list the variations of product 7/);
    expect(fake.requests.map((r) => r.path.replace('/wp-json/wc/v3', ''))).toEqual(['/products', '/products/7/variations', '/products/7/variations']);
  });

  it('a read answered with products that were not asked for (`include` ignored) is refused, and a push writes nothing', async () => {
    const { fake, url } = await serve(() => ({ body: Array.from({ length: 100 }, (_, i) => wooProduct(i + 1)) }));
    const ref = { productId: '555', variantId: '555' };
    const err = await failure(woo(url).read([{ sku: 'P-555', ref, locationId: WOO_LOCATION }]));
    expect(err.channelFault).toBe(true);
    expect(err.message).toMatch(/ignores the "include" parameter/);
    const pushErr = await failure(woo(url).push([{ sku: 'P-555', ref, locationId: WOO_LOCATION, level: 9, expected: 3, idempotencyKey: 'k' }]));
    expect(pushErr.channelFault).toBe(true);
    expect(fake.requests.every((r) => r.method === 'GET')).toBe(true);
  });
});

// ---------------------------------------------------------------- Shopify

const variant = (n: number) => ({ id: `gid://shopify/ProductVariant/${n}`, sku: `V-${n}`, title: 'Default Title', product: { id: `gid://shopify/Product/${n}`, title: `Print ${n}` }, inventoryItem: { id: `gid://shopify/InventoryItem/${n}` } });
const shopify = (url: string): Connector =>
  createShopifyConnector({ channelId: 'shop', baseUrl: url, settings: { shopDomain: 'paging.myshopify.com' }, credentials: { accessToken: 'shpat_paging', webhookSecret: 'paging-hook' } });
const catalogPage = (nodes: unknown[], endCursor: string) => ({ body: { data: { productVariants: { nodes, pageInfo: { hasNextPage: true, endCursor } } } } });

describe('Shopify', () => {
  it('a server that ignores `after` (same variants, a new cursor each time): two requests, then an error; nothing listed', async () => {
    let n = 0;
    const { fake, url } = await serve(() => catalogPage(Array.from({ length: 250 }, (_, i) => variant(i + 1)), `cursor-${++n}`));
    const err = await failure(shopify(url).listCatalog());
    expect(fake.requests).toHaveLength(2);
    expect((fake.requests[1]!.body as { variables: { after: string } }).variables.after).toBe('cursor-1');
    expect(err.channelFault).toBe(true);
    expect(err.message).toMatch(/^Shopify answered page 2 with the same 250 items as page 1 while trying to list the catalog: Shopify, or a proxy in front of the channel's baseUrl, does not follow the "after" cursor/);
  });

  it('a cursor that comes back (new variants, the same endCursor): two requests, then an error', async () => {
    let n = 0;
    const { fake, url } = await serve(() => {
      n++;
      return catalogPage(Array.from({ length: 250 }, (_, i) => variant(n * 1000 + i)), 'the-same-cursor');
    });
    const err = await failure(shopify(url).listCatalog());
    expect(fake.requests).toHaveLength(2);
    expect(err.message).toMatch(/^Shopify gave a page cursor it had already given \(after page 2\) while trying to list the catalog/);
  });
});

// ---------------------------------------------------------------- Square

const squareItem = (n: number) => ({
  type: 'ITEM',
  id: `ITEM${n}`,
  item_data: { name: `Print ${n}`, variations: [{ type: 'ITEM_VARIATION', id: `VAR${n}`, item_variation_data: { item_id: `ITEM${n}`, name: 'Regular', sku: `SQ-${n}` } }] },
});
const square = (url: string): Connector =>
  createSquareConnector({ channelId: 'square', baseUrl: url, settings: { notificationUrl: 'https://hub.example/v1/webhooks/square', merchantId: 'MLPAGING01' }, credentials: { accessToken: 'EAAA_paging', webhookSignatureKey: 'paging-key' } });

describe('Square', () => {
  it('ListCatalog ignoring `cursor`: two requests, then an error; nothing listed', async () => {
    let n = 0;
    const { fake, url } = await serve(() => ({ body: { objects: Array.from({ length: 100 }, (_, i) => squareItem(i + 1)), cursor: `c${++n}` } }));
    const err = await failure(square(url).listCatalog());
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]!.query.cursor).toBe('c1');
    expect(err.channelFault).toBe(true);
    expect(err.message).toMatch(/^Square answered page 2 with the same 100 items as page 1 while trying to list the catalog: Square, or a proxy in front of the channel's baseUrl, does not follow the "cursor" of ListCatalog/);
  });

  it('BatchRetrieveInventoryCounts giving its cursor back: two requests, then an error (a reconciliation read)', async () => {
    let n = 0;
    const { fake, url } = await serve(() => {
      n++;
      return { body: { counts: [{ catalog_object_id: 'VAR1', catalog_object_type: 'ITEM_VARIATION', state: 'IN_STOCK', location_id: 'L1', quantity: String(n), calculated_at: `2026-01-01T00:00:0${n}Z` }], cursor: 'stuck' } };
    });
    const err = await failure(square(url).read([{ sku: 'SQ-1', ref: { productId: 'ITEM1', variantId: 'VAR1' }, locationId: 'L1' }]));
    expect(fake.requests).toHaveLength(2);
    expect(err.message).toMatch(/^Square gave a page cursor it had already given \(after page 2\) while trying to read inventory counts/);
  });
});

// ---------------------------------------------------------------- the guard

describe('PageGuard', () => {
  it('refuses a page seen before (not only the last one), a cursor seen before, and asking past the cap', () => {
    const g = new PageGuard({ platform: 'X', what: 'list things', hint: 'it ignores paging', maxPages: 4 });
    g.page(['a', 'b'], 'c1');
    g.page(['c', 'd'], 'c2');
    expect(() => g.page(['a', 'b'], 'c3')).toThrow(/^X answered page 3 with the same 2 items as page 1 while trying to list things: it ignores paging\./);
    const h = new PageGuard({ platform: 'X', what: 'list things', hint: 'h' });
    h.page(['a'], 'c1');
    expect(() => h.page(['b'], 'c1')).toThrow(/cursor it had already given \(after page 2\)/);
    const cap = new PageGuard({ platform: 'X', what: 'list things', hint: 'h', maxPages: 3 });
    for (let i = 0; i < 3; i++) {
      cap.more();
      cap.page([`item-${i}`], `c${i}`);
    }
    expect(() => cap.more()).toThrow(/^X still had more after 3 pages \(3 items\) while trying to list things, the most the hub reads in one go/);
    expect(MAX_PAGES).toBe(2000);
  });

  it('lets through empty pages, the same items in another order (a list that moved), and a last page with no cursor', () => {
    const g = new PageGuard({ platform: 'X', what: 'w', hint: 'h' });
    g.page([], 'c1');
    g.page([], 'c2');
    g.page(['a', 'b'], 'c3');
    g.page(['b', 'a'], null);
    g.page(['c'], null);
    expect(g.count).toBe(5);
  });

  it('throws what it is given to throw, else a channel-fault ConnectorError', () => {
    const own = new PageGuard({ platform: 'X', what: 'w', hint: 'h', error: (m) => new RangeError(m) });
    own.page(['a']);
    expect(() => own.page(['a'])).toThrow(RangeError);
    const def = new PageGuard({ platform: 'X', what: 'w', hint: 'h' });
    def.page(['a']);
    let caught: unknown;
    try {
      def.page(['a']);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConnectorError);
    expect((caught as ConnectorError).channelFault).toBe(true);
  });
});

// ---------------------------------------------------------------- discovery through the hub

describe('catalog discovery through the hub against a store that starts ignoring `page`', () => {
  it('answers 502 with the guard’s message after two requests, and keeps the map found before', async () => {
    const catalog = Array.from({ length: 150 }, (_, i) => wooProduct(i + 1));
    let ignorePage = false;
    const { fake, url } = await serve((r) => {
      const page = ignorePage ? 1 : Number(r.query.page);
      const headers: Record<string, string> = ignorePage ? {} : { 'x-wp-total': '150', 'x-wp-totalpages': '2' };
      return { body: catalog.slice((page - 1) * 100, page * 100), headers };
    });
    const t = await startHub('sqlite', {
      file: {
        locations: [{ id: 'gallery', name: 'Gallery' }],
        engine: { reconcileEveryMs: 0 },
        channels: [{ id: 'woo', name: 'Online shop', platform: 'woocommerce', baseUrl: url, locations: { gallery: WOO_LOCATION }, credentials: { consumerKey: 'P_KEY', consumerSecret: 'P_SECRET', webhookSecret: 'P_HOOK' } }],
      },
      env: { P_KEY: 'ck_paging', P_SECRET: 'cs_paging', P_HOOK: 'paging-hook' },
    });
    try {
      for (const sku of ['P-1', 'P-120', 'P-150']) await t.api('PUT', `/v1/items/${sku}`, { title: sku });
      const first = await t.api('POST', '/v1/channels/woo/discover');
      expect(first.status).toBe(200);
      expect(first.body.matched.map((m: { sku: string }) => m.sku)).toEqual(['P-1', 'P-120', 'P-150']);
      const mapped = (await t.api('GET', '/v1/channels/woo/listings')).body.listings;

      ignorePage = true;
      fake.requests.length = 0;
      const again = await t.api('POST', '/v1/channels/woo/discover');
      expect(again.status).toBe(502);
      expect(again.body.error.code).toBe('channel_unreachable');
      expect(again.body.error.message).toMatch(/^Online shop could not be read: WooCommerce answered page 2 with the same 100 items as page 1 while trying to list the catalog/);
      expect(fake.requests.map((r) => r.query.page)).toEqual(['1', '2']);
      // Nothing mapped wrongly: P-120 and P-150 (only on page 2) are still mapped, nothing was replaced.
      expect((await t.api('GET', '/v1/channels/woo/listings')).body.listings).toEqual(mapped);
    } finally {
      await t.close();
    }
  });
});
