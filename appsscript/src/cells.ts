/**
 * Every value the add-on writes into a cell goes through here. Sheets reads a text set with
 * setValue/setValues as if it were typed, so a SKU or a title starting with "=" would become a
 * formula in the supplier's sheet (and "+", "-" and "@" are read as the start of one too). Such a
 * text is written with a leading apostrophe, which Sheets keeps as plain text and does not show.
 * The rule is the hub's CSV export's (server/reports/reports.ts, csvField): a leading =, +, -, @,
 * tab or carriage return, unless the text is a plain number such as -3.
 */

const RISKY_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/;

/** Pure: the value to write for `v`: risky text gets a leading apostrophe; anything else is unchanged. */
export function safeCell(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  return RISKY_START.test(v) && !PLAIN_NUMBER.test(v) ? `'${v}` : v;
}

/** Pure: every cell of a block of rows, made safe (for setValues). */
export function safeRows(rows: unknown[][]): unknown[][] {
  return rows.map((r) => r.map(safeCell));
}
