/**
 * Which credentials may call each route of the API that takes a bearer token (docs/security.md).
 * The admin token may call every route; a credential only those listed here for one of its scopes.
 * A route missing from this table is the admin token's alone, and test/api/credentials.test.ts fails
 * until it is listed, so every new route gets a decision.
 */
import type { CredentialScope } from '../credentials';

/** `METHOD /path` as written in the OpenAPI document → the scopes that may call it ([]: admin token only). */
export const ROUTE_SCOPES: Record<string, readonly CredentialScope[]> = {
  // Reading stock: the sidebar and report readers.
  'GET /v1/whoami': ['sidebar', 'read'],
  'GET /v1/locations': ['sidebar', 'read'],
  'GET /v1/channels': ['sidebar', 'read'],
  'GET /v1/channels/{channelId}': ['sidebar', 'read'],
  'GET /v1/channels/{channelId}/listings': ['sidebar', 'read'],
  'GET /v1/items': ['sidebar', 'read'],
  'GET /v1/items/{sku}': ['sidebar', 'read'],
  'GET /v1/items/{sku}/movements': ['sidebar', 'read'],
  'GET /v1/alerts': ['sidebar', 'read'],
  'GET /v1/conflicts': ['sidebar', 'read'],
  'GET /v1/conflicts/{id}': ['sidebar', 'read'],
  'GET /v1/purchase-orders': ['sidebar', 'read'],
  'GET /v1/purchase-orders/{number}': ['sidebar', 'read'],
  'GET /v1/reports/dashboard': ['sidebar', 'read'],
  'GET /v1/reorder': ['sidebar', 'read'],
  // What the sidebar changes: adjustments and counts, conflict decisions, purchase orders.
  'POST /v1/items/{sku}/adjustments': ['sidebar'],
  'POST /v1/items/{sku}/counts': ['sidebar'],
  'POST /v1/conflicts/{id}/accept': ['sidebar'],
  'POST /v1/conflicts/{id}/reject': ['sidebar'],
  'POST /v1/purchase-orders': ['sidebar'],
  'POST /v1/purchase-orders/{number}/cancel': ['sidebar'],
  // The supplier's own: configuration, channels, the catalog, money, the event log, credentials.
  'PUT /v1/items/{sku}': [],
  'PUT /v1/items/{sku}/reorder': [],
  'POST /v1/reorder/check': [],
  'POST /v1/purchase-orders/{number}/fulfil': [],
  'POST /v1/reconcile': [],
  'POST /v1/channels/{channelId}/discover': [],
  'GET /v1/sandbox': [],
  'GET /v1/sandbox/levels/{sku}': [],
  'POST /v1/sandbox/channels/{channelId}/sales': [],
  'POST /v1/sandbox/channels/{channelId}/refunds': [],
  'GET /v1/events': [],
  'GET /v1/events/{id}': [],
  'POST /v1/events/{id}/retry': [],
  'GET /v1/dead-letters': [],
  'POST /v1/dead-letters/{id}/retry': [],
  'GET /v1/orders': [],
  'GET /v1/orders/export': [],
  'GET /v1/orders/{id}': [],
  'GET /v1/audit': [],
  'POST /v1/supplier-orders': [],
  'GET /v1/supplier-orders': [],
  'GET /v1/supplier-orders/{number}': [],
  'POST /v1/supplier-orders/{number}/receipts': [],
  'POST /v1/supplier-orders/{number}/status': [],
  'GET /v1/reports/sales': [],
  'GET /v1/credentials': [],
  'POST /v1/credentials': [],
  'POST /v1/credentials/{id}/rotate': [],
  'DELETE /v1/credentials/{id}': [],
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/**
 * Adds the credential scopes to the document: each bearer route's `security` lists the admin token
 * and, as alternatives, each scope that may call it.
 */
export function applyScopes<T extends { paths: Record<string, unknown> }>(doc: T): T {
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item as Record<string, { security?: Record<string, string[]>[] }>)) {
      if (!METHODS.includes(method) || !op.security?.some((s) => 'adminToken' in s)) continue;
      const scopes = ROUTE_SCOPES[`${method.toUpperCase()} ${p}`] ?? [];
      op.security = [{ adminToken: [] }, ...scopes.map((s) => ({ credentialToken: [s] }))];
    }
  }
  return doc;
}

/** Finds the route of the document a request is for: `METHOD /template`, or null for none. */
export function routeMatcher(paths: string[]): (method: string, path: string) => string | null {
  const compiled = paths
    .filter((p) => p.startsWith('/v1/'))
    .map((p) => ({ p, params: (p.match(/\{/g) ?? []).length, re: new RegExp(`^${p.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`, 'i') }))
    // As Express routes: case-insensitive, a trailing slash allowed; a literal segment wins over a
    // parameter (/v1/orders/export before /v1/orders/{id}).
    .sort((a, b) => a.params - b.params);
  return (method, path) => {
    const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
    for (const c of compiled) {
      if (c.re.test(path)) {
        const key = `${m} ${c.p}`;
        if (key in ROUTE_SCOPES) return key;
      }
    }
    return null;
  };
}
