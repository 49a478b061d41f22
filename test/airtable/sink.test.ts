/**
 * The Airtable write-back's answers to Airtable's refusals, through the real `airtable` client
 * against the fake: what was sent, what the sink reports, and that nothing else is sent after a 429
 * or a refused token (the base is paused 30 s; the token never appears in a message).
 */
import { createAirtableApi } from '../../server/airtable/client';
import { airtableConfig } from '../../server/airtable/config';
import { AirtableSink, RATE_LIMIT_PAUSE_MS } from '../../server/airtable/sink';
import { DeliveryError } from '../../server/outbox/sink';
import type { OutboxEntry, Store } from '../../server/store/types';
import { AirtableFake } from '../fakes/airtable-fake';
import { BASE, addGalleryBase } from './base';

const movement = (id: number) => ({
  id,
  sku: 'ART-0001',
  locationId: 'gallery',
  quantity: -1,
  reason: 'sale',
  source: 'channel',
  channelId: 'square',
  externalRef: `order-${id}`,
  occurredAt: '2026-11-23T10:00:00.000Z',
  actor: null,
  note: null,
});
const entry = (id: number): OutboxEntry => ({ id, sink: 'airtable', topic: 'airtable.movement', coalesceKey: null, payload: { movement: movement(id) } }) as unknown as OutboxEntry;

describe('the Airtable sink against Airtable’s refusals', () => {
  let fake: AirtableFake;
  beforeAll(async () => {
    fake = await AirtableFake.start();
    addGalleryBase(fake);
  });
  afterAll(() => fake.close());

  const sink = (token = fake.token) => {
    const cfg = airtableConfig({ baseId: BASE, tokenEnv: 'AIRTABLE_TOKEN', endpointUrl: fake.url }, { AIRTABLE_TOKEN: token }, new Set(['gallery']))!;
    return new AirtableSink(cfg, {} as Store, createAirtableApi(cfg), { defaultLocation: 'gallery', quota: { requests: 100, windowMs: 1000 } });
  };

  test('25 movements go as three upserts of at most 10, keyed by movement id, so a repeat adds nothing', async () => {
    const s = sink();
    const results = await s.deliverBatch(Array.from({ length: 25 }, (_, i) => entry(i + 1)), new AbortController().signal);
    expect(results.every((r) => r === null)).toBe(true);
    expect(s.requests).toBe(3);
    expect(fake.records(BASE, 'Movements')).toHaveLength(25);
    await s.deliverBatch([entry(3), entry(4)], new AbortController().signal);
    expect(fake.records(BASE, 'Movements')).toHaveLength(25);
  });

  test('a 429 pauses the whole base for 30 s and sends nothing more from the batch', async () => {
    const s = sink();
    const before = fake.requests.length;
    fake.failNext(1, 429);
    const results = await s.deliverBatch(Array.from({ length: 30 }, (_, i) => entry(100 + i)), new AbortController().signal);
    expect(fake.requests.length - before).toBe(1);
    for (const r of results) {
      expect(r).toBeInstanceOf(DeliveryError);
      expect(r).toMatchObject({ retryAfterMs: RATE_LIMIT_PAUSE_MS, flags: { rateLimited: true } });
    }
    expect(results[0]!.message).toMatch(/slow down \(429\); writing to the base resumes in 30 s/);
  });

  test('a refused token is reported by the variable that holds it, never by its value, and stops the batch', async () => {
    const s = sink('patWRONGtoken00000.0123456789abcdef');
    const before = fake.requests.length;
    const results = await s.deliverBatch(Array.from({ length: 15 }, (_, i) => entry(200 + i)), new AbortController().signal);
    expect(fake.requests.length - before).toBe(1);
    expect(results[0]!.message).toMatch(/refused the token in AIRTABLE_TOKEN \(401\)/);
    for (const r of results) expect(r!.message).not.toContain('patWRONGtoken');
  });

  test('a missing field is named with what to do about it', async () => {
    const cfg = airtableConfig({ baseId: BASE, tokenEnv: 'T', endpointUrl: fake.url, movements: { fields: { Who: 'Staff member' } } }, { T: fake.token }, new Set(['gallery']))!;
    const s = new AirtableSink(cfg, {} as Store, createAirtableApi(cfg), { defaultLocation: 'gallery', quota: { requests: 100, windowMs: 1000 } });
    const [r] = await s.deliverBatch([entry(300)], new AbortController().signal);
    expect(r!.message).toMatch(/refused the records for table "Movements" \(422\).*rename them under airtable\.\*\.fields/);
    expect(fake.records(BASE, 'Movements').some((m) => m.fields.Movement === '300')).toBe(false);
  });
});
