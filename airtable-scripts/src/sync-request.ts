/**
 * request-sync: asks the hub to send its current numbers again — to every channel and to the sheet and
 * Airtable write-backs — for some SKUs or for everything, and with `reconcile` to read every channel
 * back as well. Books nothing. Run from a button, a schedule or a form.
 */
import type { ScriptEnv } from './airtable';
import { eventLabel, readInputs, runDeadline, runScript, ScriptFailure, send, uniqueId, type Outcome } from './script';

const MAX_SKU_LENGTH = 120;
const MAX_SKUS = 5000;

/** `skus`: comma- or line-separated; empty means every item. */
export function parseSkus(text: string): string[] | undefined {
  const skus = [...new Set(text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean))];
  if (skus.length === 0) return undefined;
  const long = skus.find((s) => s.length > MAX_SKU_LENGTH);
  if (long) throw new ScriptFailure(`skus lists "${long.slice(0, 40)}…", longer than the ${MAX_SKU_LENGTH} characters a SKU may have; separate SKUs with commas.`);
  if (skus.length > MAX_SKUS) throw new ScriptFailure(`skus lists ${skus.length} SKUs; at most ${MAX_SKUS} at a time (leave it empty for every item).`);
  return skus;
}

/** `reconcile`: yes/no (true/false); empty leaves it to the hub (no). */
export function parseYesNo(name: string, text: string): boolean | undefined {
  const t = text.toLowerCase();
  if (t === '') return undefined;
  if (['yes', 'y', 'true', '1'].includes(t)) return true;
  if (['no', 'n', 'false', '0'].includes(t)) return false;
  throw new ScriptFailure(`${name} should be yes or no (it is "${text.slice(0, 40)}").`);
}

export function requestSync(env: ScriptEnv): Promise<Outcome> {
  return runScript(env, async () => {
    const inputs = readInputs(env);
    const hubUrl = inputs.hubUrl();
    const secret = inputs.relaySecret();
    const skus = parseSkus(inputs.text('skus'));
    const reconcile = parseYesNo('reconcile', inputs.text('reconcile'));
    const actor = inputs.actor();
    const relay = {
      kind: 'sync_request',
      origin: 'airtable',
      ...(skus ? { skus } : {}),
      ...(reconcile !== undefined ? { reconcile } : {}),
      ...(actor ? { actor } : {}),
      requestedAt: new Date(env.now()).toISOString(),
    };
    const what = `${skus ? (skus.length === 1 ? `SKU ${skus[0]}` : `${skus.length} SKUs`) : 'every item'}${reconcile ? ', reading every channel back' : ''}`;
    const d = await send(env, { hubUrl, secret, deadline: runDeadline(env), id: uniqueId(env, 'airtable-sync'), relay, retryHint: 'Run it again once the hub is back.' });
    if (d.result === 'sent') return { status: 'sent', message: `The hub was asked to send its current numbers again${eventLabel(d)}: ${what}.`, eventId: d.eventId };
    if (d.result === 'already sent') return { status: 'already sent', message: `The hub already had this request (${what}).` };
    return { status: 'failed', message: d.message };
  });
}
