/**
 * Every resource of the API, in the order the app mounts them and the document lists them. To add
 * a resource: write its module (a route table: method, path, OpenAPI description, handler), add it
 * here, and decide who may call each new route in server/api/scopes.ts.
 */
import type { Resource } from '../route';
import { alerts } from './alerts';
import { channels } from './channels';
import { conflicts } from './conflicts';
import { credentials } from './credentials';
import { deadLetters } from './dead-letters';
import { events } from './events';
import { health } from './health';
import { items } from './items';
import { locations } from './locations';
import { orders } from './orders';
import { purchaseOrders } from './purchase-orders';
import { reconcile } from './reconcile';
import { relay } from './relay';
import { reports } from './reports';
import { sandbox } from './sandbox';
import { supplierOrders } from './supplier-orders';
import { webhooks } from './webhooks';

/** The resources of a hub; the sandbox's only in sandbox mode, where its emulators run. */
export function resourcesFor(mode: { sandbox: boolean }): Resource[] {
  return [
    health,
    relay,
    webhooks,
    ...(mode.sandbox ? [sandbox] : []),
    locations,
    channels,
    reconcile,
    items,
    alerts,
    conflicts,
    credentials,
    orders,
    purchaseOrders,
    supplierOrders,
    reports,
    events,
    deadLetters,
  ];
}

/** Every resource any hub may serve. */
export const ALL_RESOURCES = resourcesFor({ sandbox: true });
