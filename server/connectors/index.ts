/**
 * The platforms the hub can connect to: one line each. Adding one is a folder under
 * `server/connectors/<platform>/` exporting a `ConnectorDefinition`, a line in `definitions`, and
 * its tests (docs/connectors.md). Everything else the hub says or does about platforms — the
 * config's list of platforms, the sandbox, the log redaction of signature headers, the words in
 * the CLI and the API — is derived from here.
 */
import { definition as adobeCommerce } from './adobe-commerce';
import { definition as bigcommerce } from './bigcommerce';
import { definition as clover } from './clover';
import { definition as lightspeedR } from './lightspeed-r';
import { definition as lightspeedX } from './lightspeed-x';
import { definition as opencart } from './opencart';
import { definition as prestashop } from './prestashop';
import { definition as revel } from './revel';
import { definition as salesforceCommerceCloud } from './salesforce-commerce-cloud';
import { definition as shopify } from './shopify';
import { definition as square } from './square';
import { definition as squarespace } from './squarespace';
import { definition as toast } from './toast';
import { definition as wix } from './wix';
import { definition as woocommerce } from './woocommerce';
import { definition as zettle } from './zettle';
import type { ConnectorDefinition, SandboxWiring } from './types';

const definitions: ConnectorDefinition[] = [shopify, square, woocommerce, bigcommerce, adobeCommerce, prestashop, wix, squarespace, salesforceCommerceCloud, opencart, lightspeedR, lightspeedX, clover, zettle, revel, toast];

export const CONNECTORS: ReadonlyMap<string, ConnectorDefinition> = new Map(definitions.map((d) => [d.platform, d]));

/** The names a config file may give as `platform`, in registry order. */
export const PLATFORM_NAMES: readonly string[] = definitions.map((d) => d.platform);

export function connectorFor(platform: string): ConnectorDefinition | undefined {
  return CONNECTORS.get(platform);
}

/** "Shopify, Square and WooCommerce": names as staff read them in a sentence. */
export function inWords(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** Every header name, lower case, that carries a signature or secret on some platform's webhooks. */
export function secretHeaderNames(): string[] {
  return [...new Set(definitions.flatMap((d) => d.secretHeaders.map((h) => h.toLowerCase())))];
}

/** The platforms that sell at a counter (`kind: 'point_of_sale'`), in registry order. */
export function pointsOfSale(): ConnectorDefinition[] {
  return definitions.filter((d) => d.kind === 'point_of_sale');
}

/** A platform the sandbox can run, with what the sandbox needs from its definition. */
export interface SandboxPlatform extends SandboxWiring {
  platform: string;
  displayName: string;
  credentials: readonly string[];
}

/** Every platform whose connector brings an emulator for the sandbox. */
export function sandboxCapable(): SandboxPlatform[] {
  return definitions.flatMap((d) => (d.sandbox ? [{ ...d.sandbox, platform: d.platform, displayName: d.displayName, credentials: d.credentials }] : []));
}

export class SandboxChoiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxChoiceError';
  }
}

/**
 * Which platforms the sandbox runs, from STOCKRELAY_SANDBOX: unset (or "on"): the default three;
 * "off": none; "all": every platform with an emulator; else a comma-separated list of platform
 * names or sandbox channel ids (`shopify,square`). An unknown name is an error naming the choices.
 */
export function chooseSandbox(choice: string | undefined): SandboxPlatform[] {
  const all = sandboxCapable();
  const value = (choice ?? '').trim().toLowerCase();
  if (value === '' || value === 'on' || value === 'default') return all.filter((p) => p.byDefault);
  if (value === 'off') return [];
  if (value === 'all') return all;
  const wanted = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const picked: SandboxPlatform[] = [];
  for (const name of wanted) {
    const p = all.find((x) => x.platform === name || x.channelId === name);
    if (!p) {
      throw new SandboxChoiceError(
        `STOCKRELAY_SANDBOX names "${name}", which the sandbox cannot run. It runs ${inWords(all.map((x) => x.platform))} (a comma-separated list of them, "all", or "off" for no sandbox).`,
      );
    }
    if (!picked.includes(p)) picked.push(p);
  }
  if (picked.length === 0) throw new SandboxChoiceError('STOCKRELAY_SANDBOX is empty of platform names: give a comma-separated list (shopify,square), "all", or "off".');
  return picked;
}
