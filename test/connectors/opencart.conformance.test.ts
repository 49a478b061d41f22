/**
 * The connector conformance suite (test/connectors/conformance.ts) run against the OpenCart
 * emulator (an OpenCart 4 store with the stockrelay extension). What is OpenCart's own here: the
 * extension's key and secret, the signature header, the topic signed inside the body (the
 * X-Stockrelay-Topic header only repeats it), compare-and-set when the level is known and an
 * absolute set with a read-back when it is not, the events feed, and the extension's signature
 * vectors (test/connectors/opencart/signature-vectors.json, checked against the PHP code too).
 */
import fs from 'node:fs';
import path from 'node:path';
import { definition } from '../../server/connectors/opencart';
import { OC_HOST_LIMIT, OcEmulator } from '../../server/connectors/opencart/emulator';
import { connectorConformance, type SignatureVector } from './conformance';

const KEY = 'oc-conformance-api-key-0123456789abcdef';
const SECRET = 'opencart conformance webhook secret';

interface VectorFile {
  vectors: { name: string; secret: string; storeUrl: string; body: string; headers: Record<string, string>; valid: boolean; refusal?: 'signature' | 'account' | 'topic' }[];
}
const file = JSON.parse(fs.readFileSync(path.join(__dirname, 'opencart/signature-vectors.json'), 'utf8')) as VectorFile;

connectorConformance<OcEmulator>({
  definition,
  async start({ rateLimited, clock }) {
    // Another store is another OpenCart installation, at its own address, given the same secret.
    const emulator = new OcEmulator({ apiKey: KEY, webhookSecret: SECRET, ...(rateLimited ? { hostLimit: OC_HOST_LIMIT } : {}), ...(clock ? { clock } : {}) });
    return { emulator, baseUrl: await emulator.start() };
  },
  context: () => ({ settings: { pageSize: 2 }, credentials: { apiKey: KEY, webhookSecret: SECRET } }),
  webhookSecretCredential: 'webhookSecret',
  signatureHeaders: ['x-stockrelay-signature'],
  retopic: (d, topic) => ({ raw: d.raw, headers: { ...d.headers, 'x-stockrelay-topic': topic } }),
  pushMode: (mode) => (mode === 'absolute_set' ? { expectedUnknown: true } : {}),
  listed: (emu, sku) => emu.product(sku)?.status === 1,
  // The vectors are signed at a fixed time: the age check is off for them (maxAgeSeconds 0).
  vectors: file.vectors.map(
    (v): SignatureVector => ({
      name: v.name,
      raw: v.body,
      headers: v.headers,
      settings: { storeUrl: v.storeUrl, maxAgeSeconds: 0 },
      credentials: { webhookSecret: v.secret },
      expect: v.valid ? 'valid' : { refusal: v.refusal!, reason: /./ },
      mustFail: v.valid ? [{ name: 'another secret', credentials: { webhookSecret: `${v.secret}x` } }] : [],
    }),
  ),
  // The vectors' bodies, as the extension writes them.
  examples: file.vectors
    .filter((v) => v.valid)
    .map((v) => ({ name: v.name, topic: v.headers['x-stockrelay-topic']!, body: JSON.parse(v.body) as unknown, expect: v.headers['x-stockrelay-topic'] === 'order.status' ? (['sale', 'level_observed'] as const).slice() : ['level_observed' as const] })),
  checkEmulator(emu) {
    // No request of the connector was refused as malformed, and the emulator never failed by itself.
    expect(emu.selfCheck()).toEqual([]);
  },
});
