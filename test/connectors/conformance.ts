/**
 * The connector conformance suite (issue #16): one set of tests, run unchanged for every connector
 * against its emulator, as test/store/conformance.ts is for the stores. A connector's file
 * `test/connectors/<platform>.conformance.test.ts` calls `connectorConformance(subject)`; the subject
 * says only what differs per platform (how to start its emulator, the connector's settings, where
 * the signature and the topic travel, how a push mode is chosen, the platform's official vectors and
 * documented examples). Everything else is generic. What it checks (docs/connectors.md, "The
 * conformance suite"):
 * - verify: every delivery the emulator sends for a real sale, refund, edit and push verifies; a
 *   tampered body, a wrong key and a missing signature are refused; the platform's official vectors
 *   pass; a delivery for another account signed with the same secret is refused; a topic that
 *   travels outside the signature cannot change what a signed body means;
 * - translate: every delivery translates (after `expand`), identically when delivered again; the
 *   documented examples give the facts they should; a sale of a listing the hub never mapped still
 *   names its listing;
 * - push in every declared mode: applied and read back, a retry with the same key applied once (also
 *   after a write whose answer never came), a change made on the platform never overwritten (compare-and-set and absolute sets answer stale),
 *   an absolute set's read-back catching a sale that landed after the write; read; hide and relist;
 *   discovery across pages, and a server that ignores paging stopped;
 * - errors: 401, 403 and a missing route are faults of the channel, not retried at once; 5xx and no
 *   answer are retried; a 429 carries its Retry-After (or is waited out); a refusal of one item fails
 *   that item only; `expand` turns a refused fetch into a fault of the channel —
 *   and through the real ChannelSink and Dispatcher: a failing channel keeps its rows, is suspended
 *   with an alert and resumes, a refused item is dead-lettered alone, and a burst of pushes of levels
 *   never read, every request of theirs (reads included) paced by `limiterFor(capabilities.rateLimit)`
 *   as the hub's registry paces it, never meets the emulator's limit (a platform that publishes
 *   none: every 429 is honoured before the next request);
 * - capabilities are true: every declared webhook topic was sent and translated, every polled feed read.
 * A platform that reports levels only through a polled feed (`levelFeed`: Squarespace) has that feed
 * read wherever level webhooks would be, and a level feed's new sale shows as the level it left; a
 * platform whose refunds never say whether goods went back (`restockReported: false`) shows a refund
 * with restock as the units seen back in a level, not as a restocked line.
 * A platform that sends no webhooks at all (PrestaShop's core) declares none: what it "sends" for a
 * sale, a refund or an edit is then what its polled feeds find, read by the suite from their start,
 * and verify must refuse every delivery.
 */
import fc from 'fast-check';
import { planFacts } from '../../server/core/channel-plan';
import { ChannelSink } from '../../server/channels/sink';
import type { ChannelConfig, DispatchConfig } from '../../server/config';
import type { ApiFaults, Emulator, LoopbackEmulator } from '../../server/connectors/emulator';
import {
  ConnectorError,
  TranslateError,
  type ChannelFact,
  type Connector,
  type ConnectorDefinition,
  type FactLine,
  type Headers,
  type ListingRef,
  type PushMode,
  type PushOutcome,
  type PushTarget,
  type VerifyResult,
} from '../../server/connectors/types';
import { createLogger } from '../../server/log';
import { Metrics } from '../../server/metrics';
import { Dispatcher } from '../../server/outbox/dispatcher';
import { pacedRequests, RequestPace } from '../../server/connectors/kit/pace';
import { limiterFor, type Limiter } from '../../server/outbox/rate-limit';
import { openStore } from '../../server/store/open';
import type { Store } from '../../server/store/types';
import { tempDir } from '../helpers/hub';
import { channelConfig, FakeClock } from '../helpers/pace';
import { WebhookSink, type Received } from './helpers/webhook-sink';

/**
 * A push's answers without `basis` (what a level stands on, where a connector says: opaque to the
 * hub, kept and handed back): checked to be a short string where present, then left out so that
 * the same expectations hold for every platform.
 */
function withoutBasis(outs: PushOutcome[]): PushOutcome[] {
  return outs.map((o) => {
    if (o.status === 'failed' || o.basis === undefined) return o;
    expect(typeof o.basis === 'string' && o.basis.length > 0 && o.basis.length <= 200).toBe(true);
    const { basis: _basis, ...rest } = o;
    return rest;
  });
}

/** One webhook delivery as the hub's door receives it: the raw bytes and the headers. */
export interface Delivery {
  raw: Buffer;
  headers: Record<string, string>;
}

/** What the suite needs of an emulator beyond `Emulator`: the listing ids, its clock's log, the write hook. */
export type ConformanceEmulator = Emulator &
  Pick<LoopbackEmulator, 'arrivals' | 'rateLimited' | 'afterStockWrite'> & {
    /** The platform's ids of the listing with this SKU, as catalog discovery maps them. */
    listing(sku: string): ListingRef | null;
  };

/** One of the platform's published signature vectors (from its SDK's tests, ../shared/specs/). */
export interface SignatureVector {
  name: string;
  raw: string;
  /** The vector's signature header, with the other headers a delivery always carries. */
  headers: Headers;
  /** The vector's key, URL or account where they differ from the channel's own. */
  settings?: Record<string, unknown>;
  credentials?: Record<string, string>;
  /** `valid`, or why the connector refuses it although it is signed right (e.g. no event id). */
  expect: 'valid' | { refusal: 'signature' | 'account' | 'topic'; reason: RegExp };
  /** The same bytes and signature checked with another key or URL, which the platform says must fail. */
  mustFail?: { name: string; settings?: Record<string, unknown>; credentials?: Record<string, string> }[];
}

/** A payload the platform documents, and what it means. */
export interface DocumentedExample {
  name: string;
  topic: string;
  body: unknown;
  headers?: Headers;
  /** The types of the facts it translates to, in order; `unreadable`: a TranslateError (a thin event, unexpanded). */
  expect: ChannelFact['type'][] | 'unreadable';
}

export interface ConformanceSubject<E extends ConformanceEmulator> {
  definition: ConnectorDefinition;
  /**
   * Starts the platform's emulator on 127.0.0.1: for the channel's own account, or another account
   * whose webhooks are signed with the same secret. `rateLimited`: enforce the platform's rate limit
   * (the documented one, or the emulator's stated figure where none is published), counted on `clock`.
   */
  start(opts: { account: 'ours' | 'other'; rateLimited?: boolean; clock?: () => number }): Promise<{ emulator: E; baseUrl: string }>;
  /**
   * The channel's settings and credentials for the emulator of our account; lists must be paged
   * small enough (2 a page) that five listings take several pages.
   */
  context(opts: { baseUrl: string; webhookUrl: string }): { settings: Record<string, unknown>; credentials: Record<string, string> };
  /** The credential that holds the webhook signing secret; null for a platform that sends no webhooks (it declares none and is polled). */
  webhookSecretCredential: string | null;
  /** The headers that carry the signature. */
  signatureHeaders: readonly string[];
  /** The same delivery without its signature, where it does not travel in a header (Wix: a JWT body); default: the signature headers removed. */
  unsign?(d: Delivery): Delivery;
  /** The declared topics this emulator sends, where the platform's accounts differ (Wix catalog V1 and V3 sites); default: all of them. */
  sentTopics?: readonly string[];
  /** The same delivery, claiming another topic where the platform carries it (an unsigned header, or the signed body). */
  retopic(d: Delivery, topic: string): Delivery;
  /**
   * False for a platform that authenticates the sender with a static code and signs nothing of the
   * body (Clover's `X-Clover-Auth`): verify cannot see a changed byte, so a tampered body must
   * instead mean nothing the platform had not already said (its events name objects the connector
   * reads back from the API), and a topic made from the body may be believed.
   */
  bodySigned?: boolean;
  /** How the connector is made to push with this mode: settings, and whether the mode is the one for a level never read. */
  pushMode(mode: PushMode): { settings?: Record<string, unknown>; expectedUnknown?: boolean };
  /** Things done on the platform that send the declared topics a sale, a refund and an edit do not. */
  moreEvents?(emulator: E, at: { sku: string; locationId: string }): Promise<void>;
  /** Whether buyers see the listing, where the platform can hide one. */
  listed?(emulator: E, sku: string): boolean;
  /**
   * For a platform that sends no level webhooks (Squarespace): the polled feed that reports levels.
   * The suite reads it wherever it reads the levels the platform reports.
   */
  levelFeed?: string;
  /**
   * False for a platform whose refunds never say whether goods went back (Squarespace): a refund
   * with restock is then the refund plus the units seen back as a level, not a restocked line.
   */
  restockReported?: boolean;
  vectors: readonly SignatureVector[];
  examples: readonly DocumentedExample[];
  /**
   * True for a connector that, answered 401, gets a fresh token and sends once more (the kit's
   * TokenSource, `onUnauthorized`): a 401 the platform means then answers the retry too.
   */
  renewsTokenOn401?: boolean;
  /** Checks of the emulator itself once the suite ran (Square: no request or answer broke the spec). */
  checkEmulator?(emulator: E): void;
}

/** The hub's channel id in these tests. */
const CHANNEL = 'conformance';
const SKUS = ['CONF-1', 'CONF-2', 'CONF-3', 'CONF-4', 'CONF-5'];
const START_LEVEL = 20;
const silent = createLogger('silent');

function headersOf(r: Received): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) {
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v) && v.length > 0) out[k] = v[0]!;
  }
  return out;
}

/**
 * What a set of facts means to the hub: what would be booked (by key and quantity), the levels
 * reported, cancellations, the order states the transaction log would take, refunds and their money.
 */
/** A delivery's body as the hub's inbox reads it: its JSON, or its text when it is not JSON (a bare JWT). */
function bodyOf(raw: Buffer): unknown {
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function meaning(facts: ChannelFact[]): Set<string> {
  const out = new Set<string>();
  for (const p of planFacts(facts, { channelId: CHANNEL, channelName: CHANNEL, resolve: () => ({ sku: 'SKU', location: 'gallery' }) })) {
    if (p.kind === 'command' && p.command.type === 'adjust') out.add(`book ${p.command.key} ${p.command.quantity}`);
    if (p.kind === 'observed') out.add(`level ${JSON.stringify(p.line.ref)} ${p.line.locationId ?? ''} ${p.available}`);
  }
  for (const f of facts) {
    if (f.type === 'cancellation') out.add(`cancelled ${f.orderId}`);
    if ((f.type === 'sale' || f.type === 'cancellation' || f.type === 'order_updated') && f.order) out.add(`order ${f.orderId} ${f.order.paymentStatus} ${f.order.fulfilmentStatus}`);
    if (f.type === 'refund') out.add(`refund ${f.refundId} ${JSON.stringify(f.money ?? null)}`);
    if (f.type === 'listing_changed') out.add(`listings ${JSON.stringify(f.listings)}`);
  }
  return out;
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (v) => {
      throw new Error(`expected a failure, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
}

/** Whether a ref names this listing: every id it gives is the listing's. */
function refNames(ref: Partial<ListingRef>, listing: ListingRef): boolean {
  const given = Object.entries(ref).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return given.length > 0 && given.every(([k, v]) => (listing as unknown as Record<string, unknown>)[k] === v);
}

export function connectorConformance<E extends ConformanceEmulator>(subject: ConformanceSubject<E>): void {
  const def = subject.definition;
  const caps = def.capabilities;
  const platform = def.platform;

  describe(`${platform} connector conformance`, () => {
    let emu: E;
    let baseUrl: string;
    let sink: WebhookSink;
    let webhookUrl: string;
    let loc: string;
    let fresh = 0;
    /** Every genuine delivery so far, verified, expanded and translated. */
    const genuine: { d: Delivery; topic: string; body: unknown; facts: ChannelFact[] }[] = [];
    const translatedTopics = new Set<string>();
    const readFeeds = new Set<string>();
    /** A platform without webhooks: what it sends is what its feeds show; the suite's own cursors. */
    const pollOnly = caps.webhooks.length === 0;
    const feedCursors = new Map<string, string>();

    const context = () => subject.context({ baseUrl, webhookUrl });
    function connector(over: { settings?: Record<string, unknown>; credentials?: Record<string, string> } = {}): Connector {
      const base = context();
      return def.create({ channelId: CHANNEL, baseUrl, settings: { ...base.settings, ...over.settings }, credentials: { ...base.credentials, ...over.credentials } });
    }
    const secrets = () => Object.values(context().credentials).filter((s) => s.length >= 4);
    const refOf = (sku: string): ListingRef => {
      const ref = emu.listing(sku);
      if (!ref) throw new Error(`The ${platform} emulator has no listing ${sku}.`);
      return ref;
    };
    const target = (sku: string, level: number, expected: number | null, key?: string): PushTarget => ({
      sku,
      ref: refOf(sku),
      locationId: loc,
      level,
      expected,
      idempotencyKey: key ?? `conformance-${sku}-${level}-${expected ?? 'x'}-${fresh}`,
    });
    /** A listing of its own for one test, at `level`. */
    const listingAt = (level: number): string => {
      const sku = `CONF-T${++fresh}`;
      emu.seed([{ sku, title: `Conformance ${sku}`, levels: { [loc]: level } }]);
      return sku;
    };

    /** Where the level feed was last read to (subject.levelFeed). */
    let levelCursor: string | null = null;
    /** The level feed's new events since it was last read, translated (none without subject.levelFeed). */
    async function pollLevels(): Promise<{ topic: string; facts: ChannelFact[] }[]> {
      const feed = subject.levelFeed;
      if (!feed) return [];
      const c = connector();
      const out: { topic: string; facts: ChannelFact[] }[] = [];
      for (let page = 0; page < 50; page++) {
        const r = await c.poll!(feed, levelCursor);
        levelCursor = r.cursor;
        out.push(...r.events.map((ev) => ({ topic: ev.topic, facts: c.translate(ev.topic, ev.body, {}) })));
        if (!r.more) return out;
      }
      throw new Error(`${platform} level feed ${feed} still had more after 50 polls.`);
    }

    /** Reads every polled feed on from the suite's cursors (null: only where each starts), as the hub's poller does. */
    async function pollFeeds(start: boolean): Promise<{ topic: string; facts: ChannelFact[] }[]> {
      const out: { topic: string; facts: ChannelFact[] }[] = [];
      const c = connector();
      for (const feed of caps.polled) {
        for (let page = 0; page < 50; page++) {
          const r = await c.poll!(feed, start ? null : (feedCursors.get(feed) ?? null));
          feedCursors.set(feed, r.cursor);
          for (const ev of r.events) {
            const d = { raw: Buffer.from(JSON.stringify(ev.body)), headers: {} };
            const translate = async () => c.translate(ev.topic, c.expand ? await c.expand(ev.topic, ev.body) : ev.body, {});
            const got = await translate();
            expect(await translate()).toEqual(got);
            genuine.push({ d, topic: ev.topic, body: ev.body, facts: got });
            out.push({ topic: ev.topic, facts: got });
          }
          if (!r.more || start) break;
        }
      }
      return out;
    }

    /** Verifies, expands and translates every delivery received so far; each must pass, and the same again. */
    async function collect(): Promise<{ topic: string; facts: ChannelFact[] }[]> {
      await emu.flushWebhooks();
      if (pollOnly) return pollFeeds(false);
      const out: { topic: string; facts: ChannelFact[] }[] = [];
      for (const r of sink.received.splice(0)) {
        const d = { raw: r.raw, headers: headersOf(r) };
        const c = connector();
        const v = c.verify(d.raw, d.headers);
        if (!v.valid) throw new Error(`The ${platform} emulator sent a delivery its connector refuses: ${v.reason}`);
        // Delivered again: the same event id (the inbox dedupes on it) and the same facts.
        expect(c.verify(Buffer.from(d.raw), { ...d.headers })).toEqual(v);
        const translate = async () => {
          const body = bodyOf(d.raw);
          const expanded = c.expand ? await c.expand(v.topic, body) : body;
          return { body, facts: c.translate(v.topic, expanded, d.headers) };
        };
        const first = await translate();
        expect((await translate()).facts).toEqual(first.facts);
        translatedTopics.add(v.topic);
        genuine.push({ d, topic: v.topic, body: first.body, facts: first.facts });
        out.push({ topic: v.topic, facts: first.facts });
      }
      out.push(...(await pollLevels()));
      return out;
    }

    const facts = (got: { facts: ChannelFact[] }[]) => got.flatMap((g) => g.facts);
    const levelsOf = (got: { facts: ChannelFact[] }[], sku: string) =>
      facts(got).filter((f): f is Extract<ChannelFact, { type: 'level_observed' }> => f.type === 'level_observed' && (f.sku === sku || refNames(f.ref, refOf(sku))));
    const linesOf = <L extends FactLine>(lines: L[], sku: string): L[] => lines.filter((l) => l.sku === sku || refNames(l.ref, refOf(sku)));

    beforeAll(async () => {
      sink = new WebhookSink(`/v1/webhooks/${CHANNEL}`);
      webhookUrl = await sink.start();
      ({ emulator: emu, baseUrl } = await subject.start({ account: 'ours' }));
      emu.subscribe(webhookUrl);
      loc = emu.locations()[0]!;
      emu.seed(SKUS.map((sku) => ({ sku, title: `Conformance ${sku}`, levels: { [loc]: START_LEVEL } })));
      await pollLevels();
      if (pollOnly) await pollFeeds(true);
    });

    afterEach(async () => {
      emu.faults.api = {};
      emu.afterStockWrite = null;
      // Whatever a test made the platform send must verify and translate too.
      await collect();
    });

    afterAll(async () => {
      await emu?.stop();
      await sink?.stop();
    });

    // ------------------------------------------------------------------ declarations

    test('declares what the engine relies on: its platform, push modes, batch size, topics, a rate-limit model, its credentials and settings', () => {
      expect(caps.platform).toBe(platform);
      expect(caps.push.length).toBeGreaterThan(0);
      expect(new Set(caps.push).size).toBe(caps.push.length);
      for (const m of caps.push) expect(['compare_and_set', 'idempotent_delta', 'absolute_set']).toContain(m);
      expect(Number.isInteger(caps.maxBatch) && caps.maxBatch >= 1).toBe(true);
      // Something must tell the hub what happens on the platform: webhooks, or feeds it polls.
      expect(caps.webhooks.length + caps.polled.length).toBeGreaterThan(0);
      expect(new Set(caps.webhooks).size).toBe(caps.webhooks.length);
      expect(limiterFor(caps.rateLimit).description).toBe(caps.rateLimit.description);
      if (subject.webhookSecretCredential !== null) expect(def.credentials).toContain(subject.webhookSecretCredential);
      else expect(caps.webhooks).toEqual([]);
      const { settings, credentials } = context();
      for (const s of def.requiredSettings) expect(settings).toHaveProperty([s]);
      for (const c of def.credentials) expect(credentials).toHaveProperty([c]);
    });

    // ------------------------------------------------------------------ what the platform sends

    describe('webhooks the platform sends', () => {
      test('a sale, a refund that restocks, one that does not, and an edit on the platform send deliveries that verify and translate to what happened', async () => {
        const { orderId } = await emu.sell({ sku: 'CONF-1', quantity: 2, locationId: loc });
        let got = await collect();
        const sale = facts(got).find((f) => f.type === 'sale' && f.orderId === orderId);
        expect(sale?.type === 'sale' && linesOf(sale.lines, 'CONF-1').map((l) => l.quantity)).toEqual([2]);
        expect(levelsOf(got, 'CONF-1').map((f) => f.available)).toContain(START_LEVEL - 2);

        await emu.refund({ orderId, restock: true, quantity: 1 });
        got = await collect();
        // Several deliveries may carry the same refund (an order update and a refund event): one booking key each.
        const restocked = new Map<string, number>(facts(got).flatMap((f) => (f.type === 'refund' && f.orderId === orderId ? linesOf(f.lines, 'CONF-1').filter((l) => l.restock).map((l): [string, number] => [`${f.refundId} ${l.lineId}`, l.quantity]) : [])));
        // A platform whose refunds never say whether goods went back reports them as a level only.
        expect([...restocked.values()]).toEqual(subject.restockReported === false ? [] : [1]);
        expect(emu.level('CONF-1', loc)).toBe(START_LEVEL - 1);
        expect(levelsOf(got, 'CONF-1').map((f) => f.available)).toContain(START_LEVEL - 1);

        await emu.refund({ orderId, restock: false, quantity: 1 });
        got = await collect();
        // Money went back, the goods did not: nothing restocked but what already was (an order body repeats its earlier refunds).
        const again = facts(got).flatMap((f) => (f.type === 'refund' ? f.lines.filter((l) => l.restock).map((l) => `${f.refundId} ${l.lineId}`) : []));
        expect(again.filter((k) => !restocked.has(k))).toEqual([]);
        expect(emu.level('CONF-1', loc)).toBe(START_LEVEL - 1);

        await emu.setLevel({ sku: 'CONF-2', locationId: loc, available: 7 });
        got = await collect();
        expect(levelsOf(got, 'CONF-2').map((f) => f.available)).toEqual([7]);
        await emu.setLevel({ sku: 'CONF-2', locationId: loc, available: START_LEVEL });
      });

      test('everything else the platform sends for the declared topics verifies and translates', async () => {
        await subject.moreEvents?.(emu, { sku: 'CONF-3', locationId: loc });
        await collect();
        // The level is back where the suite expects it.
        await emu.setLevel({ sku: 'CONF-3', locationId: loc, available: START_LEVEL });
      });
    });

    // ------------------------------------------------------------------ discovery and reads

    describe('catalog discovery and reads', () => {
      test('lists every listing once, across several pages, with the ids that read and push use', async () => {
        const before = emu.requests.length;
        const listings = await connector().listCatalog();
        for (const sku of SKUS) {
          const found = listings.filter((l) => l.sku === sku);
          expect(found).toHaveLength(1);
          expect(refNames(found[0]!.ref, refOf(sku)) && refNames(refOf(sku), found[0]!.ref)).toBe(true);
        }
        expect(emu.requests.length - before).toBeGreaterThanOrEqual(3);
      });

      test('a server that ignores paging is stopped after a few requests, as a fault of the channel, and nothing is listed', async () => {
        emu.faults.api.ignorePaging = true;
        const before = emu.requests.length;
        const err = await rejection(connector().listCatalog());
        expect(err).toBeInstanceOf(ConnectorError);
        expect((err as ConnectorError).channelFault).toBe(true);
        expect((err as ConnectorError).message).toMatch(/took nothing from this list/);
        expect(emu.requests.length - before).toBeLessThanOrEqual(3);
      });

      test('reads the levels the platform shows', async () => {
        const items = SKUS.slice(0, 3).map((sku) => ({ sku, ref: refOf(sku), locationId: loc }));
        const readings = await connector().read(items);
        expect(readings.map((r) => [r.sku, r.locationId, r.available])).toEqual(items.map((i) => [i.sku, loc, emu.level(i.sku, loc)]));
      });
    });

    // ------------------------------------------------------------------ pushes

    describe.each(caps.push.map((m) => [m] as const))('push in mode %s', (mode) => {
      const how = () => subject.pushMode(mode);
      const pusher = () => connector({ settings: how().settings ?? {} });
      const expectedOf = (level: number) => (how().expectedUnknown ? null : level);

      test('sets the level, and the platform shows it (the read says so too)', async () => {
        const sku = listingAt(10);
        const c = pusher();
        expect(withoutBasis(await c.push([target(sku, 7, expectedOf(10))]))).toEqual([{ sku, locationId: loc, status: 'applied', level: 7 }]);
        expect(emu.level(sku, loc)).toBe(7);
        expect((await c.read([{ sku, ref: refOf(sku), locationId: loc }])).map((r) => r.available)).toEqual([7]);
      });

      test('a retry with the same idempotency key is applied once', async () => {
        const sku = listingAt(10);
        const c = pusher();
        const t = target(sku, 6, expectedOf(10), `conformance-retry-${sku}`);
        expect(withoutBasis(await c.push([t]))).toEqual([{ sku, locationId: loc, status: 'applied', level: 6 }]);
        const [again] = await c.push([{ ...t }]);
        // Applied (again, or found already there), or answered with the level it shows: never applied twice.
        expect(again?.status === 'applied' ? again.level : again?.status === 'stale' ? again.observed : again).toBe(6);
        expect(emu.level(sku, loc)).toBe(6);
      });

      test('a write whose answer never came, sent again with the same key, is applied once', async () => {
        const sku = listingAt(10);
        const c = pusher();
        const t = target(sku, 6, expectedOf(10), `conformance-lost-${sku}`);
        emu.faults.api.loseWriteAnswerNext = 1;
        // The write lands, its answer never comes, and the caller gives up (the dispatcher's timeout):
        // it cannot tell whether the write landed.
        const gaveUp = new AbortController();
        emu.afterStockWrite = (written) => {
          if (written === sku) gaveUp.abort(new DOMException('No answer in time.', 'TimeoutError'));
        };
        await rejection(c.push([t], gaveUp.signal));
        emu.afterStockWrite = null;
        expect(emu.faults.api.loseWriteAnswerNext).toBe(0);
        expect(emu.level(sku, loc)).toBe(6);
        const [again] = await c.push([{ ...t }]);
        expect(again?.status === 'applied' ? again.level : again?.status === 'stale' ? again.observed : again).toBe(6);
        expect(emu.level(sku, loc)).toBe(6);
      });

      if (!subject.pushMode(mode).expectedUnknown) {
        test('a change made on the platform since the hub read the level is never overwritten', async () => {
          const sku = listingAt(10);
          await emu.setLevel({ sku, locationId: loc, available: 8 });
          const [out] = withoutBasis(await pusher().push([target(sku, 12, 10)]));
          if (mode === 'idempotent_delta' && out?.status === 'applied') {
            // A delta composes with the change: 8 + (12 − 10).
            expect(emu.level(sku, loc)).toBe(10);
          } else {
            // A stale compare-and-set (and an absolute set read first): refused, with what the platform shows.
            expect(out).toEqual({ sku, locationId: loc, status: 'stale', observed: 8 });
            expect(emu.level(sku, loc)).toBe(8);
          }
        });

        test('a platform that got to the level sent by itself (sent: 7 expecting 10; kept: the platform at 7 after sales the hub has not booked) is never answered as our write', async () => {
          const sku = listingAt(10);
          await emu.setLevel({ sku, locationId: loc, available: 7 });
          const [out] = withoutBasis(await pusher().push([target(sku, 7, 10)]));
          if (mode === 'idempotent_delta' && out?.status === 'applied') {
            // A delta composes with the sales: 7 + (7 − 10), written, never "already there".
            expect(out.wrote).not.toBe(false);
            expect(emu.level(sku, loc)).toBe(4);
          } else {
            // "Applied, nothing written" here would count those sales again when their orders come (the OpenCart burst).
            expect(out).toEqual({ sku, locationId: loc, status: 'stale', observed: 7 });
            expect(emu.level(sku, loc)).toBe(7);
          }
        });
      }

      if (mode === 'absolute_set') {
        test('an absolute set is read back: a sale landing just after the write is reported stale with the level read', async () => {
          const sku = listingAt(10);
          emu.afterStockWrite = (written) => {
            if (written !== sku) return;
            emu.afterStockWrite = null;
            void emu.sell({ sku, quantity: 1, locationId: loc });
          };
          expect(withoutBasis(await pusher().push([target(sku, 7, expectedOf(10))]))).toEqual([{ sku, locationId: loc, status: 'stale', observed: 6 }]);
          expect(emu.level(sku, loc)).toBe(6);
        });
      } else {
        test('the write is one step: a sale landing just after it is the platform’s, and the push says applied', async () => {
          const sku = listingAt(10);
          emu.afterStockWrite = (written) => {
            if (written !== sku) return;
            emu.afterStockWrite = null;
            void emu.sell({ sku, quantity: 1, locationId: loc });
          };
          expect(withoutBasis(await pusher().push([target(sku, 7, expectedOf(10))]))).toEqual([{ sku, locationId: loc, status: 'applied', level: 7 }]);
          expect(emu.level(sku, loc)).toBe(6);
        });
      }
    });

    // ------------------------------------------------------------------ hide and relist

    describe('hide and relist', () => {
      if (caps.hideRelist.supported) {
        test('hide takes the listing out of sight and relist brings it back', async () => {
          const listed = subject.listed;
          if (!listed) throw new Error(`The ${platform} subject must say how to tell whether a listing is shown (listed), since it declares hide/relist.`);
          const sku = listingAt(3);
          expect(listed(emu, sku)).toBe(true);
          await connector().hide(refOf(sku));
          expect(listed(emu, sku)).toBe(false);
          await connector().relist(refOf(sku));
          expect(listed(emu, sku)).toBe(true);
        });
      } else {
        test('hide and relist are refused as not offered, without any request: no retry, and not a fault of the channel', async () => {
          const before = emu.requests.length;
          for (const call of [(c: Connector) => c.hide(refOf('CONF-4')), (c: Connector) => c.relist(refOf('CONF-4'))]) {
            const err = await rejection(call(connector()));
            expect(err).toBeInstanceOf(ConnectorError);
            expect([(err as ConnectorError).retryable, (err as ConnectorError).channelFault]).toEqual([false, false]);
          }
          expect(emu.requests.length).toBe(before);
        });
      }
    });

    // ------------------------------------------------------------------ verify

    describe('verify', () => {
      if (pollOnly) {
        test('a platform that sends no webhooks refuses every delivery, and never throws', () => {
          const c = connector();
          fc.assert(
            fc.property(fc.uint8Array({ maxLength: 300 }), fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.array(fc.string()), fc.constant(undefined))), (bytes, headers) => {
              expect(c.verify(Buffer.from(bytes), headers).valid).toBe(false);
            }),
            { numRuns: 200 },
          );
          for (const g of genuine) expect(c.verify(g.d.raw, g.d.headers).valid).toBe(false);
        });
        return;
      }
      const secret = subject.webhookSecretCredential!;
      const flip = (raw: Buffer): Buffer => {
        const b = Buffer.from(raw);
        const i = Math.floor(b.length / 2);
        b[i] = b[i]! ^ 0x01;
        return b;
      };

      test('a tampered body, a wrong key and a missing signature are refused as signature failures', async () => {
        expect(genuine.length).toBeGreaterThan(0);
        const wrongKey = connector({ credentials: { [secret]: `another-${context().credentials[secret]}` } });
        for (const g of genuine) {
          // What this delivery itself said: a tampered copy may say less, never anything else.
          const said = meaning(g.facts);
          const c = connector();
          if (subject.bodySigned === false) {
            const tampered = flip(g.d.raw);
            const v = c.verify(tampered, g.d.headers);
            if (v.valid) {
              let swappedFacts: ChannelFact[] = [];
              try {
                const body = bodyOf(tampered);
                swappedFacts = c.translate(v.topic, c.expand ? await c.expand(v.topic, body) : body, g.d.headers);
              } catch (err) {
                if (!(err instanceof TranslateError)) throw err;
              }
              expect([...meaning(swappedFacts)].filter((m) => !said.has(m))).toEqual([]);
            } else {
              expect(v.refusal).toMatch(/^(signature|account)$/);
            }
          } else {
            expect(c.verify(flip(g.d.raw), g.d.headers)).toMatchObject({ valid: false, refusal: 'signature' });
          }
          expect(wrongKey.verify(g.d.raw, g.d.headers)).toMatchObject({ valid: false, refusal: 'signature' });
          const unsigned = { ...g.d.headers };
          for (const h of subject.signatureHeaders) delete unsigned[h];
          const bare = subject.unsign ? subject.unsign(g.d) : { raw: g.d.raw, headers: unsigned };
          expect(c.verify(bare.raw, bare.headers)).toMatchObject({ valid: false, refusal: 'signature' });
        }
      });

      if (subject.vectors.length > 0) {
        test.each(subject.vectors.map((v) => [v.name, v] as const))('the official vector %s', (_name, v) => {
          const c = connector({ settings: v.settings ?? {}, credentials: v.credentials ?? {} });
          const raw = Buffer.from(v.raw, 'utf8');
          const r = c.verify(raw, v.headers);
          if (v.expect === 'valid') expect(r).toMatchObject({ valid: true });
          else expect(r).toMatchObject({ valid: false, refusal: v.expect.refusal, reason: expect.stringMatching(v.expect.reason) });
          expect(c.verify(flip(raw), v.headers)).toMatchObject({ valid: false, refusal: 'signature' });
          for (const f of v.mustFail ?? []) {
            const other = connector({ settings: { ...v.settings, ...f.settings }, credentials: { ...v.credentials, ...f.credentials } });
            expect([f.name, other.verify(raw, v.headers)]).toEqual([f.name, expect.objectContaining({ valid: false, refusal: 'signature' })]);
          }
        });
      }

      test('a delivery for another account, signed with the same secret, is refused as another account’s', async () => {
        const { emulator: other } = await subject.start({ account: 'other' });
        try {
          other.subscribe(webhookUrl);
          other.seed([{ sku: 'CONF-1', title: 'Conformance CONF-1', levels: { [other.locations()[0]!]: START_LEVEL } }]);
          await other.sell({ sku: 'CONF-1', quantity: 1, locationId: other.locations()[0]! });
          await other.setLevel({ sku: 'CONF-1', locationId: other.locations()[0]!, available: 3 });
          await other.flushWebhooks();
          const theirs = sink.received.splice(0);
          expect(theirs.length).toBeGreaterThan(0);
          for (const r of theirs) expect(connector().verify(r.raw, headersOf(r))).toMatchObject({ valid: false, refusal: 'account' });
        } finally {
          await other.stop();
        }
      });

      test('a topic that travels outside the signature cannot change what a signed body means', async () => {
        let refused = 0;
        const c = connector();
        // What the platform genuinely said, in any delivery: a swap may repeat it (the hub books the
        // same keys once), never add to it. A body resent under its own topic repeats it the same way.
        const said = new Set(genuine.flatMap((g) => [...meaning(g.facts)]));
        for (const g of genuine) {
          for (const topic of caps.webhooks) {
            if (topic === g.topic) continue;
            const swapped = subject.retopic(g.d, topic);
            const v: VerifyResult = c.verify(swapped.raw, swapped.headers);
            if (!v.valid) {
              refused++;
              expect([g.topic, topic, v.refusal]).toEqual([g.topic, topic, expect.stringMatching(/^(topic|signature)$/)]);
            }
            // Whether the door let it in or not, what translate makes of the body under that topic
            // (an event stored before the check, retried) books nothing the genuine delivery did not.
            const read = v.valid ? v.topic : topic;
            let swappedFacts: ChannelFact[];
            try {
              const body = bodyOf(swapped.raw);
              swappedFacts = c.translate(read, c.expand ? await c.expand(read, body) : body, swapped.headers);
            } catch (err) {
              if (!(err instanceof TranslateError)) throw err;
              continue;
            }
            const extra = [...meaning(swappedFacts)].filter((m) => !said.has(m));
            expect([g.topic, read, extra]).toEqual([g.topic, read, []]);
          }
        }
        if (subject.bodySigned !== false) expect(refused).toBeGreaterThan(0);
      });

      test('never throws, whatever bytes and headers arrive', () => {
        const c = connector();
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 300 }), fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.array(fc.string()), fc.constant(undefined))), (bytes, headers) => {
            expect(typeof c.verify(Buffer.from(bytes), headers).valid).toBe('boolean');
          }),
          { numRuns: 200 },
        );
        // The platform's own headers with garbage in them, and a real body with every header repeated.
        const g = genuine[0]!;
        const doubled: Headers = Object.fromEntries(Object.entries(g.d.headers).map(([k, v]) => [k, [v, `${v}x`]]));
        // Where no header carries the signature (Wix), repeated headers change nothing that is checked.
        if (subject.signatureHeaders.length > 0) expect(c.verify(g.d.raw, doubled).valid).toBe(false);
        else expect(typeof c.verify(g.d.raw, doubled).valid).toBe('boolean');
      });
    });

    // ------------------------------------------------------------------ translate

    describe('translate', () => {
      if (subject.examples.length > 0) {
        test.each(subject.examples.map((e) => [e.name, e] as const))('the documented example %s', (_name, e) => {
          const c = connector();
          const copy = () => JSON.parse(JSON.stringify(e.body)) as unknown;
          if (e.expect === 'unreadable') {
            expect(() => c.translate(e.topic, copy(), e.headers ?? {})).toThrow(TranslateError);
            return;
          }
          const got = c.translate(e.topic, copy(), e.headers ?? {});
          expect(got.map((f) => f.type)).toEqual(e.expect);
          // Delivered again: the same facts (the same booking keys).
          expect(c.translate(e.topic, copy(), e.headers ?? {})).toEqual(got);
        });
      }

      test('expand fetches what a thin event leaves out; a refused fetch is a fault of the channel, never a body translated as if nothing happened', async () => {
        const c = connector();
        if (!c.expand) {
          // Nothing to fetch: every event carries what translate needs.
          for (const g of genuine) expect(() => c.translate(g.topic, bodyOf(g.d.raw), g.d.headers)).not.toThrow();
          return;
        }
        let fetched = 0;
        for (const g of genuine) {
          emu.faults.api.statusNext = { count: 1, status: 401 };
          const outcome = await c.expand(g.topic, bodyOf(g.d.raw)).then(
            () => null,
            (e: unknown) => e,
          );
          const asked = emu.faults.api.statusNext.count === 0;
          if (!asked) {
            // No request: nothing was missing from this event.
            expect([g.topic, outcome]).toEqual([g.topic, null]);
            continue;
          }
          fetched++;
          expect(outcome).toBeInstanceOf(ConnectorError);
          expect([g.topic, (outcome as ConnectorError).status, (outcome as ConnectorError).channelFault]).toEqual([g.topic, 401, true]);
        }
        emu.faults.api = {};
        // Declaring expand means some event of the platform is thin.
        expect(fetched).toBeGreaterThan(0);
      });

      test('a sale of a listing the hub never mapped translates with the platform’s ids and its SKU', async () => {
        emu.seed([{ sku: 'CONF-STRANGER', title: 'Never discovered', levels: { [loc]: 4 } }]);
        const { orderId } = await emu.sell({ sku: 'CONF-STRANGER', quantity: 1, locationId: loc });
        const got = await collect();
        const sale = facts(got).find((f) => f.type === 'sale' && f.orderId === orderId);
        expect(sale?.type === 'sale' && linesOf(sale.lines, 'CONF-STRANGER').map((l) => l.quantity)).toEqual([1]);
      });
    });

    // ------------------------------------------------------------------ polled feeds

    describe('polled feeds', () => {
      if (caps.polled.length === 0) {
        test('declares no feed, and offers no poll', () => {
          expect(connector().poll).toBeUndefined();
        });
      } else {
        test.each(caps.polled.map((f) => [f] as const))('feed %s: read from its start, every event translates, and a new sale (or its refund, or the level it left) shows after the cursor', async (feed) => {
          const c = connector();
          if (!c.poll) throw new Error(`${platform} declares the polled feed ${feed} but has no poll.`);
          const seen = new Set<string>();
          const readAll = async (from: string | null): Promise<{ cursor: string; events: { eventId: string; facts: ChannelFact[] }[] }> => {
            let cursor = from;
            const events: { eventId: string; facts: ChannelFact[] }[] = [];
            for (let page = 0; page < 50; page++) {
              const r = await c.poll!(feed, cursor);
              expect(typeof r.cursor).toBe('string');
              for (const ev of r.events) {
                const expanded = c.expand ? await c.expand(ev.topic, ev.body) : ev.body;
                events.push({ eventId: ev.eventId, facts: c.translate(ev.topic, expanded, {}) });
              }
              cursor = r.cursor;
              if (!r.more) return { cursor, events };
            }
            throw new Error(`${platform} feed ${feed} still had more after 50 polls.`);
          };
          const first = await readAll(null);
          for (const e of first.events) seen.add(e.eventId);
          const { orderId } = await emu.sell({ sku: 'CONF-4', quantity: 1, locationId: loc });
          // A feed may carry the refunds (credit slips) or the levels a sale leaves rather than the order itself.
          await emu.refund({ orderId, restock: false, quantity: 1 });
          await collect();
          const next = await readAll(first.cursor);
          const fresh = next.events.filter((e) => !seen.has(e.eventId));
          expect(fresh.length).toBeGreaterThan(0);
          if (feed === subject.levelFeed) {
            // A level feed shows the sale as the level it left.
            const levels = next.events.flatMap((e) => e.facts).filter((f) => f.type === 'level_observed' && (f.sku === 'CONF-4' || refNames(f.ref, refOf('CONF-4'))));
            expect(levels.map((f) => (f.type === 'level_observed' ? f.available : null))).toContain(emu.level('CONF-4', loc));
          } else {
            // What it found is about that sale: its order (the sale, or its refund), or the level the sale left.
            const about = JSON.stringify(fresh.map((e) => e.facts)).includes(JSON.stringify(orderId)) || levelsOf([{ facts: fresh.flatMap((e) => e.facts) }], 'CONF-4').length > 0;
            expect([feed, about]).toEqual([feed, true]);
          }
          readFeeds.add(feed);
          await emu.setLevel({ sku: 'CONF-4', locationId: loc, available: START_LEVEL });
        });
      }
    });

    // ------------------------------------------------------------------ errors

    describe('errors', () => {
      const mode = caps.push[0]!;
      type Op = [string, (c: Connector, signal?: AbortSignal) => Promise<unknown>];
      const ops = (): Op[] => [
        // A level other than the one shown, so that every connector sends something.
        ['push', (c, signal) => {
          const now = emu.level('CONF-5', loc) ?? 0;
          return c.push([target('CONF-5', now + 1, subject.pushMode(mode).expectedUnknown ? null : now)], signal);
        }],
        ['read', (c, signal) => c.read([{ sku: 'CONF-5', ref: refOf('CONF-5'), locationId: loc }], signal)],
        ['listCatalog', (c, signal) => c.listCatalog(signal)],
        ...(caps.hideRelist.supported ? ([['relist', (c, signal) => c.relist(refOf('CONF-5'), signal)]] as Op[]) : []),
        ...caps.polled.map((feed): Op => [`poll ${feed}`, (c, signal) => c.poll!(feed, null, signal)]),
      ];
      const modeConnector = () => connector({ settings: subject.pushMode(mode).settings ?? {} });
      const opNames = ['push', 'read', 'listCatalog', ...(caps.hideRelist.supported ? ['relist'] : []), ...caps.polled.map((feed) => `poll ${feed}`)];
      const run = (name: string, c: Connector, signal?: AbortSignal) => ops().find(([n]) => n === name)![1](c, signal);

      test.each(([401, 403, 404] as const).flatMap((status) => opNames.map((op) => [status, op] as const)))(
        '%s answering a %s request is a fault of the channel, not retried at once, and says nothing secret',
        async (status, op) => {
          emu.faults.api.statusNext = { count: status === 401 && subject.renewsTokenOn401 ? 2 : 1, status };
          const err = await rejection(run(op, modeConnector()));
          expect(err).toBeInstanceOf(ConnectorError);
          const e = err as ConnectorError;
          expect([e.status, e.channelFault, e.retryable]).toEqual([status, true, false]);
          for (const s of secrets()) expect(e.message).not.toContain(s);
          expect(emu.faults.api.statusNext.count).toBe(0);
          // The channel works again once the platform does.
          await run(op, modeConnector());
        },
      );

      test.each(opNames.map((op) => [op] as const))('a server error answering a %s request is retried', async (op) => {
        emu.faults.api.failNext = 1;
        const err = await rejection(run(op, modeConnector()));
        expect(err).toBeInstanceOf(ConnectorError);
        const e = err as ConnectorError;
        expect([e.retryable, e.channelFault, (e.status ?? 0) >= 500]).toEqual([true, true, true]);
        await run(op, modeConnector());
      });

      test.each(opNames.map((op) => [op] as const))('no answer to a %s request: the caller’s timeout ends it, and it is retried', async (op) => {
        emu.faults.api.hangNext = 1;
        const err = await rejection(run(op, modeConnector(), AbortSignal.timeout(150)));
        emu.faults.api.hangNext = 0;
        // The signal's own reason (the dispatcher then retries: docs/dispatch.md), or a retryable ConnectorError.
        const ok = (err as { name?: unknown } | null)?.name === 'TimeoutError' || (err instanceof ConnectorError && err.retryable && err.channelFault);
        expect([op, ok, String(err)]).toEqual([op, true, String(err)]);
        await run(op, modeConnector());
      });

      test.each(opNames.map((op) => [op] as const))('a 429 answering a %s request is honoured: its Retry-After is carried to the dispatcher, or waited out', async (op) => {
        emu.faults.api.rateLimitNext = { count: 1, retryAfterSeconds: 1 };
        const first = emu.arrivals.length;
        const outcome = await run(op, modeConnector()).then(
          () => null,
          (e: unknown) => e,
        );
        if (outcome === null) {
          // The connector waited by itself (a paged read goes on after the wait): nothing sent before the second was up.
          const [refusedAt, next] = [emu.arrivals[first]!, emu.arrivals[first + 1]!];
          expect(next - refusedAt).toBeGreaterThanOrEqual(1000);
        } else {
          expect(outcome).toBeInstanceOf(ConnectorError);
          const e = outcome as ConnectorError;
          expect([e.status, e.retryable, e.retryAfterMs]).toEqual([429, true, 1000]);
        }
      });

      test('a refusal of one item fails that item only; the others in the request are applied', async () => {
        const refused = listingAt(10);
        const fine = listingAt(10);
        emu.faults.api.refuseSku = refused;
        const expected = (l: number) => (subject.pushMode(mode).expectedUnknown ? null : l);
        const outs = await modeConnector().push([target(refused, 4, expected(10)), target(fine, 5, expected(10))]);
        expect(outs.map((o: PushOutcome) => [o.sku, o.status])).toEqual([
          [refused, 'failed'],
          [fine, 'applied'],
        ]);
        expect([emu.level(refused, loc), emu.level(fine, loc)]).toEqual([10, 5]);
      });
    });

    // ------------------------------------------------------------------ through the hub's sink and dispatcher

    describe('through the channel sink and the dispatcher', () => {
      let store: Store;
      const mapped: string[] = [];
      const cfg: DispatchConfig = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, leaseMs: 60_000, timeoutMs: 5000 };

      beforeAll(async () => {
        store = await openStore({ dataDir: tempDir('conformance-') });
      });
      afterAll(async () => {
        await store?.close();
      });

      const config = (id: string, url: string, settings: Record<string, unknown>, credentials: Record<string, string>): ChannelConfig =>
        channelConfig({ id, name: `${platform} conformance channel ${id}`, platform: platform as ChannelConfig['platform'], baseUrl: url, locations: { gallery: loc }, settings: settings as ChannelConfig['settings'], credentials });

      /** A sink and a dispatcher on a virtual clock (suspended after 3 failures for 30 s). */
      function hub(config: ChannelConfig, connectorOf: Connector, clock: FakeClock, over: Partial<DispatchConfig> = {}, limiter: Limiter = limiterFor(connectorOf.capabilities.rateLimit)) {
        // The channel's pace, from the connector's rate-limit model: per push call, unless a pace
        // of every request is given (the registry's).
        const connected = { config, connector: connectorOf, limiter };
        const channelSink = new ChannelSink(connected, store, clock.date);
        const dispatcher = new Dispatcher(store, [channelSink], { ...cfg, ...over }, silent, new Metrics(), clock.date, () => 0.5, 50, 20, {
          sleep: async (ms) => clock.advance(ms),
          suspendAfter: 3,
          suspendMs: 30_000,
          maxSuspendMs: 60_000,
        });
        const push = (sku: string, level: number) =>
          store.outbox.enqueue({ sink: channelSink.id, topic: 'level.push', coalesceKey: `level:${channelSink.id}:${sku}:gallery`, payload: { sku, location: 'gallery', level } }, clock.date().toISOString());
        /** This test's rows (of these SKUs), oldest first. */
        const rows = async (skus: string[]) =>
          (await store.outbox.list({ limit: 5000 })).filter((r) => r.sink === channelSink.id && skus.includes((r.payload as { sku: string }).sku)).sort((a, b) => a.id - b.id);
        /** Runs the dispatcher until `done`; when nothing was due, the clock moves on to the next row due (at least 50 ms). */
        const until = async (what: string, skus: string[], done: () => Promise<boolean> | boolean, rounds = 400) => {
          for (let i = 0; i < rounds; i++) {
            if (await done()) return;
            if ((await dispatcher.runOnce()) > 0) continue;
            const due = (await rows(skus)).filter((r) => r.status === 'pending').map((r) => Date.parse(r.nextAttemptAt));
            clock.advance(Math.max(50, Math.min(...due, clock.ms + 50) - clock.ms));
          }
          throw new Error(`${platform}: still waiting for ${what} after ${rounds} dispatcher rounds`);
        };
        const openAlerts = async () => (await store.alerts.list({ limit: 200, status: 'open' })).filter((a) => a.kind === 'channel_failing' && a.channelId === config.id);
        return { channelSink, dispatcher, push, rows, until, openAlerts };
      }

      /** Listings of their own for one test, mapped on the channel as discovery would. */
      async function mapListings(channelId: string, e: ConformanceEmulator, skus: string[], level: number): Promise<void> {
        e.seed(skus.map((sku) => ({ sku, title: sku, levels: { [e.locations()[0]!]: level } })));
        if (channelId === CHANNEL) mapped.push(...skus);
        const all = channelId === CHANNEL ? mapped : skus;
        await store.listings.replace(
          channelId,
          all.map((sku) => {
            const ref = e.listing(sku)!;
            return { sku, productId: ref.productId, variantId: ref.variantId, inventoryItemId: ref.inventoryItemId ?? null, title: sku };
          }),
          new Date().toISOString(),
        );
      }

      const faults: [string, (f: ApiFaults) => void, Partial<DispatchConfig>][] = [
        ['no answer', (f) => (f.hangNext = 1_000_000), { timeoutMs: 200 }],
        ['401 (credentials revoked)', (f) => (f.statusNext = { count: 1_000_000, status: 401 }), {}],
        ['403 (a permission missing)', (f) => (f.statusNext = { count: 1_000_000, status: 403 }), {}],
        ['404 (the route is gone)', (f) => (f.statusNext = { count: 1_000_000, status: 404 }), {}],
        ['a server error', (f) => (f.failNext = 1_000_000), {}],
      ];

      test.each(faults)('a channel answering %s: its pushes are kept, it is suspended with an alert, and they land once it answers', async (_name, set, over) => {
        const clock = new FakeClock();
        const skus = [listingAt(10), listingAt(10)];
        await mapListings(CHANNEL, emu, skus, 10);
        const h = hub(config(CHANNEL, baseUrl, context().settings, context().credentials), connector(), clock, over);
        await h.push(skus[0]!, 4);
        await h.push(skus[1]!, 5);
        set(emu.faults.api);
        await h.until('the channel to be suspended', skus, () => h.dispatcher.health(h.channelSink.id)?.status === 'suspended');
        // Kept: nothing delivered, nothing dead; the platform unchanged; one alert.
        expect((await h.rows(skus)).map((r) => r.status)).toEqual(['pending', 'pending']);
        expect(skus.map((s) => emu.level(s, loc))).toEqual([10, 10]);
        expect(await h.openAlerts()).toHaveLength(1);
        emu.faults.api = {};
        clock.advance(30_001);
        await h.until('the pushes to land', skus, async () => (await h.rows(skus)).every((r) => r.status === 'done'));
        expect(skus.map((s) => emu.level(s, loc))).toEqual([4, 5]);
        expect(await h.openAlerts()).toEqual([]);
        expect(h.dispatcher.health(h.channelSink.id)?.status).toBe('ok');
      });

      test('a refusal of one item makes that item a dead letter alone; the others land and the channel stays ok', async () => {
        const clock = new FakeClock();
        const [refused, fine] = [listingAt(10), listingAt(10)];
        await mapListings(CHANNEL, emu, [refused, fine], 10);
        const h = hub(config(CHANNEL, baseUrl, context().settings, context().credentials), connector(), clock);
        await h.push(refused, 4);
        await h.push(fine, 5);
        emu.faults.api.refuseSku = refused;
        await h.until('every row to be answered', [refused, fine], async () => (await h.rows([refused, fine])).every((r) => r.status !== 'pending'));
        const rows = await h.rows([refused, fine]);
        expect(rows.map((r) => [(r.payload as { sku: string }).sku, r.status])).toEqual([
          [refused, 'dead'],
          [fine, 'done'],
        ]);
        expect([emu.level(refused, loc), emu.level(fine, loc)]).toEqual([10, 5]);
        expect(await h.openAlerts()).toEqual([]);
        expect(h.dispatcher.health(h.channelSink.id)?.status).toBe('ok');
      });

      test('a burst of pushes paced by the rate-limit model: never a 429 where the limit is published; where it is not, every 429 honoured', async () => {
        const clock = new FakeClock();
        const { emulator: limited, baseUrl: limitedUrl } = await subject.start({ account: 'ours', rateLimited: true, clock: clock.now });
        try {
          const skus = ['BURST-1', 'BURST-2', 'BURST-3'];
          const channelId = `${CHANNEL}-burst`;
          await mapListings(channelId, limited, skus, 50);
          const { settings, credentials } = subject.context({ baseUrl: limitedUrl, webhookUrl });
          // Wired as the hub's registry wires it: every request the connector makes takes its turn
          // from the channel's pace (docs/dispatch.md, "Every request counts"). The levels were never
          // read, so the first pushes read before they write (and absolute sets read back): each of
          // those requests is counted too.
          let pace: RequestPace | null = null;
          const c = def.create({ channelId, baseUrl: limitedUrl, settings, credentials, ...pacedRequests(() => pace, () => fetch) });
          pace = new RequestPace(limiterFor(c.capabilities.rateLimit), clock.now, clock.sleep);
          const h = hub(config(channelId, limitedUrl, settings, credentials), c, clock, {}, pace.callerView());
          const model = caps.rateLimit;
          const burst =
            model.kind === 'cost_bucket'
              ? Math.ceil(model.bucketSize / (model.requestCost ?? 10)) + 20
              : model.kind === 'leaky_bucket'
                ? Math.ceil(model.bucketSize) + 20
                : model.kind === 'requests_per_window'
                  ? model.requests * 2 + 5
                  : 40;
          const started = clock.ms;
          const last: Record<string, number> = {};
          // One level change a round, to each listing in turn: one push a round, unless paused.
          for (let round = 0; round < burst; round++) {
            const sku = skus[round % skus.length]!;
            last[sku] = 30 + (round % 17);
            await h.push(sku, last[sku]!);
            if ((await h.dispatcher.runOnce()) === 0) clock.advance(10);
          }
          await h.until('the burst to land', skus, async () => (await h.rows(skus)).every((r) => r.status !== 'pending'), 2000);
          expect((await h.rows(skus)).filter((r) => r.status !== 'done')).toEqual([]);
          expect(skus.map((s) => limited.level(s, limited.locations()[0]!))).toEqual(skus.map((s) => last[s]));
          expect(await h.openAlerts()).toEqual([]);
          // Every refusal paused the channel for its Retry-After (1 s when it gave none) before the next request.
          for (const r of limited.rateLimited) {
            const wait = r.retryAfterMs ?? 1000;
            expect([r.at, limited.arrivals.filter((a) => a > r.at && a < r.at + wait)]).toEqual([r.at, []]);
          }
          if (model.kind === 'unpublished') {
            // No pace of our own: the emulator's limit was met.
            expect(limited.rateLimited.length).toBeGreaterThan(0);
          } else {
            // Our own pace kept under the platform's: it had to wait, and the platform never refused.
            expect(limited.rateLimited).toEqual([]);
            expect(clock.ms - started).toBeGreaterThan(0);
          }
        } finally {
          await limited.stop();
        }
      });
    });

    // ------------------------------------------------------------------ capabilities are true

    test('every declared webhook topic was sent by the platform and translated, and every polled feed was read', () => {
      expect((subject.sentTopics ?? caps.webhooks).filter((t) => !translatedTopics.has(t))).toEqual([]);
      for (const t of subject.sentTopics ?? []) expect(caps.webhooks).toContain(t);
      expect(caps.polled.filter((f) => !readFeeds.has(f))).toEqual([]);
      subject.checkEmulator?.(emu);
    });
  });
}
