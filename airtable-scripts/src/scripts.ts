/**
 * The scripts a supplier pastes into Airtable, for the build: which module and function each runs, and
 * the text of the comment block at the top of its paste-ready file (what it does, how to trigger it,
 * its input variables and its outputs).
 */

export interface InputVariable {
  name: string;
  required: boolean;
  /** What to put in it, one or two short sentences. */
  what: string;
}

export interface ScriptInfo {
  /** File name of the bundle, without .js. */
  name: string;
  /** Module in src/ and the function it exports, called with the real Airtable environment. */
  module: string;
  run: string;
  summary: string[];
  trigger: string[];
  inputs: InputVariable[];
}

const HUB: InputVariable[] = [
  { name: 'hubUrl', required: true, what: 'The hub’s address, like https://stock.example.com (without /v1/relay).' },
  {
    name: 'relaySecret',
    required: true,
    what: 'The relay secret (whsec_…) of this base’s own credential, made on the hub’s machine with: npx stockrelay credentials create --name "Airtable: <base>" --scope relay (never the hub-wide relay secret). Anyone who can edit this automation can read it; it can only relay, and the supplier can revoke it alone.',
  },
];

export const RELAY_RECORD_CHANGE: ScriptInfo = {
  name: 'relay-record-change',
  module: './record-change',
  run: 'relayRecordChange',
  summary: [
    'Sends a change made to a Catalog record to your stockrelay hub, signed with this base’s relay secret:',
    'a new SKU, a count typed into On hand, a new Title or Low stock at, or Archived checked.',
    'When On hand equals Hub on hand the change is the hub’s own write-back: no count is sent.',
  ],
  trigger: [
    '"When a record is updated" on the Catalog table, watching On hand, Title, Low stock at and',
    'Archived; for new records also "When a record is created" (or one "When a record matches',
    'conditions": SKU is not empty) running this same script.',
  ],
  inputs: [
    ...HUB,
    { name: 'recordId', required: true, what: 'Value: blue + → the trigger’s record → Airtable record ID.' },
    { name: 'table', required: false, what: 'The catalog table’s name (default Catalog).' },
    { name: 'location', required: false, what: 'The hub location On hand counts (default: the hub’s default location).' },
    { name: 'actor', required: false, what: 'Who changed it: e.g. the record’s "Last modified by" → email.' },
    { name: 'relayFields', required: false, what: 'Which changes to send: any of On hand, Title, Low stock at (default all).' },
    {
      name: 'skuField, titleField, onHandField, lowStockField, archivedField, hubOnHandField',
      required: false,
      what: 'Only if your fields are not named SKU, Title, On hand, Low stock at, Archived, Hub on hand: your field’s name.',
    },
  ],
};

export const MAKE_ADJUSTMENT: ScriptInfo = {
  name: 'make-adjustment',
  module: './adjustment',
  run: 'makeAdjustment',
  summary: [
    'Books one record of the Adjustments table (SKU, Quantity, Reason, Location, Note) as a stock',
    'adjustment in your stockrelay hub, and writes the outcome into its Status field. Pressing the',
    'button twice books it once.',
  ],
  trigger: [
    '"When a button is clicked" (an Interface button on an Adjustments record), "When a form is',
    'submitted" on the Adjustments table, or "When a record matches conditions" (a Send checkbox is checked).',
  ],
  inputs: [
    ...HUB,
    { name: 'recordId', required: true, what: 'Value: blue + → the trigger’s record → Airtable record ID.' },
    { name: 'table', required: false, what: 'The adjustments table’s name (default Adjustments).' },
    { name: 'actor', required: false, what: 'Who asked for it (an email or a name), e.g. from the trigger’s user.' },
  ],
};

export const REQUEST_SYNC: ScriptInfo = {
  name: 'request-sync',
  module: './sync-request',
  run: 'requestSync',
  summary: [
    'Asks your stockrelay hub to send its current numbers again to every channel and to this base,',
    'for some SKUs or for everything; with reconcile, to read every channel back as well. Books nothing.',
  ],
  trigger: ['"When a button is clicked", "At a scheduled time" or "When a form is submitted".'],
  inputs: [
    ...HUB,
    { name: 'skus', required: false, what: 'SKUs separated by commas; empty for every item.' },
    { name: 'reconcile', required: false, what: 'yes to read every channel back too (default no).' },
    { name: 'actor', required: false, what: 'Who asked for it (an email or a name).' },
  ],
};

export const SCRIPTS: ScriptInfo[] = [RELAY_RECORD_CHANGE, MAKE_ADJUSTMENT, REQUEST_SYNC];

/** Every script sets these for the automation's later steps. */
export const OUTPUTS = 'status (sent | already sent | nothing to send | failed), message (one sentence), eventId (when the hub gave one).';
