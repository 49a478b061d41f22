/**
 * relay-record-change: a Catalog record was created or updated in Airtable; tell the hub, signed.
 *
 * - Archived checked → `catalog_changed` removing the SKU.
 * - New to the hub (its "Hub on hand" is still empty: the hub has never written it) → `catalog_changed`
 *   adding the SKU with its title and low-stock level; then, once the hub has stored that, the On hand
 *   typed in as a second relay (an `edit_batch` counting from 0). Two relays, in that order, because
 *   the hub books relays in the order it stores them and cannot count an item it does not have yet.
 * - Otherwise → one `edit_batch`: On hand as a count whose old value is "Hub on hand" (the last number
 *   the hub wrote), so a sale made meanwhile becomes a conflict rather than being overwritten; Title and
 *   Low stock at as plain sets. When On hand equals Hub on hand the change is the hub's own write-back
 *   (or On hand did not change): no count is sent.
 * A text typed into On hand ("twelve") is not sent; the run fails with a sentence saying why.
 */
import type { AirtableRecord, ScriptEnv, Table } from './airtable';
import type { Delivery } from './hub';
import { eventLabel, getTable, hasField, readInputs, requireField, runDeadline, runScript, ScriptFailure, send, uniqueId, wholeNumber, type Inputs, type Outcome } from './script';

/** The Catalog fields the script reads: default name, and the input variable that renames it. */
export const CATALOG_FIELDS = {
  sku: { name: 'SKU', input: 'skuField', required: true },
  title: { name: 'Title', input: 'titleField', required: false },
  onHand: { name: 'On hand', input: 'onHandField', required: true },
  lowStock: { name: 'Low stock at', input: 'lowStockField', required: false },
  archived: { name: 'Archived', input: 'archivedField', required: false },
  hubOnHand: { name: 'Hub on hand', input: 'hubOnHandField', required: true },
} as const;

type FieldKey = keyof typeof CATALOG_FIELDS;
type EditField = 'on_hand' | 'title' | 'low_stock_threshold';

interface Edit {
  sku: string;
  field: EditField;
  location?: string;
  oldValue: string | number | null;
  newValue: string | number | null;
  sheet: string;
  record: string;
}

const RETRY_HINT = 'Change the record again once the hub is back, or re-run this automation.';

/** `relayFields`: which changes this automation sends (default all three); lets a base split them over two automations. */
function relayFields(inputs: Inputs): Set<EditField> {
  const raw = inputs.text('relayFields');
  if (!raw) return new Set<EditField>(['on_hand', 'title', 'low_stock_threshold']);
  const names: Record<string, EditField> = { onhand: 'on_hand', title: 'title', lowstockat: 'low_stock_threshold', lowstock: 'low_stock_threshold', lowstockthreshold: 'low_stock_threshold' };
  const out = new Set<EditField>();
  for (const part of raw.split(',')) {
    const key = part.toLowerCase().replace(/[\s_-]+/g, '');
    if (!key) continue;
    const f = names[key];
    if (!f) throw new ScriptFailure(`relayFields lists "${part.trim()}"; use any of: On hand, Title, Low stock at.`);
    out.add(f);
  }
  return out;
}

/** The field names in this base; a missing required field is an error, a missing optional one is not read. */
function resolveFields(table: Table, inputs: Inputs): Partial<Record<FieldKey, string>> {
  const out: Partial<Record<FieldKey, string>> = {};
  for (const key of Object.keys(CATALOG_FIELDS) as FieldKey[]) {
    const f = CATALOG_FIELDS[key];
    const name = inputs.or(f.input, f.name);
    if (f.required) out[key] = requireField(table, name, f.input);
    else if (hasField(table, name)) out[key] = name;
  }
  return out;
}

/** A quantity cell the hub will count: a whole number of zero or more, empty, or a failure that says why. */
function quantity(record: AirtableRecord, field: string, sku: string): number | null {
  const v = wholeNumber(record.getCellValue(field));
  if (v.kind === 'empty') return null;
  if (v.kind === 'invalid') throw new ScriptFailure(`${field} of SKU ${sku} is "${v.shown}", not a whole number. Type a number of units, like 12; nothing was sent.`);
  if (v.value < 0) throw new ScriptFailure(`${field} of SKU ${sku} is ${v.value}: it cannot be negative. Type the number of units, like 12; nothing was sent.`);
  return v.value;
}

function sentMessage(what: string, d: Delivery): string {
  const hub = d.result === 'sent' && d.hubMessage ? ` ${d.hubMessage}` : '';
  return `Sent to the hub${eventLabel(d)}: ${what}.${hub}`;
}

function outcomeOf(d: Delivery, what: string): Outcome {
  if (d.result === 'sent') return { status: 'sent', message: sentMessage(what, d), eventId: d.eventId };
  if (d.result === 'already sent') return { status: 'already sent', message: `The hub already had this change (${what}); it is booked once.` };
  return { status: 'failed', message: d.message };
}

export function relayRecordChange(env: ScriptEnv): Promise<Outcome> {
  return runScript(env, async () => {
    const inputs = readInputs(env);
    const hubUrl = inputs.hubUrl();
    const secret = inputs.relaySecret();
    const recordId = inputs.required('recordId', 'its value is the trigger’s record → "Airtable record ID".');
    const tableName = inputs.or('table', 'Catalog');
    const location = inputs.text('location') || undefined;
    const actor = inputs.actor();
    const sending = relayFields(inputs);
    const deadline = runDeadline(env);

    const table = getTable(env, tableName);
    const fields = resolveFields(table, inputs);
    const record = await table.selectRecordAsync(recordId, { fields: Object.values(fields) });
    if (!record) throw new ScriptFailure(`The ${table.name} table has no record ${recordId}: it was deleted, or recordId is not the trigger’s record id.`);

    const sku = record.getCellValueAsString(fields.sku!).trim();
    if (!sku) return { status: 'nothing to send', message: `Record ${recordId} has no SKU yet; it is sent to the hub once its SKU is filled in.` };
    const now = new Date(env.now()).toISOString();
    const target = { hubUrl, secret, deadline };
    const id = uniqueId(env, `airtable-${record.id}`);

    if (fields.archived && record.getCellValue(fields.archived) === true) {
      const relay = { kind: 'catalog_changed', origin: 'airtable', added: [], removed: [sku], ...(actor ? { actor } : {}), occurredAt: now };
      return outcomeOf(await send(env, { ...target, id, relay, retryHint: RETRY_HINT }), `SKU ${sku} archived`);
    }

    const onHand = quantity(record, fields.onHand!, sku);
    const lowStock = fields.lowStock ? quantity(record, fields.lowStock, sku) : null;
    const title = fields.title ? record.getCellValueAsString(fields.title).trim() : '';
    const hubCell = record.getCellValue(fields.hubOnHand!);
    const hubOnHand = wholeNumber(hubCell);
    const onHandEdit = (oldValue: string | number | null, newValue: number): Edit => ({ sku, field: 'on_hand', ...(location ? { location } : {}), oldValue, newValue, sheet: table.name, record: record.id });

    if (hubOnHand.kind === 'empty') {
      // New to the hub: add it first; count what was typed only once the hub has stored the addition.
      const added = { sku, ...(title ? { title: title.slice(0, 500) } : {}), ...(lowStock !== null ? { lowStockThreshold: lowStock } : {}) };
      const relay = { kind: 'catalog_changed', origin: 'airtable', added: [added], removed: [], ...(actor ? { actor } : {}), occurredAt: now };
      const first = await send(env, { ...target, id, relay, retryHint: RETRY_HINT });
      if (first.result === 'failed') return outcomeOf(first, `SKU ${sku} added`);
      if (onHand === null || !sending.has('on_hand')) return outcomeOf(first, `SKU ${sku} added`);
      const count = { kind: 'edit_batch', origin: 'airtable', edits: [onHandEdit(null, onHand)], ...(actor ? { actor } : {}), editedAt: now };
      const second = await send(env, { ...target, id: `${id}-on-hand`, relay: count, retryHint: RETRY_HINT });
      const addedText = first.result === 'sent' ? `SKU ${sku} was added to the hub${eventLabel(first)}` : `SKU ${sku} was already added to the hub`;
      if (second.result === 'failed') return { status: 'failed', message: `${addedText}, but its ${fields.onHand} was not sent: ${second.message}` };
      const out = outcomeOf(second, `SKU ${sku} added, ${fields.onHand} ${onHand}`);
      return second.result === 'sent' ? { ...out, message: `${addedText}, then its ${fields.onHand} ${onHand}${eventLabel(second)}.${second.hubMessage ? ` ${second.hubMessage}` : ''}` } : out;
    }

    const edits: Edit[] = [];
    const said: string[] = [];
    let unsentNote = '';
    if (sending.has('on_hand')) {
      if (onHand === null) unsentNote = `${fields.onHand} is empty, so it was not sent.`;
      else if (hubOnHand.kind === 'number' && hubOnHand.value === onHand) unsentNote = `${fields.onHand} ${onHand} is what the hub last wrote, so it was not sent again.`;
      else {
        edits.push(onHandEdit(hubOnHand.kind === 'number' ? hubOnHand.value : String(hubCell).slice(0, 1000), onHand));
        said.push(`${fields.onHand} ${hubOnHand.kind === 'number' ? `${hubOnHand.value} → ` : ''}${onHand}`);
      }
    }
    if (sending.has('title') && fields.title) {
      edits.push({ sku, field: 'title', oldValue: null, newValue: title ? title.slice(0, 1000) : null, sheet: table.name, record: record.id });
      said.push(fields.title);
    }
    if (sending.has('low_stock_threshold') && fields.lowStock) {
      edits.push({ sku, field: 'low_stock_threshold', oldValue: null, newValue: lowStock, sheet: table.name, record: record.id });
      said.push(fields.lowStock);
    }
    if (edits.length === 0) return { status: 'nothing to send', message: `SKU ${sku}: nothing to send. ${unsentNote}`.trim() };

    const relay = { kind: 'edit_batch', origin: 'airtable', edits, ...(actor ? { actor } : {}), editedAt: now };
    const out = outcomeOf(await send(env, { ...target, id, relay, retryHint: RETRY_HINT }), `SKU ${sku}, ${said.join(', ')}`);
    return unsentNote && out.status !== 'failed' ? { ...out, message: `${out.message} ${unsentNote}` } : out;
  });
}
