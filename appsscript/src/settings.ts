/**
 * The connection to the hub: its address, and the relay secret and token of this sheet's own
 * credential (scope sidebar; never the hub's admin token). Kept in the document's properties, which
 * every editor of this spreadsheet can read (docs/security.md), never in cells.
 * Each check says in plain words what is wrong and where to find the right value.
 */
import type { PropertiesLike } from './gas';
import { PUBLIC_ADDRESS_HELP, unreachableFromGoogle } from './reach';

export interface Settings {
  hubUrl: string;
  /** The relay secret of this sheet's own credential (scope sidebar), never the hub-wide one. */
  relaySecret: string;
  /** The token of this sheet's own credential (srt_…), never the hub's admin token (docs/security.md). */
  token: string;
}

/**
 * `legacyAdminToken`: where versions before credentials kept the admin token. It is still read, so a
 * sheet connected then keeps working until Connect to hub is run again, which deletes it.
 */
export const KEYS = { hubUrl: 'stockrelay.hubUrl', relaySecret: 'stockrelay.relaySecret', token: 'stockrelay.token', legacyAdminToken: 'stockrelay.adminToken' } as const;

/** What the supplier runs on the hub's machine to make this sheet's credential. */
export const CREATE_SIDEBAR_CREDENTIAL = 'npx stockrelay credentials create --name "Shop sheet" --scope sidebar';

export type Checked = { ok: true; value: string } | { ok: false; message: string };

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/**
 * The hub's address: https, no user name or password, and one Google's servers can reach (reach.ts):
 * not localhost, a private network address or a local name. `fetchesFrom` is 'this machine' only in
 * tests that run a hub on 127.0.0.1 (there, plain http to the loopback address is accepted).
 */
export function checkHubUrl(input: string, fetchesFrom: 'google' | 'this machine' = 'google'): Checked {
  const text = input.trim();
  if (!text) return { ok: false, message: 'Type the hub’s address, like https://stock.example.com.' };
  const m = /^(https?):\/\/([^/?#\s]+)(\/[^?#\s]*)?$/i.exec(text);
  if (!m) return { ok: false, message: `"${text}" is not a web address. Type it in full, like https://stock.example.com.` };
  const scheme = m[1]!.toLowerCase();
  const authority = m[2]!;
  if (authority.includes('@')) return { ok: false, message: 'Leave user names and passwords out of the hub’s address; the add-on signs its requests with the relay secret.' };
  const host = authority.replace(/:\d+$/, '');
  if (!/^(\[[0-9a-f:]+\]|[a-z0-9.-]+)$/i.test(host)) return { ok: false, message: `"${host}" is not a host name.` };
  if (fetchesFrom === 'google') {
    const why = unreachableFromGoogle(host);
    if (why) return { ok: false, message: `The add-on’s requests to the hub are sent by Google’s servers, not by this computer, and they cannot reach ${authority}: ${why}. ${PUBLIC_ADDRESS_HELP}` };
  }
  if (scheme !== 'https' && !(fetchesFrom === 'this machine' && LOOPBACK.test(host))) {
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
      message: `The relay secret should start with "whsec_" followed by letters, digits, + and /. Copy it again from what the hub printed when this sheet’s credential was made (${CREATE_SIDEBAR_CREDENTIAL}).`,
    };
  }
  const b64 = m[1]!;
  const bytes = Math.floor((b64.replace(/=+$/, '').length * 3) / 4);
  if (b64.length % 4 === 1 || bytes < 16) return { ok: false, message: 'The relay secret is too short: part of it may be missing. Copy it again from the hub.' };
  return { ok: true, value: text };
}

/**
 * The token of this sheet's credential: `srt_` and 43 more characters, no spaces. Anything else (the
 * hub's admin token above all, which anyone who can edit the sheet could read) is refused here.
 */
export function checkToken(input: string): Checked {
  const text = input.trim().replace(/^Bearer\s+/i, '');
  if (!text) return { ok: false, message: `Paste the token of this sheet’s credential (it starts with "srt_"). The supplier makes it on the hub’s machine with: ${CREATE_SIDEBAR_CREDENTIAL}` };
  if (/\s/.test(text)) return { ok: false, message: 'The token has a space in it: copy it again, without spaces or line breaks.' };
  if (!text.startsWith('srt_')) {
    return {
      ok: false,
      message: `This is not a credential’s token (those start with "srt_"). Do not paste the hub’s admin token here: anyone who can edit this spreadsheet could read it. Make a credential for this sheet on the hub’s machine with: ${CREATE_SIDEBAR_CREDENTIAL}`,
    };
  }
  if (text.length < 40) return { ok: false, message: 'The token is shorter than the hub makes them: part of it may be missing. Copy it again.' };
  return { ok: true, value: text };
}

export function loadSettings(props: PropertiesLike): Settings | null {
  const hubUrl = props.getProperty(KEYS.hubUrl);
  const relaySecret = props.getProperty(KEYS.relaySecret);
  const token = props.getProperty(KEYS.token) ?? props.getProperty(KEYS.legacyAdminToken);
  if (!hubUrl || !relaySecret || !token) return null;
  return { hubUrl, relaySecret, token };
}

export function saveSettings(props: PropertiesLike, s: Settings): void {
  props.setProperties({ [KEYS.hubUrl]: s.hubUrl, [KEYS.relaySecret]: s.relaySecret, [KEYS.token]: s.token });
  if (props.getProperty(KEYS.legacyAdminToken) !== null) props.deleteProperty(KEYS.legacyAdminToken);
}

export const NOT_CONNECTED = 'This spreadsheet is not connected to a hub yet: choose stockrelay › Connect to hub (the stockrelay menu is next to Help).';
