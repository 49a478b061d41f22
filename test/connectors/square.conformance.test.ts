/**
 * The connector conformance suite (test/connectors/conformance.ts) run against the Square emulator.
 * What is Square's own here: its emulator (every request and answer checked against Square's
 * OpenAPI document) and settings, the signature over the notification URL and body, the event type
 * inside the signed body, deltas when the last level is known and absolute counts when it is not,
 * Square's published signature vectors and the spec's webhook examples.
 */
import fs from 'node:fs';
import path from 'node:path';
import { definition } from '../../server/connectors/square';
import { SQUARE_EMULATED_LIMIT, SquareEmulator } from '../../server/connectors/square/emulator';
import { SquareSpec } from '../../server/connectors/square/spec';
import { SQUARE_TOPICS } from '../../server/connectors/square/translate';
import { connectorConformance, type DocumentedExample } from './conformance';

const TOKEN = 'EAAA_conformance_token_0001';
const KEY = 'square-conformance-signature-key';
const MERCHANT = 'MLCONFORMANCE01';

const vectors = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../shared/specs/webhook-signature-vectors.json'), 'utf8')) as {
  square: { source: string; signatureKey: string; notificationUrl: string; body: string; signature: string; mustFailWith?: { notificationUrl: string; signatureKey: string } }[];
};

/** What each of the spec's examples of our topics means (test/connectors/square.test.ts reads each in detail). */
const EXAMPLE_FACTS: Record<(typeof SQUARE_TOPICS)[number], DocumentedExample['expect']> = {
  'inventory.count.updated': ['level_observed'],
  // Thin: the order is fetched by expand; unexpanded, translate cannot read it.
  'order.created': 'unreadable',
  'order.updated': 'unreadable',
  'refund.updated': 'unreadable',
  // PENDING: nothing yet.
  'refund.created': [],
  // A payment names its order; without the fetched order, nothing.
  'payment.updated': [],
};

const spec = SquareSpec.load()!;

connectorConformance<SquareEmulator>({
  definition,
  async start({ account, rateLimited, clock }) {
    const emulator = new SquareEmulator({
      accessToken: TOKEN,
      webhookSignatureKey: KEY,
      merchantId: account === 'ours' ? MERCHANT : 'MOTHERSELLER01',
      catalogPageSize: 2,
      ...(rateLimited ? { rateLimit: SQUARE_EMULATED_LIMIT } : {}),
      ...(clock ? { clock } : {}),
    });
    return { emulator, baseUrl: await emulator.start() };
  },
  context: ({ webhookUrl }) => ({ settings: { notificationUrl: webhookUrl, merchantId: MERCHANT }, credentials: { accessToken: TOKEN, webhookSignatureKey: KEY } }),
  webhookSecretCredential: 'webhookSignatureKey',
  signatureHeaders: ['x-square-hmacsha256-signature'],
  // The type is inside the signed body: claiming another one changes the bytes.
  retopic: (d, topic) => ({ raw: Buffer.from(d.raw.toString('utf8').replace(/"type":"[^"]*"/, `"type":${JSON.stringify(topic)}`)), headers: d.headers }),
  pushMode: (mode) => (mode === 'absolute_set' ? { expectedUnknown: true } : {}),
  vectors: vectors.square.map((v, i) => ({
    name: `${i + 1} (${v.source})`,
    raw: v.body,
    headers: { 'x-square-hmacsha256-signature': v.signature },
    settings: { notificationUrl: v.notificationUrl, merchantId: 'MLEFBHHSJGVHD' },
    credentials: { webhookSignatureKey: v.signatureKey },
    // Vectors 2 and 3 are signed right but carry no event_id: they could not be deduplicated.
    expect: v.body.includes('"event_id"') ? ('valid' as const) : { refusal: 'signature' as const, reason: /no event_id/ },
    mustFail: v.mustFailWith
      ? [
          { name: 'another notification URL', settings: { notificationUrl: v.mustFailWith.notificationUrl } },
          { name: 'another signature key', credentials: { webhookSignatureKey: v.mustFailWith.signatureKey } },
        ]
      : [],
  })),
  examples: SQUARE_TOPICS.map((topic) => ({ name: `${topic} (the OpenAPI document's example)`, topic, body: spec.webhookExamples().find((e) => e.event === topic)!.example, expect: EXAMPLE_FACTS[topic] })),
  checkEmulator(emu) {
    expect(emu.specLoaded).toBe(true);
    expect(emu.specViolations).toEqual([]);
    expect(emu.internalErrors).toEqual([]);
  },
});
