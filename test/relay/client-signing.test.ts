/**
 * The sheet add-on and the Airtable scripts sign relays with their own code (Apps Script has no
 * Node crypto; Airtable has Web Crypto). These tests prove the hub accepts what they produce —
 * including non-ASCII text and Apps Script's signed bytes — and refuses it with the wrong secret.
 */
import crypto from 'node:crypto';
import { signRelay as signForAirtable } from '../../airtable-scripts/src/sign';
import { signRelay as signForSheet, type UtilitiesLike } from '../../appsscript/src/relay/sign';
import { RelayVerifier } from '../../server/relay/verify';
import { RELAY_SECRET } from '../helpers/hub';

/** Apps Script's Utilities, reproduced on Node: byte arrays hold signed values (-128..127). */
const toSigned = (buf: Uint8Array) => Array.from(buf, (b) => (b > 127 ? b - 256 : b));
const toBuffer = (bytes: number[]) => Buffer.from(bytes.map((b) => (b < 0 ? b + 256 : b)));
const FakeUtilities: UtilitiesLike = {
  base64Decode: (s) => toSigned(Buffer.from(s, 'base64')),
  base64Encode: (bytes) => toBuffer(bytes).toString('base64'),
  computeHmacSha256Signature: (value, key) => toSigned(crypto.createHmac('sha256', toBuffer(key)).update(toBuffer(value)).digest()),
  newBlob: (data) => ({ getBytes: () => toSigned(Buffer.from(data, 'utf8')) }),
};

const verifier = new RelayVerifier([RELAY_SECRET]);
const body = JSON.stringify({ kind: 'cell_edit', sku: 'ART-Ŋ-07', field: 'title', oldValue: null, newValue: 'Ngayu — Tjukurpa, ochre on bark', editedAt: new Date().toISOString() });
const now = () => Math.floor(Date.now() / 1000);

test('a relay signed by the sheet add-on is accepted by the hub, and refused if one byte changes', () => {
  const headers = signForSheet(RELAY_SECRET, 'msg_sheet_1', now(), body, FakeUtilities);
  expect(verifier.verify(Buffer.from(body), { ...headers })).toMatchObject({ valid: true, id: 'msg_sheet_1' });
  expect(verifier.verify(Buffer.from(body.replace('ochre', 'Ochre')), { ...headers })).toMatchObject({ valid: false, code: 'bad_signature' });
});

test('a relay signed by an Airtable script is accepted by the hub, and refused under another secret', async () => {
  const headers = await signForAirtable(RELAY_SECRET, 'msg_airtable_1', now(), body);
  expect(verifier.verify(Buffer.from(body), { ...headers })).toMatchObject({ valid: true, id: 'msg_airtable_1' });
  const other = `whsec_${crypto.randomBytes(32).toString('base64')}`;
  const forged = await signForAirtable(other, 'msg_airtable_2', now(), body);
  expect(verifier.verify(Buffer.from(body), { ...forged })).toMatchObject({ valid: false, code: 'bad_signature' });
});

test('both clients produce the same signature for the same relay', async () => {
  const ts = now();
  expect(signForSheet(RELAY_SECRET, 'msg_same', ts, body, FakeUtilities)).toEqual(await signForAirtable(RELAY_SECRET, 'msg_same', ts, body));
});

test('a mistyped relay secret is reported in words a shop owner can act on', async () => {
  expect(() => signForSheet('abc123', 'm', now(), body, FakeUtilities)).toThrow(/should start with "whsec_"/);
  expect(() => signForAirtable('whsec_', 'm', now(), body)).toThrow(/should start with "whsec_"/);
});
