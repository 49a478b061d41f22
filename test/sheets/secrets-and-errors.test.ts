/**
 * The service account's key and Google's tokens never appear in logs, stored errors or API answers,
 * even while Google refuses the key or the sheet; failures are said in words a shop owner can act on.
 * And the fake answers bad requests the way Google does, so the tests above can fail.
 */
import crypto from 'node:crypto';
import { google } from 'googleapis';
import { ConfigError, readServiceAccountKey } from '../../server/config';
import { createLogger } from '../../server/log';
import { SheetsFake } from '../fakes/sheets-fake';
import { CLIENT_EMAIL, SPREADSHEET_ID, serviceAccountKey, sheetRig, type SheetRig } from './helpers';

jest.setTimeout(90_000);
const FAST = { fakeQuota: { writes: 60, windowMs: 6000 }, sheets: { quota: { requests: 60, windowMs: 6000 } } };

describe('secrets', () => {
  let r: SheetRig;
  afterEach(() => r?.close());

  test('while Google refuses the key, then the sheet, the log and the stored errors say why and never show the key or a token', async () => {
    const lines: string[] = [];
    const log = createLogger('debug', { write: (s: string) => void lines.push(s) });
    // (not suspended by its failures here: that is write-back.test.ts's subject)
    r = await sheetRig('sqlite', { fakeQuota: FAST.fakeQuota, hub: { log, sheets: FAST.sheets }, file: { dispatch: { suspendAfter: 1000 } } });
    const { fake, key } = r;
    const tokensBefore = [...fake.tokensIssued];

    // Google stops taking this key (it was deleted in the console): every token is revoked, the
    // signature no longer checks out.
    fake.tokensIssued.length = 0;
    (fake.opts as { publicKey: crypto.KeyObject }).publicKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    await r.sell('ART-2', 10); // out of stock: an alert too
    await r.settle();
    const waiting = (await r.t.hub.store.outbox.list({ limit: 100, status: 'pending' })).filter((o) => o.sink === 'sheets');
    expect(waiting.length).toBeGreaterThan(0);
    // First the token in hand is refused (401); signing in afresh then fails (invalid_grant). Both said plainly.
    expect(waiting[0]!.lastError).toMatch(/^Google refused (to sign in )?the service account stockrelay-hub@/);
    const refusal = `Google refused to sign in the service account ${CLIENT_EMAIL} (invalid_grant: Invalid JWT Signature.): check that its key is still active (Google Cloud console › IAM › Service accounts › Keys).`;
    for (let tries = 0; !lines.join('\n').includes(refusal) && tries < 100; tries++) {
      for (const o of (await r.t.hub.store.outbox.list({ limit: 100, status: 'pending' })).filter((x) => x.sink === 'sheets')) await r.t.hub.store.outbox.fail(o.id, o.lastError ?? '', new Date().toISOString(), new Date().toISOString());
      r.t.hub.dispatcher.notify();
      await new Promise((res) => setTimeout(res, 100));
    }
    const said = lines.join('\n');
    expect(said).toContain(`Google refused the service account ${CLIENT_EMAIL} (401): check its key.`);
    expect(said).toContain(`Google refused to sign in the service account ${CLIENT_EMAIL} (invalid_grant: Invalid JWT Signature.): check that its key is still active (Google Cloud console › IAM › Service accounts › Keys).`);

    // The key works again; then the sheet is unshared (403): the message says what to do.
    (fake.opts as { publicKey: crypto.KeyObject }).publicKey = key.publicKey;
    fake.failNextWrites = [403];
    for (const o of waiting) await r.t.hub.store.outbox.fail(o.id, o.lastError ?? '', new Date().toISOString(), new Date().toISOString());
    r.t.hub.dispatcher.notify();
    const deadline = Date.now() + 20_000;
    while ((r.catalogRow('ART-2')['On hand · gallery'] !== 0 || fake.read('Alerts').length < 2) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 200));
      await r.settle();
      for (const o of (await r.t.hub.store.outbox.list({ limit: 100, status: 'pending' })).filter((x) => x.sink === 'sheets')) await r.t.hub.store.outbox.fail(o.id, o.lastError ?? '', new Date().toISOString(), new Date().toISOString());
    }
    expect(r.catalogRow('ART-2')).toMatchObject({ 'On hand · gallery': 0, 'Available · gallery': 0 });
    const alerts = fake.read('Alerts').slice(1);
    expect(alerts).toEqual([[expect.stringMatching(/ UTC$/), 'warning', 'Out of stock', 'ART-2', 'gallery', '', 'ART-2 is out of stock at gallery.', 'open']]);
    const logged = lines.join('\n');
    expect(logged).toMatch(new RegExp(`${CLIENT_EMAIL.replace(/[.]/g, '\\.')} may not edit the spreadsheet \\(403\\): share the sheet with that address as an Editor`));

    const outbox = await r.t.hub.store.outbox.list({ limit: 500 });
    const stored = JSON.stringify(outbox.map((o) => o.lastError)) + JSON.stringify((await r.t.api('GET', '/v1/dead-letters')).body);
    const pemBody = key.pem.split('\n').filter((l) => l && !l.startsWith('-----'));
    for (const text of [logged, stored]) {
      expect(text).not.toContain('PRIVATE KEY');
      for (const line of pemBody) expect(text).not.toContain(line);
      expect(text).not.toContain(key.json.private_key_id);
      for (const t of [...tokensBefore, ...fake.tokensIssued]) expect(text).not.toContain(t);
      expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\./); // a signed assertion
    }
  });

  test('a key that cannot be read is named, never quoted', () => {
    const { json, pem } = serviceAccountKey('https://oauth2.googleapis.com/token');
    const broken = JSON.stringify({ ...json, client_email: undefined });
    let message = '';
    try {
      readServiceAccountKey(broken, 'SHEETS_KEY');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toBe('SHEETS_KEY: the service account key has no client_email.');
    expect(() => readServiceAccountKey(JSON.stringify({ ...json, type: 'authorized_user' }), 'SHEETS_KEY')).toThrow(/not a service account key/);
    expect(() => readServiceAccountKey('/nonexistent/key.json', 'SHEETS_KEY')).toThrow(/SHEETS_KEY names a key file that cannot be read \(ENOENT\)/);
    expect(() => readServiceAccountKey(`{"private_key": "${pem.slice(0, 40)}`, 'SHEETS_KEY')).toThrow(/^SHEETS_KEY: the service account key is not valid JSON/);
    try {
      readServiceAccountKey(`{"private_key": "${pem.slice(0, 40)}`, 'SHEETS_KEY');
    } catch (err) {
      expect((err as Error).message).not.toContain(pem.slice(30, 40));
    }
  });
});

describe('the Sheets fake answers as Google does', () => {
  let fake: SheetsFake;
  let key: ReturnType<typeof serviceAccountKey>;
  beforeEach(async () => {
    fake = await SheetsFake.start({ spreadsheetId: SPREADSHEET_ID, clientEmail: CLIENT_EMAIL, publicKey: 'x', quota: { writes: 3, windowMs: 60_000 } });
    key = serviceAccountKey(fake.tokenUrl);
    (fake.opts as { publicKey: crypto.KeyObject }).publicKey = key.publicKey;
    fake.addTab('Movements', ['When', 'SKU']);
  });
  afterEach(() => fake.close());

  const client = (privateKey = key.pem) => {
    const auth = new google.auth.JWT({ email: CLIENT_EMAIL, key: privateKey, scopes: ['https://www.googleapis.com/auth/spreadsheets'], transporterOptions: { fetchImplementation: fetch } });
    auth.transporter.interceptors.request.add({ resolved: async (c) => ((String(c.url) === 'https://oauth2.googleapis.com/token' ? (c.url = new URL(fake.tokenUrl)) : null), c) });
    return google.sheets({ version: 'v4', auth, rootUrl: fake.url });
  };
  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      const e = err as { status?: number; response?: { status: number; data: unknown } };
      return { status: e.response?.status ?? e.status, data: e.response?.data, message: (err as Error).message };
    }
    throw new Error('expected a failure');
  };

  test('valueInputOption missing or unknown: 400 INVALID_ARGUMENT, nothing written', async () => {
    const sheets = client();
    const missing = await failure(sheets.spreadsheets.values.append({ spreadsheetId: SPREADSHEET_ID, range: 'Movements!A1', requestBody: { values: [['x', 'y']] } }, { retry: false }));
    expect(missing).toMatchObject({ status: 400, data: { error: { code: 400, status: 'INVALID_ARGUMENT', message: "'valueInputOption' is required but not specified" } } });
    const unknown = await failure(sheets.spreadsheets.values.batchUpdateByDataFilter({ spreadsheetId: SPREADSHEET_ID, requestBody: { valueInputOption: 'PLAIN', data: [{ dataFilter: { a1Range: 'Movements!A2' }, values: [['x']] }] } }, { retry: false }));
    expect(unknown).toMatchObject({ status: 400, data: { error: { code: 400, status: 'INVALID_ARGUMENT' } } });
    expect(fake.read('Movements')).toEqual([['When', 'SKU']]);
  });

  test('a key Google does not know gets no token; no token, no data', async () => {
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const refused = await failure(client(other).spreadsheets.get({ spreadsheetId: SPREADSHEET_ID }, { retry: false }));
    expect(refused.message).toMatch(/invalid_grant/);
    const res = await fetch(`${fake.url}v4/spreadsheets/${SPREADSHEET_ID}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
  });

  test('the write quota: the request past it is 429 RESOURCE_EXHAUSTED, with Retry-After when set', async () => {
    const sheets = client();
    fake.retryAfterSeconds = 7;
    for (let i = 0; i < 3; i++) await sheets.spreadsheets.values.append({ spreadsheetId: SPREADSHEET_ID, range: 'Movements!A1', valueInputOption: 'RAW', requestBody: { values: [[`t${i}`, 'S']] } }, { retry: false });
    const over = await failure(sheets.spreadsheets.values.append({ spreadsheetId: SPREADSHEET_ID, range: 'Movements!A1', valueInputOption: 'RAW', requestBody: { values: [['t3', 'S']] } }, { retry: false }));
    expect(over).toMatchObject({ status: 429, data: { error: { code: 429, status: 'RESOURCE_EXHAUSTED' } } });
    expect(fake.writes().map((w) => w.status)).toEqual([200, 200, 200, 429]);
    expect(fake.read('Movements')).toEqual([['When', 'SKU'], ['t0', 'S'], ['t1', 'S'], ['t2', 'S']]);
  });

  test('row metadata follows its row through a sort and an insert, and a data filter finds it there', async () => {
    fake.addTab('Catalog', ['SKU', 'On hand']);
    fake.addRow('Catalog', ['B', 1], 'B');
    fake.addRow('Catalog', ['A', 2], 'A');
    const sheets = client();
    const catalog = (await sheets.spreadsheets.get({ spreadsheetId: SPREADSHEET_ID })).data.sheets!.find((s) => s.properties!.title === 'Catalog')!.properties!.sheetId!;
    await sheets.spreadsheets.batchUpdate({
      spreadsheetId: SPREADSHEET_ID,
      requestBody: { requests: [{ sortRange: { range: { sheetId: catalog, startRowIndex: 1, endRowIndex: 3 }, sortSpecs: [{ dimensionIndex: 0, sortOrder: 'ASCENDING' }] } }, { insertDimension: { range: { sheetId: catalog, dimension: 'ROWS', startIndex: 1, endIndex: 2 } } }] },
    });
    const found = await sheets.spreadsheets.developerMetadata.search({ spreadsheetId: SPREADSHEET_ID, requestBody: { dataFilters: [{ developerMetadataLookup: { metadataKey: 'stockrelay.sku', metadataValue: 'B' } }] } });
    expect(found.data.matchedDeveloperMetadata![0]!.developerMetadata!.location!.dimensionRange).toEqual({ sheetId: catalog, dimension: 'ROWS', startIndex: 3, endIndex: 4 });
    const res = await sheets.spreadsheets.values.batchUpdateByDataFilter({
      spreadsheetId: SPREADSHEET_ID,
      requestBody: { valueInputOption: 'RAW', data: [{ dataFilter: { developerMetadataLookup: { metadataKey: 'stockrelay.sku', metadataValue: 'B', locationType: 'ROW' } }, majorDimension: 'ROWS', values: [[null, 9]] }, { dataFilter: { developerMetadataLookup: { metadataKey: 'stockrelay.sku', metadataValue: 'nope' } }, values: [[1]] }] },
    });
    expect(res.data.responses!.map((x) => x.updatedRange ?? null)).toEqual(["'Catalog'!B4:B4", null]);
    expect(fake.read('Catalog')).toEqual([['SKU', 'On hand'], [], ['A', 2], ['B', 9]]);
  });
});
