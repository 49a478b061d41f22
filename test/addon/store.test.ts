/**
 * Document properties hold 9 KB per value and 500 KB in all: the fake refuses more, as Apps Script
 * does, and the chunked store keeps any JSON under those limits without splitting a character.
 */
import { CHUNK_BYTES, ChunkedStore, StorageFullError, STORE_BUDGET, splitUtf8, utf8Length } from '../../appsscript/src/store';
import { FakeProperties, STORE_LIMIT, VALUE_LIMIT } from './fakes/gas';

test('the fake properties refuse a value over 9 KB and a store over 500 KB, as Apps Script does', () => {
  const p = new FakeProperties();
  expect(() => p.setProperty('big', 'x'.repeat(VALUE_LIMIT + 1))).toThrow(/Argument too large/);
  expect(() => p.setProperty('big', 'é'.repeat(VALUE_LIMIT / 2 + 1))).toThrow(/Argument too large/); // bytes, not characters
  let i = 0;
  while (p.totalBytes() + 9010 <= STORE_LIMIT) p.setProperty(`k${i++}`, 'x'.repeat(9000));
  expect(i).toBeGreaterThan(50);
  expect(() => p.setProperty(`k${i}`, 'x'.repeat(9000))).toThrow(/exceeded the property storage quota/);
  expect(p.totalBytes()).toBeLessThanOrEqual(STORE_LIMIT);
});

test('text is split under the chunk size without cutting a character in two', () => {
  const text = 'Ngayu 🎨 — Tjukurpa, ochre on bark; Ŋ ü 漢字 '.repeat(900);
  const parts = splitUtf8(text);
  expect(parts.join('')).toBe(text);
  for (const p of parts) {
    expect(utf8Length(p)).toBeLessThanOrEqual(CHUNK_BYTES);
    expect(utf8Length(p)).toBe(Buffer.byteLength(p, 'utf8'));
    expect(p).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/); // no lone surrogate at either end
  }
});

test('a value of a few hundred KB is stored in chunks and read back whole; a smaller one deletes the extra chunks', () => {
  const p = new FakeProperties();
  const store = new ChunkedStore(p);
  const value = Array.from({ length: 2000 }, (_, i) => ({ id: `msg_${i}`, body: `{"sku":"ART-${i}","title":"Ŋ ${'x'.repeat(60)}"}` }));
  store.write('stockrelay.queue', value);
  expect(Number(p.getProperty('stockrelay.queue#n'))).toBeGreaterThan(20);
  expect(store.read('stockrelay.queue', [])).toEqual(value);
  store.write('stockrelay.queue', value.slice(0, 3));
  expect(p.getProperty('stockrelay.queue#n')).toBe('1');
  expect(Object.keys(p.getProperties()).filter((k) => k.startsWith('stockrelay.queue#'))).toHaveLength(2);
  expect(store.read('stockrelay.queue', [])).toEqual(value.slice(0, 3));
});

test('over the budget, nothing is written and the error says what to do', () => {
  const p = new FakeProperties();
  const store = new ChunkedStore(p);
  store.write('q', ['kept']);
  const huge = 'x'.repeat(STORE_BUDGET);
  expect(() => store.write('q', [huge])).toThrow(StorageFullError);
  expect(() => store.write('q', [huge])).toThrow(/storage for the add-on is full .* Reconnect the hub and use "Sync now"/);
  expect(store.read('q', [])).toEqual(['kept']);
});

test('a damaged value reads as the fallback instead of breaking every trigger', () => {
  const p = new FakeProperties();
  p.setProperties({ 'q#n': '2', 'q#0': '["a",' });
  expect(new ChunkedStore(p).read('q', ['fallback'])).toEqual(['fallback']);
  p.setProperty('q#1', '"b"]');
  expect(new ChunkedStore(p).read('q', [])).toEqual(['a', 'b']);
});
