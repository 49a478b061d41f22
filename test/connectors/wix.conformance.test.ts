/**
 * The connector conformance suite (test/connectors/conformance.ts) run against the Wix emulator,
 * once for a catalog V1 site and once for a catalog V3 site. What is Wix's own here: the emulator
 * (API key and site id, Wix's 200 requests a minute), the webhook as an RS256 JWT body checked with
 * the app's public key (no signature header: "unsigned" is the token without its signature; the
 * topic is the signed eventType), the account as the token's instanceId (another site of the same
 * app is signed with the same key), and the topics each catalog version sends (V1 and V3 inventory
 * events differ; orders are the same eCommerce events on both).
 */
import crypto from 'node:crypto';
import { definition } from '../../server/connectors/wix';
import { WixEmulator } from '../../server/connectors/wix/emulator';
import { ORDER_APPROVED, ORDER_CANCELED, ORDER_CREATED, REFUND_COMPLETED, V1_INVENTORY_CHANGED, V3_INVENTORY_UPDATED } from '../../server/connectors/wix/translate';
import { connectorConformance, type Delivery } from './conformance';
import { DOCUMENTED_EXAMPLES } from './wix/documented';

const API_KEY = 'IST.conformance-wix-api-key-0001';
const SITE = 'b1a2c3d4-0000-4000-8000-00000000c0f1';
const INSTANCE = 'e1f2a3b4-0000-4000-8000-00000000c0f1';
const keys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const PUBLIC_PEM = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** The token with its payload replaced (the eventType claimed), the signature kept: no longer Wix's. */
function retopic(d: Delivery, topic: string): Delivery {
  const [h, p, s] = d.raw.toString('utf8').split('.');
  const payload = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as { data: string };
  const envelope = JSON.parse(payload.data) as Record<string, unknown>;
  const changed = Buffer.from(JSON.stringify({ ...payload, data: JSON.stringify({ ...envelope, eventType: topic }) })).toString('base64url');
  return { raw: Buffer.from(`${h}.${changed}.${s}`), headers: d.headers };
}

for (const version of ['V1', 'V3'] as const) {
  describe(`a catalog ${version} site`, () => {
    connectorConformance<WixEmulator>({
      definition,
      async start({ account, rateLimited, clock }) {
        const emulator = new WixEmulator({
          apiKey: API_KEY,
          siteId: SITE,
          instanceId: account === 'ours' ? INSTANCE : 'e1f2a3b4-0000-4000-8000-0000000a0be5',
          privateKey: keys.privateKey,
          catalogVersion: version,
          locations: ['loc-gallery-0001', 'loc-warehouse-0002'],
          pageSize: 2,
          ...(rateLimited ? { rateLimit: true } : {}),
          ...(clock ? { clock } : {}),
        });
        return { emulator, baseUrl: await emulator.start() };
      },
      context: () => ({ settings: { siteId: SITE, instanceId: INSTANCE, pageSize: 2, ...(version === 'V3' ? { defaultLocationId: 'loc-gallery-0001' } : {}) }, credentials: { apiKey: API_KEY, webhookPublicKey: PUBLIC_PEM } }),
      webhookSecretCredential: 'webhookPublicKey',
      signatureHeaders: [],
      unsign: (d) => ({ raw: Buffer.from(d.raw.toString('utf8').replace(/\.[A-Za-z0-9_-]*$/, '.')), headers: d.headers }),
      sentTopics: [ORDER_CREATED, ORDER_APPROVED, ORDER_CANCELED, REFUND_COMPLETED, version === 'V1' ? V1_INVENTORY_CHANGED : V3_INVENTORY_UPDATED],
      retopic,
      pushMode: () => ({}),
      // A canceled order, its items put back.
      async moreEvents(emu, at) {
        const { orderId } = await emu.sell({ sku: at.sku, quantity: 1, locationId: at.locationId });
        await emu.cancel(orderId, true);
      },
      listed: (emu, sku) => emu.visible(sku),
      vectors: [],
      examples: DOCUMENTED_EXAMPLES,
      checkEmulator(emu) {
        expect(emu.internalErrors).toEqual([]);
      },
    });
  });
}
