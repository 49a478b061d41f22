/**
 * What the commands of the command line (server/cli.ts) share: talking to a running hub (the admin
 * token from --token, STOCKRELAY_ADMIN_TOKEN or data/secrets.json; one API call; its errors said as
 * they are), reading a numeric argument, printing a table.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';

/** The options every command takes: where the hub is, and the admin token. */
export interface Globals {
  hub: string;
  token?: string;
}

/** A failure said to the person at the terminal as it is (no stack, no prefix). */
export class CliError extends Error {}

function adminToken(opts: Globals): string {
  if (opts.token) return opts.token;
  if (process.env.STOCKRELAY_ADMIN_TOKEN) return process.env.STOCKRELAY_ADMIN_TOKEN;
  const file = path.resolve(process.env.STOCKRELAY_DATA_DIR || './data', 'secrets.json');
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { adminToken: string }).adminToken;
  } catch {
    throw new CliError(`No admin token: pass --token, set STOCKRELAY_ADMIN_TOKEN, or run this from the folder where the hub keeps ${path.relative(process.cwd(), file)}.`);
  }
}

/** One request to the hub's API with the admin token; an error answer becomes a CliError with the hub's message. */
export async function call(opts: Globals, method: string, p: string, body?: unknown): Promise<unknown> {
  // Outside the try below: a missing token must say so, not that the hub does not answer.
  const token = adminToken(opts);
  let res: Response;
  try {
    res = await fetch(opts.hub.replace(/\/$/, '') + p, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch {
    throw new CliError(`The hub does not answer at ${opts.hub}. Start it with "npm start", or pass --hub <url>.`);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* keep the text */
  }
  const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
  // Outside sandbox mode the hub has no /v1/sandbox routes at all: say why, not just "nothing at this address".
  if (res.status === 404 && error?.code === 'not_found' && p.startsWith('/v1/sandbox')) throw new CliError('The hub is not in sandbox mode: these calls exist only when no channel is configured.');
  if (res.status >= 400) throw new CliError(error?.message ?? `The hub answered ${res.status}: ${text}`);
  return parsed;
}

/** An argument that must be a whole number of 1 or more. */
export const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of 1 or more.');
  return n;
};

/** A plain-text table: a header, a rule, then the rows, columns padded to fit. */
export function table(header: string[], body: string[][]): string {
  const rows = [header, ...body];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
