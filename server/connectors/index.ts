/**
 * The platforms the hub can connect to. Adding one: a folder under `server/connectors/<platform>/`
 * exporting a `ConnectorDefinition`, a line here, and its tests (see docs/connectors.md).
 */
import { definition as shopify } from './shopify';
import type { ConnectorDefinition } from './types';

const definitions: ConnectorDefinition[] = [shopify];

export const CONNECTORS: ReadonlyMap<string, ConnectorDefinition> = new Map(definitions.map((d) => [d.platform, d]));

export function connectorFor(platform: string): ConnectorDefinition | undefined {
  return CONNECTORS.get(platform);
}
