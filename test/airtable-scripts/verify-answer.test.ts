/**
 * verifyAnswer (airtable-scripts/src/sign.ts) against the hub's own answer signing: a relay the hub's
 * RelayVerifier accepts gives a `signAnswer` whose headers the script accepts, and nothing else passes.
 */
import { ANSWER_TOLERANCE_SECONDS, signRelay, verifyAnswer, type AnswerHeaders } from '../../airtable-scripts/src/sign';
import { RelayVerifier, signRelay as hubSign } from '../../server/relay/verify';
import { RELAY_SECRET } from '../helpers/hub';

const now = () => Math.floor(Date.now() / 1000);
const answerText = JSON.stringify({ eventId: 7, status: 'received', results: [], message: 'Stored; it will be booked in order.' });
const fromHub = (h: Record<string, string>): AnswerHeaders => ({ id: h['webhook-id'] ?? null, timestamp: h['webhook-timestamp'] ?? null, signature: h['webhook-signature'] ?? null });

test('the hub’s signed answer to a relay it verified is accepted; the same answer with one byte changed is not', async () => {
  const body = JSON.stringify({ kind: 'sync_request', requestedAt: new Date().toISOString() });
  const verdict = new RelayVerifier([RELAY_SECRET]).verify(Buffer.from(body), { ...(await signRelay(RELAY_SECRET, 'airtable-req-1', now(), body)) });
  if (!verdict.valid) throw new Error(verdict.reason);
  const headers = fromHub(verdict.signAnswer(answerText, new Date()));
  expect(await verifyAnswer(RELAY_SECRET, 'airtable-req-1', headers, answerText, now())).toEqual({ valid: true });
  expect(await verifyAnswer(RELAY_SECRET, 'airtable-req-1', headers, answerText.replace('7', '8'), now())).toMatchObject({ valid: false, code: 'bad_signature' });
});

test('an answer without signature, for another request, too old or signed with another secret is refused, each saying why', async () => {
  const h = fromHub(hubSign(RELAY_SECRET, 'req-2', answerText));
  expect(await verifyAnswer(RELAY_SECRET, 'req-2', { id: null, timestamp: null, signature: null }, answerText, now())).toMatchObject({ valid: false, code: 'unsigned' });
  expect(await verifyAnswer(RELAY_SECRET, 'req-3', h, answerText, now())).toMatchObject({ valid: false, code: 'other_request' });
  expect(await verifyAnswer(RELAY_SECRET, 'req-2', h, answerText, now() + ANSWER_TOLERANCE_SECONDS + 5)).toMatchObject({ valid: false, code: 'stale' });
  expect(await verifyAnswer(RELAY_SECRET, 'req-2', h, answerText, now() + ANSWER_TOLERANCE_SECONDS - 5)).toEqual({ valid: true });
  const other = `whsec_${Buffer.from('not-the-hub-secret-0123456789abcdef').toString('base64')}`;
  expect(await verifyAnswer(RELAY_SECRET, 'req-2', fromHub(hubSign(other, 'req-2', answerText)), answerText, now())).toMatchObject({ valid: false, code: 'bad_signature' });
});

test('while the secret is rotated several signatures may be listed; any v1 one that matches is enough, and garbage never throws', async () => {
  const h = fromHub(hubSign(RELAY_SECRET, 'req-4', answerText));
  const listed = { ...h, signature: `v1,AAAA v2,${h.signature!.slice(3)} v1,@@not-base64@@ ${h.signature}` };
  expect(await verifyAnswer(RELAY_SECRET, 'req-4', listed, answerText, now())).toEqual({ valid: true });
  expect(await verifyAnswer(RELAY_SECRET, 'req-4', { ...h, signature: 'v1,@@ v1, nonsense' }, answerText, now())).toMatchObject({ valid: false, code: 'bad_signature' });
  expect(await verifyAnswer(RELAY_SECRET, 'req-4', { ...h, signature: h.signature!.slice(0, -4) }, answerText, now())).toMatchObject({ valid: false, code: 'bad_signature' });
  expect(await verifyAnswer(RELAY_SECRET, 'req-4', { ...h, timestamp: 'soon' }, answerText, now())).toMatchObject({ valid: false, code: 'stale' });
});
