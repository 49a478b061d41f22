/**
 * make-adjustment: one record of the Adjustments table (SKU, Quantity, Reason, Location, Note) becomes
 * an `adjustment` relay, run from a button or a form. Its webhook-id is the record's own
 * (`airtable-adj-<record id>`), so pressing the button twice books it once: the hub answers the second
 * time that it already has it. The outcome is written into the record's Status field.
 */
import type { AirtableRecord, ScriptEnv, Table } from './airtable';
import { cellText, eventLabel, getTable, hasField, readInputs, requireField, runDeadline, runScript, ScriptFailure, send, wholeNumber, withoutSecrets, type Outcome } from './script';

export const ADJUSTMENT_FIELDS = { sku: 'SKU', quantity: 'Quantity', reason: 'Reason', location: 'Location', note: 'Note', status: 'Status' } as const;
export const REASONS = ['adjustment', 'restock', 'receipt', 'return', 'sale', 'exchange'] as const;
const MAX_QUANTITY = 1_000_000;
const RETRY_HINT = 'Press the button again once the hub is back: it is booked once, however many times it is sent.';

function optionalText(table: Table, record: AirtableRecord, field: string): string {
  return hasField(table, field) ? cellText(record.getCellValue(field)) : '';
}

/** The relay the record stands for, or a failure naming what to fix. */
function adjustmentOf(table: Table, record: AirtableRecord, actor: string | undefined, occurredAt: string): { relay: object; what: string } {
  const f = ADJUSTMENT_FIELDS;
  const sku = record.getCellValueAsString(f.sku).trim();
  if (!sku) throw new ScriptFailure(`This adjustment has no ${f.sku}; fill it in and press the button again.`);
  const q = wholeNumber(record.getCellValue(f.quantity));
  if (q.kind !== 'number' || q.value === 0 || Math.abs(q.value) > MAX_QUANTITY) {
    const shown = q.kind === 'number' ? String(q.value) : q.kind === 'invalid' ? `"${q.shown}"` : 'empty';
    throw new ScriptFailure(`${f.quantity} of SKU ${sku} is ${shown}: it should be a whole number of units other than 0, like 3 to add or -2 to remove.`);
  }
  const reasonText = optionalText(table, record, f.reason).toLowerCase();
  const reason = reasonText || 'adjustment';
  if (!(REASONS as readonly string[]).includes(reason)) throw new ScriptFailure(`${f.reason} "${reasonText}" is not one the hub knows; choose one of: ${REASONS.join(', ')}.`);
  const location = optionalText(table, record, f.location);
  const note = optionalText(table, record, f.note);
  const relay = {
    kind: 'adjustment',
    origin: 'airtable',
    sku,
    ...(location ? { location } : {}),
    quantity: q.value,
    reason,
    ...(note ? { note: note.length > 1000 ? `${note.slice(0, 999)}…` : note } : {}),
    ...(actor ? { actor } : {}),
    occurredAt,
  };
  return { relay, what: `${q.value > 0 ? '+' : ''}${q.value} × SKU ${sku} (${reason}${location ? `, ${location}` : ''})` };
}

function statusText(o: Outcome): string {
  if (o.status === 'sent') return `Sent to hub${o.eventId !== null && o.eventId !== undefined ? ` (event ${o.eventId})` : ''}`;
  if (o.status === 'already sent') return 'Already sent to hub earlier; not booked again. For another change, add a new record.';
  return `Not sent: ${withoutSecrets(o.message)}`;
}

export function makeAdjustment(env: ScriptEnv): Promise<Outcome> {
  return runScript(env, async () => {
    const inputs = readInputs(env);
    const hubUrl = inputs.hubUrl();
    const secret = inputs.relaySecret();
    const recordId = inputs.required('recordId', 'its value is the record the button or the trigger gives → "Airtable record ID".');
    const table = getTable(env, inputs.or('table', 'Adjustments'));
    const actor = inputs.actor();
    const deadline = runDeadline(env);
    requireField(table, ADJUSTMENT_FIELDS.sku);
    requireField(table, ADJUSTMENT_FIELDS.quantity);
    const fields = Object.values(ADJUSTMENT_FIELDS).filter((f) => hasField(table, f));
    const record = await table.selectRecordAsync(recordId, { fields });
    if (!record) throw new ScriptFailure(`The ${table.name} table has no record ${recordId}: it was deleted, or recordId is not the button’s record id.`);

    let outcome: Outcome;
    try {
      const { relay, what } = adjustmentOf(table, record, actor, new Date(env.now()).toISOString());
      const d = await send(env, { hubUrl, secret, deadline, id: `airtable-adj-${record.id}`, relay, retryHint: RETRY_HINT });
      if (d.result === 'sent') outcome = { status: 'sent', message: `Sent to the hub${eventLabel(d)}: ${what}.${d.hubMessage ? ` ${d.hubMessage}` : ''}`, eventId: d.eventId };
      else if (d.result === 'already sent') outcome = { status: 'already sent', message: `The hub already had this adjustment (${what}); it is booked once. For another change, add a new record.` };
      else outcome = { status: 'failed', message: d.message };
    } catch (err) {
      if (!(err instanceof ScriptFailure)) throw err;
      outcome = { status: 'failed', message: err.message };
    }
    const status = ADJUSTMENT_FIELDS.status;
    // A second press keeps the first press's "Sent to hub (event N)".
    const keep = outcome.status === 'already sent' && hasField(table, status) && record.getCellValueAsString(status).startsWith('Sent to hub');
    if (hasField(table, status) && !keep) {
      try {
        await table.updateRecordAsync(record.id, { [status]: statusText(outcome) });
      } catch (err) {
        outcome = { ...outcome, message: `${outcome.message} (The ${status} field could not be written: ${err instanceof Error ? err.message : String(err)})` };
      }
    }
    return outcome;
  });
}
