/**
 * The three platforms of the sandbox and how each emulator is made. Kept apart from sandbox.ts so the
 * list of demo channels reads in one place.
 */
import type { Emulator } from './connectors/emulator';
import { ShopifyEmulator } from './connectors/shopify/emulator';
import { SquareEmulator } from './connectors/square/emulator';
import { WooEmulator } from './connectors/woocommerce/emulator';
import { WOO_LOCATION } from './connectors/woocommerce/translate';
import type { PLATFORMS } from './config';

export interface SandboxPlatform {
  channelId: string;
  name: string;
  platform: (typeof PLATFORMS)[number];
  /** Our location id → the emulator's location id. */
  locations: Record<string, string>;
  hideAtZero: boolean;
  credentials: readonly string[];
  settings(ctx: { webhookUrl: string; baseUrl: string }): Record<string, string | number | boolean>;
  createEmulator(opts: { credentials: Record<string, string>; webhookUrl: string; locations: string[] }): Emulator;
}

const SHOPIFY_DOMAIN = 'stockrelay-demo.myshopify.com';
/** The emulated Square seller: every event names it (merchant_id) and the channel accepts only its own. */
const SQUARE_MERCHANT = 'ML7RSTOCKRELAY';

/**
 * - Square plays the gallery's point of sale, with a register at the gallery and one at the
 *   warehouse shop; Square cannot hide a listing, so it never does.
 * - Shopify plays the web store, shipping from the warehouse and selling gallery pieces too; it hides
 *   a product that sells out (draft) and shows it again on restock.
 * - WooCommerce plays a second online shop that sells what hangs in the gallery (WooCommerce has one
 *   stock level per item: its pseudo location "default").
 */
export const SANDBOX_PLATFORMS: SandboxPlatform[] = [
  {
    channelId: 'square',
    name: 'Gallery POS (Square)',
    platform: 'square',
    locations: { gallery: 'LGALLERY7Q2K9', warehouse: 'LWAREHSE4M8XN' },
    hideAtZero: false,
    credentials: ['accessToken', 'webhookSignatureKey'],
    // Square signs over the notification URL: it must be byte for byte the address webhooks are sent to.
    settings: ({ webhookUrl }) => ({ notificationUrl: webhookUrl, merchantId: SQUARE_MERCHANT }),
    createEmulator: ({ credentials, locations }) => new SquareEmulator({ accessToken: credentials.accessToken!, webhookSignatureKey: credentials.webhookSignatureKey!, locations, merchantId: SQUARE_MERCHANT }),
  },
  {
    channelId: 'shopify',
    name: 'Web store (Shopify)',
    platform: 'shopify',
    locations: { warehouse: 'gid://shopify/Location/1001', gallery: 'gid://shopify/Location/1002' },
    hideAtZero: true,
    credentials: ['accessToken', 'webhookSecret'],
    settings: () => ({ shopDomain: SHOPIFY_DOMAIN }),
    createEmulator: ({ credentials, locations }) =>
      new ShopifyEmulator({ accessToken: credentials.accessToken!, webhookSecret: credentials.webhookSecret!, shopDomain: SHOPIFY_DOMAIN, locations }),
  },
  {
    channelId: 'woocommerce',
    name: 'Online shop (WooCommerce)',
    platform: 'woocommerce',
    locations: { gallery: WOO_LOCATION },
    hideAtZero: false,
    credentials: ['consumerKey', 'consumerSecret', 'webhookSecret'],
    settings: () => ({}),
    createEmulator: ({ credentials }) =>
      new WooEmulator({ consumerKey: credentials.consumerKey!, consumerSecret: credentials.consumerSecret!, webhookSecret: credentials.webhookSecret! }),
  },
];
