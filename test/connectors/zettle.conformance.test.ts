/**
 * The connector conformance suite (test/connectors/conformance.ts) run against the Zettle emulator.
 * What is Zettle's own here: the organisation a message's signed payload names, the signing key of
 * the Pusher subscription, the event name outside the signature (in the envelope), moves from the
 * level the hub expected (a delta) and, for a level never read, from the level just read (an
 * absolute set, read back from the move's answer), the assertion grant's credentials, and the
 * documentation's example payloads.
 */
import { definition } from '../../server/connectors/zettle';
import { ZETTLE_LIMIT, ZettleEmulator } from '../../server/connectors/zettle/emulator';
import { connectorConformance } from './conformance';
import { DOCUMENTED_EXAMPLES } from './zettle/examples';

const CLIENT_ID = '6adde977-c34d-4de1-99b2-f6ed3e65431a';
const API_KEY = 'eyJraWQiOiIwIiwidHlwIjoiSldUIn0.conformance-api-key';
const SIGNING_KEY = 'zLzClQLQN8yfH8aEjONeXzgJRAHR0zpDconformance';
const ORG = '1b84dbd0-fb65-11e7-9c34-d96d4f33e8fc';
const OTHER_ORG = '0f60dbc0-fab5-11e7-b884-62da5a369555';
/** The organisation's STORE location (the channel maps `gallery` to it). */
const STORE = '1bfc07a0-fb65-11e7-8d72-68a12b957f8b';

connectorConformance<ZettleEmulator>({
  definition,
  // A 401 gets one fresh token from the API key and one more try.
  renewsTokenOn401: true,
  async start({ account, rateLimited, clock }) {
    const emulator = new ZettleEmulator({
      clientId: CLIENT_ID,
      apiKey: API_KEY,
      signingKey: SIGNING_KEY,
      organizationUuid: account === 'ours' ? ORG : OTHER_ORG,
      storeUuid: STORE,
      pageSize: 2,
      ...(rateLimited ? { rateLimit: ZETTLE_LIMIT } : {}),
      ...(clock ? { clock } : {}),
    });
    return { emulator, baseUrl: await emulator.start() };
  },
  context: ({ baseUrl }) => ({ settings: { organizationUuid: ORG, oauthBaseUrl: baseUrl, pageSize: 2 }, credentials: { clientId: CLIENT_ID, apiKey: API_KEY, signingKey: SIGNING_KEY } }),
  webhookSecretCredential: 'signingKey',
  signatureHeaders: ['x-izettle-signature'],
  // The event name travels in the envelope, outside the signed `<timestamp>.<payload>`.
  retopic: (d, topic) => ({ raw: Buffer.from(d.raw.toString('utf8').replace(/"eventName":"[^"]*"/, `"eventName":${JSON.stringify(topic)}`)), headers: d.headers }),
  pushMode: (mode) => (mode === 'absolute_set' ? { expectedUnknown: true } : {}),
  // Zettle publishes no signature vector.
  vectors: [],
  examples: DOCUMENTED_EXAMPLES.map((e) => ({ name: e.name, topic: e.topic, body: e.body, expect: e.expect })),
  checkEmulator(emu) {
    expect(emu.internalErrors).toEqual([]);
  },
});
