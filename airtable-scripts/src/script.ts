/**
 * What every script shares: reading input variables, reading cells, naming relays, and ending the run
 * the same way — `status`, `message` (and `eventId`) set for the automation's later steps, and a
 * failed run thrown so that Airtable marks it failed in the run history.
 */
import type { ScriptEnv, Table } from './airtable';
import { RUN_BUDGET_MS, sendRelay, type Delivery, type RelayRequest } from './hub';

export type Status = 'sent' | 'already sent' | 'nothing to send' | 'failed';

export interface Outcome {
  status: Status;
  /** One sentence for the shop owner. */
  message: string;
  eventId?: number | null;
}

/** A failure explained in words; its message is shown to the shop owner as is. */
export class ScriptFailure extends Error {}

/** An error's own message, whichever realm made it (Airtable's objects may not be this script's `Error`). */
function errorText(err: unknown): string {
  const m = err !== null && typeof err === 'object' ? (err as { message?: unknown }).message : undefined;
  return typeof m === 'string' && m ? m : String(err);
}

/** No message leaves a script with a relay secret in it, whatever produced the message. */
export function withoutSecrets(text: string): string {
  return text.replace(/whsec_[A-Za-z0-9+/=]+/g, 'whsec_…');
}

/**
 * Runs a script's body and ends the run: sets `status`, `message` and `eventId`, then, for a failure,
 * throws the same message so the automation's run history shows the run as failed.
 */
export async function runScript(env: ScriptEnv, body: () => Promise<Outcome>): Promise<Outcome> {
  let outcome: Outcome;
  try {
    outcome = await body();
  } catch (err) {
    const message =
      err instanceof ScriptFailure
        ? err.message
        : `The script stopped on something unexpected (${errorText(err)}). Check its input variables and the table's fields, then run it again; if this message comes back, pass it on to whoever set up stockrelay.`;
    outcome = { status: 'failed', message };
  }
  outcome = { ...outcome, message: withoutSecrets(outcome.message) };
  env.output.set('status', outcome.status);
  env.output.set('message', outcome.message);
  if (outcome.eventId !== undefined && outcome.eventId !== null) env.output.set('eventId', outcome.eventId);
  if (outcome.status === 'failed') throw new Error(outcome.message);
  return outcome;
}

// --- Input variables ---------------------------------------------------------------------------

export interface Inputs {
  /** The variable as trimmed text ('' when absent); a list (from a lookup) is joined with commas. */
  text(name: string): string;
  /** The text, or the default when the variable is absent or empty. */
  or(name: string, fallback: string): string;
  /** The text, or a failure saying which variable to add and what to put in it. */
  required(name: string, how: string): string;
  /** The hub's address without a trailing slash (and without /v1/relay, if pasted with it). */
  hubUrl(): string;
  relaySecret(): string;
  /** The actor, cut to the 200 characters the hub accepts; undefined when empty. */
  actor(): string | undefined;
}

export function readInputs(env: ScriptEnv): Inputs {
  const config = env.input.config();
  const values: Record<string, unknown> = config && typeof config === 'object' ? config : {};
  const text = (name: string): string => {
    const v = values[name];
    if (v === null || v === undefined) return '';
    if (Array.isArray(v)) return v.map((x) => String(x ?? '').trim()).filter(Boolean).join(', ');
    return String(v).trim();
  };
  const required = (name: string, how: string): string => {
    const v = text(name);
    if (!v) throw new ScriptFailure(`The input variable "${name}" is missing or empty. Add it on the left of the script editor: ${how}`);
    return v;
  };
  return {
    text,
    or: (name, fallback) => text(name) || fallback,
    required,
    hubUrl() {
      const raw = required('hubUrl', 'the hub’s address, like https://stock.example.com.');
      const url = raw.replace(/\/+$/, '').replace(/\/v1\/relay$/, '');
      if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(url)) {
        throw new ScriptFailure(`hubUrl should be the hub’s address starting with https://, like https://stock.example.com (it is "${raw.slice(0, 200)}").`);
      }
      return url;
    },
    relaySecret: () => required('relaySecret', 'the relay secret (whsec_…) of this base’s own credential, which the supplier makes on the hub’s machine with: npx stockrelay credentials create --name "Airtable: <base>" --scope relay'),
    actor: () => text('actor').slice(0, 200) || undefined,
  };
}

// --- Tables and cells --------------------------------------------------------------------------

export function getTable(env: ScriptEnv, name: string): Table {
  try {
    return env.base.getTable(name);
  } catch {
    throw new ScriptFailure(`This base has no table called "${name}". Set the "table" input variable to your table’s name.`);
  }
}

export function hasField(table: Table, name: string): boolean {
  try {
    table.getField(name);
    return true;
  } catch {
    return false;
  }
}

/** The field's name; a failure when the table lacks it (`renameInput`: the input variable that names it otherwise). */
export function requireField(table: Table, name: string, renameInput?: string): string {
  if (!hasField(table, name)) {
    const rename = renameInput ? `, or set the "${renameInput}" input variable to its name` : '';
    throw new ScriptFailure(`The ${table.name} table has no field called "${name}". Name your field "${name}"${rename}.`);
  }
  return name;
}

export type Whole = { kind: 'empty' } | { kind: 'number'; value: number } | { kind: 'invalid'; shown: string };

/** A cell meant to hold a whole number: a number field, or text that is plainly one ("12", "+3"). */
export function wholeNumber(value: unknown): Whole {
  if (value === null || value === undefined || value === '') return { kind: 'empty' };
  if (typeof value === 'number') return Number.isSafeInteger(value) ? { kind: 'number', value } : { kind: 'invalid', shown: String(value) };
  if (typeof value === 'string') {
    const t = value.trim();
    if (t === '') return { kind: 'empty' };
    if (/^[+-]?\d{1,15}$/.test(t)) return { kind: 'number', value: Number(t) };
    return { kind: 'invalid', shown: t.slice(0, 80) };
  }
  return { kind: 'invalid', shown: typeof value === 'object' ? JSON.stringify(value).slice(0, 80) : String(value) };
}

/** Text of a cell whatever its type: a single select gives its option's name. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object' && 'name' in value && typeof (value as { name: unknown }).name === 'string') return (value as { name: string }).name.trim();
  return String(value).trim();
}

// --- Relays ------------------------------------------------------------------------------------

/** The run's shared time budget: every relay it sends must be done by then. */
export function runDeadline(env: ScriptEnv): number {
  return env.now() + RUN_BUDGET_MS;
}

/** A webhook-id unique to one change: `<prefix>-<16 random hex>`. */
export function uniqueId(env: ScriptEnv, prefix: string): string {
  return `${prefix}-${env.randomHex(8)}`;
}

export function send(env: ScriptEnv, req: Omit<RelayRequest, 'body'> & { relay: object }): Promise<Delivery> {
  const { relay, ...rest } = req;
  return sendRelay(env, { ...rest, body: JSON.stringify(relay) });
}

/** "event 42", or "" when the hub did not say. */
export function eventLabel(d: Delivery): string {
  return d.result === 'sent' && d.eventId !== null ? ` (event ${d.eventId})` : '';
}
