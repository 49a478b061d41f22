/**
 * The Airtable scripts' own HMAC-SHA256 (airtable-scripts/src/sign.ts: UTF-8, SHA-256, HMAC and base64
 * in plain JavaScript, because Airtable does not document Web Crypto, TextEncoder, atob or btoa for
 * automations), checked against published vectors and against Node's own crypto on random inputs.
 *
 * Vectors, fixed here, never recomputed by the code under test:
 * - SHA-256: the NIST examples (FIPS 180-2 appendix B / CSRC "Examples with Intermediate Values":
 *   "abc", the 448-bit and 896-bit messages, one million "a"), and the empty message;
 * - HMAC-SHA256: RFC 4231 test cases 1 to 7 (§4.2–4.8; case 5 truncated to 128 bits as the RFC does);
 * - the platforms' HMAC-SHA256 signatures in /work/shared/specs/webhook-signature-vectors.json
 *   (Shopify, Square), and the Standard Webhooks signing vector (standard-webhooks/standard-webhooks,
 *   libraries/javascript/src/webhook.test.ts, "sign function works").
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fc from 'fast-check';
import { base64Decode, base64Encode, hmacSha256, sha256, signRelay, utf8Encode, verifyAnswer } from '../../airtable-scripts/src/sign';
import { RelayVerifier, signRelay as hubSign } from '../../server/relay/verify';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const fill = (n: number, v: number) => new Uint8Array(n).fill(v);
const nodeSha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');
const nodeHmac = (k: Uint8Array, m: Uint8Array) => crypto.createHmac('sha256', k).update(m).digest('hex');

describe('published vectors', () => {
  test.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
    ['abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu', 'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1'],
    ['a'.repeat(1_000_000), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0'],
  ])('SHA-256 of %#: the NIST value, and Node’s', (message, digest) => {
    expect(hex(sha256(bytes(message)))).toBe(digest);
    expect(nodeSha(bytes(message))).toBe(digest);
  });

  const rfc4231: [string, Uint8Array, Uint8Array, string][] = [
    ['1', fill(20, 0x0b), bytes('Hi There'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    ['2', bytes('Jefe'), bytes('what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
    ['3', fill(20, 0xaa), fill(50, 0xdd), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
    ['4', Uint8Array.from({ length: 25 }, (_, i) => i + 1), fill(50, 0xcd), '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b'],
    ['5 (truncated to 128 bits)', fill(20, 0x0c), bytes('Test With Truncation'), 'a3b6167473100ee06e0c796c2955552b'],
    ['6 (a key longer than a block)', fill(131, 0xaa), bytes('Test Using Larger Than Block-Size Key - Hash Key First'), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'],
    [
      '7 (key and data longer than a block)',
      fill(131, 0xaa),
      bytes('This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.'),
      '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    ],
  ];
  test.each(rfc4231)('HMAC-SHA256, RFC 4231 test case %s: the RFC’s value, and Node’s', (_name, key, data, mac) => {
    expect(hex(hmacSha256(key, data)).slice(0, mac.length)).toBe(mac);
    expect(nodeHmac(key, data).slice(0, mac.length)).toBe(mac);
  });

  test('the platforms’ published HMAC-SHA256 signatures (shared/specs/webhook-signature-vectors.json)', () => {
    const v = JSON.parse(fs.readFileSync('/work/shared/specs/webhook-signature-vectors.json', 'utf8')) as {
      shopify: { secret: string; body: string; signature: string }[];
      square: { signatureKey: string; notificationUrl: string; body: string; signature: string }[];
    };
    expect(v.shopify.length + v.square.length).toBeGreaterThanOrEqual(4);
    for (const s of v.shopify) expect(base64Encode(hmacSha256(utf8Encode(s.secret), utf8Encode(s.body)))).toBe(s.signature);
    for (const s of v.square) expect(base64Encode(hmacSha256(utf8Encode(s.signatureKey), utf8Encode(s.notificationUrl + s.body)))).toBe(s.signature);
  });

  test('the Standard Webhooks signing vector: signRelay gives exactly the published signature, and verifyAnswer accepts it', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = '{"test": 2432232314}';
    expect(signRelay(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, body)).toEqual({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
    const headers = { id: 'msg_p5jXN8AQM9LWM0D4loKWxJek', timestamp: '1614265330', signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' };
    expect(verifyAnswer(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', headers, body, 1614265330)).toEqual({ valid: true });
    expect(verifyAnswer(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', headers, `${body} `, 1614265330)).toMatchObject({ valid: false, code: 'bad_signature' });
  });
});

describe('against Node’s crypto, on random inputs (fast-check)', () => {
  test('SHA-256 of every length from 0 to 300 bytes (each padding case), then of random bytes', () => {
    for (let n = 0; n <= 300; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      expect(hex(sha256(b))).toBe(nodeSha(b));
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), (b) => hex(sha256(b)) === nodeSha(b)), { numRuns: 300 });
  });

  test('HMAC-SHA256 with keys shorter than, as long as and longer than a block', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 3000 }), (key, message) => hex(hmacSha256(key, message)) === nodeHmac(key, message)),
      { numRuns: 400 },
    );
  });

  test('UTF-8 as Node encodes it, lone surrogates included (U+FFFD)', () => {
    const codeUnits = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 200 }).map((u) => String.fromCharCode(...u));
    fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), codeUnits), (s) => hex(utf8Encode(s)) === Buffer.from(s, 'utf8').toString('hex')), { numRuns: 500 });
  });

  test('base64 as Node encodes it and as atob decodes it: the same bytes, or refused whenever atob refuses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        const text = base64Encode(b);
        return text === Buffer.from(b).toString('base64') && hex(base64Decode(text)) === hex(b);
      }),
      { numRuns: 300 },
    );
    const chars = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=', ' ', '\n', '-', '_', '.', 'é');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 40 }).map((a) => a.join('')), (s) => {
        let expected: string | null;
        try {
          expected = Buffer.from(atob(s), 'latin1').toString('hex');
        } catch {
          expected = null;
        }
        let got: string | null;
        try {
          got = hex(base64Decode(s));
        } catch {
          got = null;
        }
        return got === expected;
      }),
      { numRuns: 2000 },
    );
  });

  test('a relay signed by the script is accepted by the hub’s RelayVerifier, and the hub’s signed answer by verifyAnswer', () => {
    const ascii = fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 60 }).filter((s) => /^[\x21-\x7e]+$/.test(s));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 24, maxLength: 64 }), ascii, fc.string({ unit: 'binary', maxLength: 500 }), fc.string({ unit: 'binary', maxLength: 500 }), (key, id, body, answer) => {
        const secret = `whsec_${Buffer.from(key).toString('base64')}`;
        const now = new Date();
        const headers = signRelay(secret, id, now.getTime() / 1000, body);
        expect(headers['webhook-signature']).toBe(hubSign(secret, id, body, now)['webhook-signature']);
        const verdict = new RelayVerifier([secret]).verify(Buffer.from(body, 'utf8'), { ...headers });
        if (!verdict.valid) throw new Error(verdict.reason);
        const h = hubSign(secret, id, answer, now);
        const fromHub = { id: h['webhook-id']!, timestamp: h['webhook-timestamp']!, signature: h['webhook-signature']! };
        expect(verifyAnswer(secret, id, fromHub, answer, now.getTime() / 1000)).toEqual({ valid: true });
        expect(verifyAnswer(secret, id, fromHub, `${answer}x`, now.getTime() / 1000)).toMatchObject({ valid: false, code: 'bad_signature' });
      }),
      { numRuns: 200 },
    );
  });
});

test('a secret that is not whsec_ and base64 is refused with a sentence for the base owner, never quoting it', () => {
  for (const bad of ['hunter2', 'whsec_', 'whsec_@@@@', 'whsec_A', ' whsec_abc def']) {
    let message = '';
    try {
      signRelay(bad, 'm', 1, '{}');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/should start with "whsec_" followed by the rest of the secret exactly as the hub gave it/);
    const rest = bad.trim().replace(/^whsec_/, '');
    if (rest) expect(message).not.toContain(rest);
  }
});
