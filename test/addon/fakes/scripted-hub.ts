/**
 * A hub in a function, for unit tests: it verifies every relay's signature with the hub's own
 * RelayVerifier, refuses a webhook-id it has seen (409 relay_replayed, as the hub does), checks the
 * admin token, and answers the read endpoints from data the test sets. It can be "down" (fetch
 * throws), answer a status, or follow a script of answers.
 */
import { RelayVerifier } from '../../../server/relay/verify';
import { ADMIN_TOKEN, RELAY_SECRET } from '../../helpers/hub';

/** The token of the sheet's credential (scope sidebar), made with RELAY_SECRET as its relay secret. */
export const SHEET_TOKEN = `srt_${'s'.repeat(43)}`;
import type { HttpAnswer, HttpHandler, HttpRequest } from './gas';

export interface ScriptedItem {
  sku: string;
  title: string | null;
  status?: 'active' | 'archived';
  locations: { locationId: string; onHand: number; reserved?: number; channels?: { channelId: string; channelName: string; platform?: string; channelLocationId?: string; published: number }[] }[];
}

const json = (status: number, body: unknown): HttpAnswer => ({ status, body: JSON.stringify(body) });
const error = (status: number, code: string, message: string) => json(status, { error: { code, message } });

export class ScriptedHub {
  /** 'up' answers; 'down' makes fetch throw; a number answers that status to relays. */
  mode: 'up' | 'down' | number = 'up';
  /** Answers used first, one per relay request (then `mode` applies). */
  script: (number | 'down')[] = [];
  /** Relays stored, in the order received. */
  stored: { id: string; body: any }[] = [];
  /** Every relay request, stored or not. */
  attempts: { id: string; status: number | 'down' }[] = [];
  seen = new Set<string>();
  items = new Map<string, ScriptedItem>();
  locations = [{ id: 'gallery', name: 'Gallery' }];
  /** `feeds`: what the hub polls on the channel (docs/polling.md); absent as a hub older than polling answers. */
  channels: { id: string; name: string; platform: string; connected: boolean; suspendedUntil: string | null; feeds?: unknown[] }[] = [];
  listings: Record<string, { levels: { sku: string; locationId: string; pushed: number | null; pushedAt: string | null; observed: number | null; observedAt: string | null }[]; listings: { sku: string }[] }> = {};
  movements: Record<string, unknown[]> = {};
  alerts: unknown[] = [];
  /** Conflicts as GET /v1/conflicts lists them; accept and reject change their status as the hub does. */
  conflicts: { id: number; sku: string; locationId: string; sheetShowed: number | null; typed: number; hubHad: number; hubNow: number; actor: string | null; foundAt: string; status: 'open' | 'accepted' | 'rejected'; resolvedBy: string | null }[] = [];
  /** Bodies of the conflict decisions received. */
  decisions: { id: number; decision: string; body: any }[] = [];
  /** GET /v1/reports/dashboard answers this (null: 404, as a hub without reports would). */
  dashboard: unknown = null;
  /** GET /v1/reorder answers this (null: 404). */
  reorder: unknown = null;
  /** The query strings the dashboard was asked with. */
  dashboardQueries: string[] = [];
  /** How a stored relay is answered (the hub's `{eventId, status, results, message}`); default: received. */
  relayAnswer: ((body: any, eventId: number) => unknown) | null = null;
  /** Read endpoints answer this status instead (to test errors). */
  readStatus: number | 'down' | null = null;
  private readonly verifier = new RelayVerifier([RELAY_SECRET]);

  readonly handler: HttpHandler = (req) => this.handle(req);

  private handle(req: HttpRequest): HttpAnswer {
    const url = new URL(req.url);
    if (url.pathname === '/v1/relay' && req.method === 'POST') return this.relay(req);
    if (this.readStatus === 'down') throw new Error(`Exception: Address unavailable: ${req.url}`);
    if (this.readStatus !== null) return error(this.readStatus, 'scripted', `scripted ${this.readStatus}`);
    const bearer = req.headers['authorization'];
    if (bearer !== `Bearer ${SHEET_TOKEN}` && bearer !== `Bearer ${ADMIN_TOKEN}`) return error(401, 'unauthorized', 'The token is wrong, or its credential was rotated.');
    const p = url.pathname;
    let m: RegExpExecArray | null;
    if (p === '/v1/whoami') {
      return json(200, bearer === `Bearer ${ADMIN_TOKEN}` ? { kind: 'admin', credential: null } : { kind: 'credential', credential: { id: 1, name: 'Shop sheet', scopes: ['sidebar'], relaySecretPrefix: RELAY_SECRET.slice(0, 10) } });
    }
    if (p === '/v1/locations') return json(200, { locations: this.locations });
    if (p === '/v1/channels') return json(200, { channels: this.channels.map((c) => ({ ...c, locations: {}, buffer: 0, cap: null, hideAtZero: true, relistOnRestock: true })) });
    if (p === '/v1/reports/dashboard') {
      this.dashboardQueries.push(url.search);
      return this.dashboard === null ? error(404, 'not_found', `No route ${p}`) : json(200, this.dashboard);
    }
    if (p === '/v1/reorder') return this.reorder === null ? error(404, 'not_found', `No route ${p}`) : json(200, this.reorder);
    if (p === '/v1/alerts') return json(200, { alerts: this.alerts, nextCursor: null });
    if (p === '/v1/conflicts' && req.method.toLowerCase() === 'get') {
      const status = url.searchParams.get('status') ?? 'open';
      return json(200, { conflicts: this.conflicts.filter((c) => status === 'all' || c.status === status), nextCursor: null });
    }
    if ((m = /^\/v1\/conflicts\/(\d+)\/(accept|reject)$/.exec(p)) && req.method.toLowerCase() === 'post') {
      const c = this.conflicts.find((x) => x.id === Number(m![1]));
      if (!c) return error(404, 'unknown_conflict', `There is no conflict ${m[1]}; nothing was changed.`);
      const done = m[2] === 'accept' ? 'accepted' : 'rejected';
      const body = JSON.parse(req.body || '{}') as { actor?: string };
      this.decisions.push({ id: c.id, decision: m[2]!, body });
      if (c.status !== 'open' && c.status !== done) return error(409, 'conflict_decided', `Conflict ${c.id} was already ${c.status}, so it cannot be ${done} now; nothing was changed.`);
      c.status = done;
      c.resolvedBy = body.actor ?? null;
      return json(200, { conflict: c, eventId: 99, message: done === 'accepted' ? `Accepted: ${c.typed} typed is taken as the count.` : `Rejected: the hub’s number stands (${c.hubNow} on hand).` });
    }
    if ((m = /^\/v1\/channels\/([^/]+)\/listings$/.exec(p))) {
      const l = this.listings[decodeURIComponent(m[1]!)];
      return l ? json(200, { listings: l.listings, levels: l.levels }) : error(404, 'not_found', 'No such channel.');
    }
    if ((m = /^\/v1\/items\/([^/]+)\/movements$/.exec(p))) {
      const sku = decodeURIComponent(m[1]!);
      if (!this.items.has(sku)) return error(404, 'not_found', `No item ${sku}.`);
      return json(200, { movements: this.movements[sku] ?? [], nextCursor: null });
    }
    if ((m = /^\/v1\/items\/([^/]+)$/.exec(p))) {
      const item = this.items.get(decodeURIComponent(m[1]!));
      if (!item) return error(404, 'not_found', `No item ${decodeURIComponent(m[1]!)}.`);
      const locations = item.locations.map((l) => ({
        locationId: l.locationId,
        onHand: l.onHand,
        reserved: l.reserved ?? 0,
        available: l.onHand - (l.reserved ?? 0),
        channels: (l.channels ?? []).map((c) => ({ platform: 'shopify', channelLocationId: 'x', ...c })),
      }));
      return json(200, { sku: item.sku, title: item.title, lowStockThreshold: null, status: item.status ?? 'active', onHand: 0, available: 0, locations, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString(), archivedAt: null });
    }
    return error(404, 'not_found', `No route ${p}`);
  }

  private relay(req: HttpRequest): HttpAnswer {
    const forced = this.script.length ? this.script.shift()! : this.mode === 'up' ? null : this.mode;
    const id = req.headers['webhook-id'] ?? '';
    if (forced === 'down') {
      this.attempts.push({ id, status: 'down' });
      throw new Error(`Exception: Address unavailable: ${req.url}`);
    }
    const answer = ((): HttpAnswer => {
      if (typeof forced === 'number' && forced >= 300) return error(forced, forced === 503 ? 'shutting_down' : forced === 429 ? 'rate_limited' : forced === 400 ? 'invalid_relay' : 'scripted', `scripted answer ${forced}`);
      const v = this.verifier.verify(Buffer.from(req.body, 'utf8'), req.headers);
      if (!v.valid) return error(401, v.code, v.reason);
      if (this.seen.has(v.id)) return error(409, 'relay_replayed', 'This webhook-id was received before.');
      this.seen.add(v.id);
      const body = JSON.parse(req.body);
      this.stored.push({ id: v.id, body });
      return json(202, this.relayAnswer?.(body, this.stored.length) ?? { eventId: this.stored.length, status: 'received', results: [], message: 'Stored.' });
    })();
    this.attempts.push({ id, status: answer.status });
    return answer;
  }
}
