/**
 * The Shopify connector's calls to the Admin GraphQL API, through the official
 * `@shopify/admin-api-client`. That client always builds `https://<shopDomain>/admin/api/<v>/graphql.json`;
 * when the channel gives a `baseUrl` (a sandbox or the emulator on http://127.0.0.1), the client's
 * `customFetchApi` hook sends the same request, path and headers to that address instead.
 */
import { createAdminApiClient, type AdminApiClient } from '@shopify/admin-api-client';
import {
  ConnectorError,
  type ConnectorContext,
  type LevelReading,
  type ListingRef,
  type PlatformListing,
  type PushOutcome,
  type PushTarget,
} from '../types';
import { chunks, parseRetryAfter, requestKey } from '../../util';
import { inventoryLevelGid } from './ids';
import { PageGuard } from '../paging';
import { CATALOG_QUERY, PRODUCT_STATUS_MUTATION, READ_QUERY, RETURN_QUERY, adjustMutation, setMutation } from './queries';

export const DEFAULT_API_VERSION = '2026-04';
export const MAX_BATCH = 250;
export type ShopifyPushMode = 'compare_and_set' | 'idempotent_delta';

interface UserError {
  code?: string | null;
  field?: string[] | null;
  message: string;
}

interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

/** The index of the quantity a user error is about (`["input","quantities","3","quantity"]` → 3). */
function indexOf(field: string[] | null | undefined, list: string): number | null {
  if (!Array.isArray(field)) return null;
  const at = field.indexOf(list);
  if (at < 0) return null;
  const n = Number(field[at + 1]);
  return Number.isInteger(n) && n >= 0 ? n : null;
}

function versionAtLeast(version: string, min: string): boolean {
  return version === 'unstable' || version >= min;
}

interface Pending {
  index: number;
  target: PushTarget;
  inventoryItemId: string;
  changeFrom: number;
}

export class ShopifyClient {
  readonly apiVersion: string;
  readonly pushMode: ShopifyPushMode;
  private readonly client: AdminApiClient;
  private readonly token: string;
  private readonly pageSize: number;

  constructor(ctx: ConnectorContext) {
    const shopDomain = ctx.settings.shopDomain;
    if (typeof shopDomain !== 'string' || shopDomain.trim() === '') throw new ConnectorError('The Shopify channel needs the setting shopDomain (e.g. my-shop.myshopify.com).', false);
    const apiVersion = ctx.settings.apiVersion ?? DEFAULT_API_VERSION;
    if (typeof apiVersion !== 'string' || !/^(\d{4}-(01|04|07|10)|unstable)$/.test(apiVersion)) {
      throw new ConnectorError(`The Shopify setting apiVersion must look like ${DEFAULT_API_VERSION}.`, false);
    }
    if (!versionAtLeast(apiVersion, '2026-01')) {
      throw new ConnectorError(`Shopify API version ${apiVersion} is too old for this connector: it needs 2026-01 or later (changeFromQuantity and @idempotent).`, false);
    }
    const mode = ctx.settings.pushMode ?? 'compare_and_set';
    if (mode !== 'compare_and_set' && mode !== 'idempotent_delta') throw new ConnectorError('The Shopify setting pushMode must be compare_and_set or idempotent_delta.', false);
    const pageSize = ctx.settings.pageSize ?? 250;
    if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 250) throw new ConnectorError('The Shopify setting pageSize must be a whole number from 1 to 250.', false);
    const token = ctx.credentials.accessToken;
    if (!token) throw new ConnectorError('The Shopify channel needs the credential accessToken.', false);

    this.apiVersion = apiVersion;
    this.pushMode = mode;
    this.pageSize = pageSize;
    this.token = token;
    const fetchImpl = ctx.fetch ?? fetch;
    const domain = shopDomain.trim();
    const storeOrigin = new URL(/^https?:/.test(domain) ? domain : `https://${domain}`);
    storeOrigin.protocol = 'https';
    const from = storeOrigin.origin;
    const to = ctx.baseUrl ? ctx.baseUrl.replace(/\/+$/, '') : null;
    this.client = createAdminApiClient({
      storeDomain: domain,
      apiVersion,
      accessToken: token,
      userAgentPrefix: 'stockrelay',
      retries: 0,
      // The library only warns about versions; the check above is ours.
      logger: () => undefined,
      customFetchApi: (url, init) => {
        const u = typeof url === 'string' ? url : String(url);
        return fetchImpl(to && u.startsWith(from) ? to + u.slice(from.length) : u, init);
      },
    });
  }

  private scrub(msg: string): string {
    return this.token ? msg.split(this.token).join('[redacted]') : msg;
  }

  /**
   * A read that pages through a large shop (catalog discovery, level reads): when Shopify throttles
   * it, wait as long as Shopify's cost bucket says and go on, rather than fail the whole listing.
   * Pushes are not paced here: the dispatcher paces them by the same bucket.
   */
  async callPaced<T>(query: string, variables: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.call<T>(query, variables, signal);
      } catch (err) {
        const wait = err instanceof ConnectorError && err.retryable ? err.retryAfterMs : null;
        if (wait === null || wait > 30_000 || attempt >= 10) throw err;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, wait);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(signal.reason as Error);
          }, { once: true });
        });
      }
    }
  }

  /** One GraphQL call; every failure becomes a ConnectorError saying whether a retry may help. */
  async call<T>(query: string, variables: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    const res = await this.client.request<T>(query, { variables, ...(signal ? { signal } : {}) });
    signal?.throwIfAborted();
    const errors = res.errors;
    if (!errors) {
      if (res.data === undefined || res.data === null) throw new ConnectorError('Shopify answered without data.', true);
      return res.data as T;
    }
    const status = errors.networkStatusCode ?? null;
    const gqlErrors = (errors.graphQLErrors ?? []) as { message?: string; extensions?: { code?: string } }[];
    if (gqlErrors.some((e) => e.extensions?.code === 'THROTTLED')) {
      const cost = (res.extensions as { cost?: { requestedQueryCost?: number; throttleStatus?: ThrottleStatus } } | undefined)?.cost;
      const t = cost?.throttleStatus;
      let wait = 1000;
      if (t && t.restoreRate > 0) {
        const need = Math.max(1, (cost?.requestedQueryCost ?? t.maximumAvailable / 10) - t.currentlyAvailable);
        wait = Math.ceil((need / t.restoreRate) * 1000);
      }
      throw new ConnectorError(`Shopify throttled the request (query cost budget used up); retry in ${Math.ceil(wait / 1000)} s.`, true, wait, status);
    }
    if (status === null) {
      throw new ConnectorError(this.scrub(`Shopify could not be reached: ${errors.message ?? 'network error'}.`), true);
    }
    const retryAfter = parseRetryAfter(errors.response?.headers.get('retry-after'));
    if (status === 429) throw new ConnectorError(`Shopify is rate limiting this app (HTTP 429)${retryAfter !== null ? `; retry in ${Math.ceil(retryAfter / 1000)} s` : ''}.`, true, retryAfter ?? 1000, 429);
    if (status === 401) throw new ConnectorError('Shopify refused the access token (HTTP 401): check the accessToken credential of this channel.', false, null, 401);
    if (status === 402) throw new ConnectorError('Shopify says this shop is frozen or unpaid (HTTP 402).', false, null, 402);
    if (status === 403) throw new ConnectorError('Shopify refused the request (HTTP 403): the app lacks an access scope (write_inventory, write_products, read_products).', false, null, 403);
    if (status === 404) throw new ConnectorError(`Shopify does not know this shop or API version ${this.apiVersion} (HTTP 404): check shopDomain and apiVersion.`, false, null, 404);
    if (status === 423) throw new ConnectorError('Shopify says this shop is locked (HTTP 423).', false, null, 423);
    if (status >= 500) throw new ConnectorError(`Shopify had a server error (HTTP ${status}); it will be retried.`, true, retryAfter, status);
    if (gqlErrors.length > 0) {
      const msgs = gqlErrors.map((e) => e.message ?? e.extensions?.code ?? 'error').join('; ');
      throw new ConnectorError(this.scrub(`Shopify rejected the request: ${msgs}`), false, null, status);
    }
    throw new ConnectorError(this.scrub(`Shopify answered HTTP ${status}: ${errors.message ?? ''}`.trim()), status === 408, null, status);
  }

  // ---------------------------------------------------------------- read

  async read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]> {
    const out: LevelReading[] = [];
    const wanted = items
      .map((it) => ({ it, id: it.ref.inventoryItemId ? inventoryLevelGid(it.ref.inventoryItemId, it.locationId) : null }))
      .filter((x): x is { it: (typeof items)[number]; id: string } => x.id !== null);
    for (const chunk of chunks(wanted, MAX_BATCH)) {
      const levels = await this.readLevelMap(chunk.map((c) => c.id), signal);
      for (const c of chunk) {
        const available = levels.get(c.id);
        if (available !== undefined) out.push({ sku: c.it.sku, ref: c.it.ref, locationId: c.it.locationId, available });
      }
    }
    return out;
  }

  /** InventoryLevel id → available; an item not stocked at a location is absent. */
  private async readLevelMap(ids: string[], signal?: AbortSignal): Promise<Map<string, number>> {
    const map = new Map<string, number>();
    if (ids.length === 0) return map;
    type Node = { id: string; quantities?: { name: string; quantity: number }[] } | null;
    const data = await this.call<{ nodes: Node[] }>(READ_QUERY, { ids }, signal);
    for (const [i, node] of (data.nodes ?? []).entries()) {
      const q = node?.quantities?.find((x) => x.name === 'available');
      if (node && q && typeof q.quantity === 'number') map.set(ids[i] ?? node.id, q.quantity);
    }
    return map;
  }

  // ---------------------------------------------------------------- push

  async push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]> {
    const outcomes: (PushOutcome | undefined)[] = new Array(targets.length);
    const usable: { index: number; target: PushTarget; inventoryItemId: string; levelId: string }[] = [];
    targets.forEach((target, index) => {
      const item = target.ref.inventoryItemId;
      const levelId = item ? inventoryLevelGid(item, target.locationId) : null;
      if (!item || !levelId) {
        outcomes[index] = { sku: target.sku, locationId: target.locationId, status: 'failed', message: 'This listing has no Shopify inventory item or location id; run catalog discovery again.' };
      } else if (!Number.isInteger(target.level) || target.level < 0) {
        outcomes[index] = { sku: target.sku, locationId: target.locationId, status: 'failed', message: `Shopify needs a whole, non-negative level (got ${target.level}).` };
      } else {
        usable.push({ index, target, inventoryItemId: item, levelId });
      }
    });
    for (const chunk of chunks(usable, MAX_BATCH)) {
      // Never blind: a target whose level we never saw is read first, and that reading is the compare value.
      const unknown = chunk.filter((c) => c.target.expected === null);
      const seen = unknown.length > 0 ? await this.readLevelMap(unknown.map((c) => c.levelId), signal) : new Map<string, number>();
      const pending: Pending[] = [];
      for (const c of chunk) {
        const changeFrom = c.target.expected ?? seen.get(c.levelId);
        if (changeFrom === undefined) {
          outcomes[c.index] = { sku: c.target.sku, locationId: c.target.locationId, status: 'failed', message: 'Shopify does not stock this item at this location (activate it there first).' };
        } else {
          pending.push({ index: c.index, target: c.target, inventoryItemId: c.inventoryItemId, changeFrom });
        }
      }
      await this.pushPending(pending, outcomes, signal);
    }
    return outcomes.map((o, i) => o ?? { sku: targets[i]!.sku, locationId: targets[i]!.locationId, status: 'failed', message: 'Shopify gave no answer for this item.' });
  }

  /**
   * Sends one batch; Shopify applies a batch entirely or not at all. Quantities refused as stale are
   * answered `stale` with the level read now; refused ones `failed`; the rest are sent again.
   */
  private async pushPending(pending: Pending[], outcomes: (PushOutcome | undefined)[], signal?: AbortSignal): Promise<void> {
    let rest = pending;
    for (let round = 0; rest.length > 0 && round < 4; round++) {
      const delta = this.pushMode === 'idempotent_delta';
      const list = rest.map((p) =>
        delta
          ? { inventoryItemId: p.inventoryItemId, locationId: p.target.locationId, delta: p.target.level - p.changeFrom, changeFromQuantity: p.changeFrom }
          : { inventoryItemId: p.inventoryItemId, locationId: p.target.locationId, quantity: p.target.level, changeFromQuantity: p.changeFrom },
      );
      const key = requestKey([delta ? 'adjust' : 'set', rest.map((p) => p.target.idempotencyKey), list]);
      const input = {
        name: 'available',
        reason: 'correction',
        referenceDocumentUri: `stockrelay://push/${key}`,
        ...(delta ? { changes: list } : { quantities: list }),
      };
      type Payload = { userErrors: UserError[] };
      let userErrors: UserError[];
      if (delta) {
        const data = await this.call<{ inventoryAdjustQuantities: Payload | null }>(adjustMutation(key), { input }, signal);
        userErrors = data.inventoryAdjustQuantities?.userErrors ?? [];
      } else {
        const data = await this.call<{ inventorySetQuantities: Payload | null }>(setMutation(key), { input }, signal);
        userErrors = data.inventorySetQuantities?.userErrors ?? [];
      }
      if (userErrors.length === 0) {
        for (const p of rest) outcomes[p.index] = { sku: p.target.sku, locationId: p.target.locationId, status: 'applied', level: p.target.level };
        return;
      }
      const listName = delta ? 'changes' : 'quantities';
      const stale = new Set<number>();
      const refused = new Map<number, string>();
      for (const e of userErrors) {
        const i = indexOf(e.field, listName);
        if (i === null || i >= rest.length) {
          // An error about the whole request, not one quantity: nothing was applied, and no item was
          // refused. A fault of the channel (the hub's request or the shop's setup), not a dead letter
          // for every item in it: the pushes are kept and retried, and the channel alerts if it lasts.
          throw new ConnectorError(this.scrub(`Shopify refused the whole inventory change (${e.code ?? 'no code'}: ${e.message}); no item was changed.`), false, null, 200, { channelFault: true });
        }
        if (e.code === 'CHANGE_FROM_QUANTITY_STALE' || e.code === 'COMPARE_QUANTITY_STALE') stale.add(i);
        else refused.set(i, e.message);
      }
      const staleOnes = rest.filter((_, i) => stale.has(i) && !refused.has(i));
      if (staleOnes.length > 0) {
        const now = await this.readLevelMap(staleOnes.map((p) => inventoryLevelGid(p.inventoryItemId, p.target.locationId)!), signal);
        for (const p of staleOnes) {
          const observed = now.get(inventoryLevelGid(p.inventoryItemId, p.target.locationId)!) ?? null;
          outcomes[p.index] = { sku: p.target.sku, locationId: p.target.locationId, status: 'stale', observed };
        }
      }
      rest.forEach((p, i) => {
        const msg = refused.get(i);
        if (msg !== undefined) outcomes[p.index] = { sku: p.target.sku, locationId: p.target.locationId, status: 'failed', message: `Shopify refused the change: ${msg}` };
      });
      rest = rest.filter((_, i) => !stale.has(i) && !refused.has(i));
    }
  }

  // ---------------------------------------------------------------- hide / relist

  async setProductStatus(ref: ListingRef, status: 'DRAFT' | 'ACTIVE', signal?: AbortSignal): Promise<void> {
    if (!ref.productId) throw new ConnectorError('This listing has no Shopify product id; run catalog discovery again.', false);
    type Payload = { productUpdate: { product: { id: string; status: string } | null; userErrors: UserError[] } | null };
    const data = await this.call<Payload>(PRODUCT_STATUS_MUTATION, { product: { id: ref.productId, status } }, signal);
    const errs = data.productUpdate?.userErrors ?? [];
    if (errs.length > 0) throw new ConnectorError(`Shopify refused to set product ${ref.productId} to ${status}: ${errs.map((e) => e.message).join('; ')}`, false);
  }

  // ---------------------------------------------------------------- returns

  /**
   * The Return a `returns/process` webhook names, with its exchange line items (the units going out
   * in a native exchange), as GraphQL answers it; null when Shopify has no such Return. Needs the
   * `read_returns` access scope.
   */
  async fetchReturn(returnId: string, signal?: AbortSignal): Promise<Record<string, unknown> | null> {
    const data = await this.call<{ return: Record<string, unknown> | null }>(RETURN_QUERY, { id: returnId }, signal);
    return data.return ?? null;
  }

  // ---------------------------------------------------------------- catalog

  async listCatalog(signal?: AbortSignal): Promise<PlatformListing[]> {
    type Node = { id: string; sku: string | null; title: string | null; product: { id: string; title: string } | null; inventoryItem: { id: string } | null };
    type Page = { productVariants: { nodes: Node[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const out: PlatformListing[] = [];
    let after: string | null = null;
    const guard = new PageGuard({ platform: 'Shopify', what: 'list the catalog', hint: 'Shopify, or a proxy in front of the channel\'s baseUrl, does not follow the "after" cursor of the productVariants query' });
    for (;;) {
      const data: Page = await this.callPaced<Page>(CATALOG_QUERY, { first: this.pageSize, after }, signal);
      const nodes = data?.productVariants?.nodes;
      if (!Array.isArray(nodes)) throw new ConnectorError('Shopify answered the catalog query without a list of product variants.', true);
      const info = data.productVariants.pageInfo;
      const more = info?.hasNextPage === true && typeof info.endCursor === 'string' && info.endCursor !== '';
      guard.page(
        nodes.map((v) => String(v?.id)),
        more ? info.endCursor : null,
      );
      for (const v of nodes) {
        const productTitle = v.product?.title ?? '';
        const variantTitle = v.title && v.title !== 'Default Title' ? v.title : '';
        out.push({
          sku: v.sku && v.sku.trim() !== '' ? v.sku : null,
          title: variantTitle ? `${productTitle} — ${variantTitle}` : productTitle,
          ref: { productId: v.product?.id ?? '', variantId: v.id, inventoryItemId: v.inventoryItem?.id },
        });
      }
      if (!more) return out;
      guard.more();
      after = info.endCursor;
    }
  }
}
