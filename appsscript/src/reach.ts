/**
 * Which hub addresses Google can reach. UrlFetchApp's requests come from Google's servers (a set
 * pool of Google IP ranges, developers.google.com/apps-script/reference/url-fetch), not from the
 * computer the spreadsheet is open on: "localhost" there is Google's own machine, and a private
 * network address (a home or office router's 192.168.…, 10.…) or a local name (nas.local) cannot be
 * reached from the internet. Such an address is refused at Connect with what to use instead.
 */

/** What to use instead, for every refusal. */
export const PUBLIC_ADDRESS_HELP =
  'Give the hub an address the internet can reach, starting with https://: the name of the server it runs on (with a certificate, for example behind Caddy or nginx), or, to try it from your own computer, a tunnel such as Cloudflare Tunnel (cloudflared) or ngrok, which gives you an https://… address that leads to it.';

function ipv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

/** Pure: why Google's servers cannot reach `host` (a host name or IP literal, without port), or null when they may. */
export function unreachableFromGoogle(host: string): string | null {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return `"${host}" is the computer the request comes from, and that is one of Google’s servers, not yours`;
  const v4 = ipv4(h);
  if (v4) {
    const [a, b] = v4 as [number, number, number, number];
    if (a === 127 || a === 0) return `${host} is the computer the request comes from, and that is one of Google’s servers, not yours`;
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return `${host} is an address inside a private network (a home or office network), which the internet cannot reach`;
    if (a === 169 && b === 254) return `${host} is a link-local address, which only works on one network cable or Wi-Fi`;
    if (a === 100 && b >= 64 && b <= 127) return `${host} is an address inside a provider’s shared network, which the internet cannot reach`;
    return null;
  }
  if (h.startsWith('[')) {
    const v6 = h.slice(1, -1);
    if (v6 === '::1' || v6 === '::') return `${host} is the computer the request comes from, and that is one of Google’s servers, not yours`;
    if (/^f[cd][0-9a-f]{0,2}:/.test(v6)) return `${host} is an address inside a private network, which the internet cannot reach`;
    if (/^fe[89ab][0-9a-f]?:/.test(v6)) return `${host} is a link-local address, which only works on one network`;
    return null;
  }
  if (!h.includes('.')) return `"${host}" is a name only your own network knows (it has no domain, like .com)`;
  if (/\.(local|lan|internal|intranet|home|home\.arpa|localdomain|corp)$/.test(h)) return `"${host}" is a name only your own network knows`;
  return null;
}
