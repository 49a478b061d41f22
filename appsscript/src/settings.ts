/**
 * The connection to the hub: its address, the relay secret and the admin token. Kept in the
 * document's properties (shared by the people who edit this spreadsheet), never in cells.
 * Each check says in plain words what is wrong and where to find the right value.
 */
import type { PropertiesLike } from './gas';

export interface Settings {
  hubUrl: string;
  relaySecret: string;
  adminToken: string;
}

export const KEYS = { hubUrl: 'stockrelay.hubUrl', relaySecret: 'stockrelay.relaySecret', adminToken: 'stockrelay.adminToken' } as const;

export type Checked = { ok: true; value: string } | { ok: false; message: string };

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** The hub's address: https (plain http only on this machine, for trying things out); no path, query or password. */
export function checkHubUrl(input: string): Checked {
  const text = input.trim();
  if (!text) return { ok: false, message: 'Type the hub’s address, like https://stock.example.com.' };
  const m = /^(https?):\/\/([^/?#\s]+)(\/[^?#\s]*)?$/i.exec(text);
  if (!m) return { ok: false, message: `"${text}" is not a web address. Type it in full, like https://stock.example.com.` };
  const scheme = m[1]!.toLowerCase();
  const authority = m[2]!;
  if (authority.includes('@')) return { ok: false, message: 'Leave user names and passwords out of the hub’s address; the add-on signs its requests with the relay secret.' };
  const host = authority.replace(/:\d+$/, '');
  if (!/^(\[[0-9a-f:]+\]|[a-z0-9.-]+)$/i.test(host)) return { ok: false, message: `"${host}" is not a host name.` };
  if (scheme !== 'https' && !LOOPBACK.test(host)) {
    return { ok: false, message: 'The hub’s address must start with https:// so the relay secret and stock levels are not sent in the clear.' };
  }
  const path = (m[3] ?? '').replace(/\/+$/, '');
  return { ok: true, value: `${scheme}://${authority.toLowerCase()}${path}` };
}

/** The relay secret as the hub prints it: `whsec_` and base64 of at least 16 bytes. */
export function checkRelaySecret(input: string): Checked {
  const text = input.trim();
  if (!text) return { ok: false, message: 'Paste the relay secret (it starts with "whsec_").' };
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(text);
  if (!m) {
    return {
      ok: false,
      message: 'The relay secret should start with "whsec_" followed by letters, digits, + and /. Copy it again from the hub (data/secrets.json or STOCKRELAY_RELAY_SECRET).',
    };
  }
  const b64 = m[1]!;
  const bytes = Math.floor((b64.replace(/=+$/, '').length * 3) / 4);
  if (b64.length % 4 === 1 || bytes < 16) return { ok: false, message: 'The relay secret is too short: part of it may be missing. Copy it again from the hub.' };
  return { ok: true, value: text };
}

/** The hub's admin token (STOCKRELAY_ADMIN_TOKEN): at least 16 characters, no spaces. */
export function checkAdminToken(input: string): Checked {
  const text = input.trim().replace(/^Bearer\s+/i, '');
  if (!text) return { ok: false, message: 'Paste the hub’s admin token (STOCKRELAY_ADMIN_TOKEN, or data/secrets.json on the hub).' };
  if (/\s/.test(text)) return { ok: false, message: 'The admin token has a space in it: copy it again, without spaces or line breaks.' };
  if (text.length < 16) return { ok: false, message: 'The admin token is shorter than the hub accepts (16 characters at least): copy it again.' };
  return { ok: true, value: text };
}

export function loadSettings(props: PropertiesLike): Settings | null {
  const hubUrl = props.getProperty(KEYS.hubUrl);
  const relaySecret = props.getProperty(KEYS.relaySecret);
  const adminToken = props.getProperty(KEYS.adminToken);
  if (!hubUrl || !relaySecret || !adminToken) return null;
  return { hubUrl, relaySecret, adminToken };
}

export function saveSettings(props: PropertiesLike, s: Settings): void {
  props.setProperties({ [KEYS.hubUrl]: s.hubUrl, [KEYS.relaySecret]: s.relaySecret, [KEYS.adminToken]: s.adminToken });
}

export const NOT_CONNECTED = 'This spreadsheet is not connected to a hub yet: choose Extensions › stockrelay › Connect to hub.';
