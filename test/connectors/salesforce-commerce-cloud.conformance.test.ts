/**
 * The connector conformance suite (test/connectors/conformance.ts) run against the Salesforce
 * Commerce Cloud emulator. What is B2C Commerce's own here: its emulator (Account Manager tokens
 * with the tenant scope; the admin Orders and Products APIs checked against Salesforce's OpenAPI
 * files; Omnichannel Inventory, which no published file describes), no webhooks at all (orders and
 * OCI changes are polled, so the suite reads what the feeds show), absolute on-hand sets only, no
 * refunds in the Orders API, and the order example of orders-oas-v1-public.yaml (`OrderGet`).
 */
import { definition } from '../../server/connectors/salesforce-commerce-cloud';
import { SFCC_EMULATED_LIMIT, SfccEmulator } from '../../server/connectors/salesforce-commerce-cloud/emulator';
import { ORDER_TOPIC } from '../../server/connectors/salesforce-commerce-cloud/translate';
import { connectorConformance } from './conformance';
import { documentedOrder } from './salesforce-commerce-cloud/documented';

const CLIENT_ID = 'a6f0c2e4-conformance-api-client';
const CLIENT_SECRET = 'sfcc-conformance-client-secret';
const REALM = { organizationId: 'f_ecom_zzcf_001', tenantGroupId: 'conformance_group', siteId: 'ConformanceSite' };
const emulators: SfccEmulator[] = [];

connectorConformance<SfccEmulator>({
  definition,
  async start({ account, rateLimited, clock }) {
    // Another realm: its own organization and tenant group, an API client with the same id and secret.
    const realm = account === 'ours' ? REALM : { organizationId: 'f_ecom_zzot_001', tenantGroupId: 'other_group', siteId: 'OtherSite' };
    const emulator = new SfccEmulator({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...realm, ...(rateLimited ? { rateLimit: SFCC_EMULATED_LIMIT } : {}), ...(clock ? { clock } : {}) });
    emulators.push(emulator);
    return { emulator, baseUrl: await emulator.start() };
  },
  context: ({ baseUrl }) => ({ settings: { ...REALM, oauthBaseUrl: baseUrl, pageSize: 2 }, credentials: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } }),
  retopic: (d) => d,
  pushMode: () => ({}),
  listed: (emu, sku) => emu.online(sku),
  // No webhooks: every delivery to the webhook door is refused, and events come from the feeds.
  webhookSecretCredential: null,
  signatureHeaders: [],
  // The admin Orders API shows no returns or refunds (oms-status-events only takes them in); a return
  // that restocks raises OCI on-hand, which the levels feed reports.
  restockReported: false,
  vectors: [],
  examples: [
    { name: 'the Orders API example OrderGet (status new)', topic: ORDER_TOPIC, body: documentedOrder(), expect: ['order_updated', 'sale'] },
    { name: 'OrderGet cancelled', topic: ORDER_TOPIC, body: { ...documentedOrder(), status: 'cancelled' }, expect: ['order_updated', 'sale', 'cancellation'] },
    { name: 'OrderGet still created (not placed)', topic: ORDER_TOPIC, body: { ...documentedOrder(), status: 'created' }, expect: [] },
  ],
  checkEmulator(emu) {
    // Every request sent in this suite on a path Salesforce's files describe kept to them, and so did every answer.
    expect(emu.spec).not.toBeNull();
    for (const e of emulators) {
      expect(e.specViolations).toEqual([]);
      expect(e.internalErrors).toEqual([]);
    }
    expect([...emu.covered.keys()].length).toBeGreaterThan(0);
  },
});
