/**
 * The platforms the hub can connect to. Adding one: a folder under `server/connectors/<platform>/`
 * exporting a `ConnectorDefinition`, a line here, and its tests (see docs/connectors.md).
 */
import { definition as shopify } from './shopify';
import { definition as square } from './square';
import { definition as woocommerce } from './woocommerce';
import type { ConnectorDefinition } from './types';

const definitions: ConnectorDefinition[] = [shopify, square, woocommerce];

export const CONNECTORS: ReadonlyMap<string, ConnectorDefinition> = new Map(definitions.map((d) => [d.platform, d]));

export function connectorFor(platform: string): ConnectorDefinition | undefined {
  return CONNECTORS.get(platform);
}
