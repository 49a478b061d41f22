/**
 * The part of Airtable's scripting API the scripts use, as small interfaces (airtable.com/developers/scripting/api):
 * the `input`, `output` and `base` globals of an automation's "Run a script" action, plus `fetch` and
 * timers. Nothing else is relied on: Web Crypto, `TextEncoder`, `atob` and `btoa` are not documented for
 * automations, so signing is done in plain JavaScript (sign.ts), and the random part of a webhook-id
 * falls back to `Math.random` where `crypto` is missing. `airtableEnv()` hands the real globals to the
 * scripts, and never throws, whatever the runtime lacks; tests pass fakes.
 */

/** `input` in an automation: `config()` returns the action's input variables by name. */
export interface ScriptInput {
  config(): Record<string, unknown>;
}

/** `output` in an automation: values set here are offered to the automation's later steps. */
export interface ScriptOutput {
  set(key: string, value: unknown): void;
}

export interface AirtableRecord {
  readonly id: string;
  /** Number fields give a number, checkboxes `true` or null, single selects `{id, name, color}`, empty cells null. */
  getCellValue(fieldName: string): unknown;
  getCellValueAsString(fieldName: string): string;
}

export interface Table {
  readonly name: string;
  /** Throws when the table has no such field. */
  getField(idOrName: string): { readonly name: string };
  /** null when the table has no record with this id. */
  selectRecordAsync(recordId: string, options?: { fields?: string[] }): Promise<AirtableRecord | null>;
  updateRecordAsync(recordId: string, fields: Record<string, unknown>): Promise<void>;
}

export interface Base {
  /** Throws when the base has no such table. */
  getTable(idOrName: string): Table;
}

/** Everything a script touches outside itself: Airtable's globals, the network, the clock, randomness. */
export interface ScriptEnv {
  input: ScriptInput;
  output: ScriptOutput;
  base: Base;
  fetch: typeof fetch;
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Calls `fn` after `ms` and returns what cancels it; null where the runtime has no timers. */
  startTimer(fn: () => void, ms: number): (() => void) | null;
  /** `bytes` random bytes as hex. */
  randomHex(bytes: number): string;
}

// Airtable provides these three as globals of the script; declared here, in this module only.
declare const input: ScriptInput;
declare const output: ScriptOutput;
declare const base: Base;

function randomHex(bytes: number): string {
  const buf = new Uint8Array(bytes);
  if (typeof crypto !== 'undefined' && typeof crypto.getRandomValues === 'function') crypto.getRandomValues(buf);
  else for (let i = 0; i < bytes; i++) buf[i] = Math.floor(Math.random() * 256);
  return Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The real environment of an Airtable automation script. Timers are used when the runtime has them;
 * without them a wait watches the clock instead, and a request is only limited by Airtable itself.
 */
export function airtableEnv(): ScriptEnv {
  const timers = typeof setTimeout === 'function' && typeof clearTimeout === 'function';
  return {
    input,
    output,
    base,
    fetch: (url, init) => fetch(url, init),
    now: () => Date.now(),
    sleep: (ms) => {
      if (timers) return new Promise((resolve) => setTimeout(resolve, ms));
      // No timers here: wait by watching the clock (a few seconds at most).
      const end = Date.now() + ms;
      let now = Date.now();
      while (now < end) now = Date.now();
      return Promise.resolve();
    },
    startTimer: (fn, ms) => {
      if (!timers) return null;
      const handle = setTimeout(fn, ms);
      return () => clearTimeout(handle);
    },
    randomHex,
  };
}
