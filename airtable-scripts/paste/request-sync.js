/*
 * stockrelay · request-sync
 * Paste this whole file into an Airtable automation's "Run a script" action.
 *
 * Asks your stockrelay hub to send its current numbers again to every channel and to this base, for
 * some SKUs or for everything; with reconcile, to read every channel back as well. Books nothing.
 *
 * Trigger:
 *   "When a button is clicked", "At a scheduled time" or "When a form is submitted".
 *
 * Input variables (left of the script editor, "+ Add input variable"; names exactly as here):
 *   hubUrl       Required. The hub’s address, like https://stock.example.com (without /v1/relay).
 *   relaySecret  Required. The relay secret (whsec_…) of this base’s own credential, made on the
 *                hub’s machine with: npx stockrelay credentials create --name "Airtable: <base>"
 *                --scope relay (never the hub-wide relay secret). Anyone who can edit this
 *                automation can read it; it can only relay, and the supplier can revoke it alone.
 *   skus         SKUs separated by commas; empty for every item.
 *   reconcile    yes to read every channel back too (default no).
 *   actor        Who asked for it (an email or a name).
 *
 * Outputs, for the automation's later steps: status (sent | already sent | nothing to send |
 * failed), message (one sentence), eventId (when the hub gave one). A failed run also stops with
 * its message, so it shows as failed in the automation's run history.
 *
 * Built by airtable-scripts/build.ts from airtable-scripts/src; change the sources, not this file.
 */
/* global input, output, base */
// airtable-scripts/src/airtable.ts
function randomHex(bytes) {
  const buf = new Uint8Array(bytes);
  if (typeof crypto !== "undefined" && typeof crypto.getRandomValues === "function") crypto.getRandomValues(buf);
  else for (let i = 0; i < bytes; i++) buf[i] = Math.floor(Math.random() * 256);
  return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join("");
}
function airtableEnv() {
  const timers = typeof setTimeout === "function" && typeof clearTimeout === "function";
  return {
    input,
    output,
    base,
    fetch: (url, init) => fetch(url, init),
    now: () => Date.now(),
    sleep: (ms) => {
      if (timers) return new Promise((resolve) => setTimeout(resolve, ms));
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
    randomHex
  };
}

// airtable-scripts/src/sign.ts
var ANSWER_TOLERANCE_SECONDS = 5 * 60;
function utf8Encode(text) {
  const out = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 55296 && c <= 56319) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (next >= 56320 && next <= 57343) {
        c = 65536 + (c - 55296 << 10) + (next - 56320);
        i++;
      } else c = 65533;
    } else if (c >= 56320 && c <= 57343) c = 65533;
    if (c < 128) out.push(c);
    else if (c < 2048) out.push(192 | c >> 6, 128 | c & 63);
    else if (c < 65536) out.push(224 | c >> 12, 128 | c >> 6 & 63, 128 | c & 63);
    else out.push(240 | c >> 18, 128 | c >> 12 & 63, 128 | c >> 6 & 63, 128 | c & 63);
  }
  return Uint8Array.from(out);
}
var K = [
  1116352408,
  1899447441,
  3049323471,
  3921009573,
  961987163,
  1508970993,
  2453635748,
  2870763221,
  3624381080,
  310598401,
  607225278,
  1426881987,
  1925078388,
  2162078206,
  2614888103,
  3248222580,
  3835390401,
  4022224774,
  264347078,
  604807628,
  770255983,
  1249150122,
  1555081692,
  1996064986,
  2554220882,
  2821834349,
  2952996808,
  3210313671,
  3336571891,
  3584528711,
  113926993,
  338241895,
  666307205,
  773529912,
  1294757372,
  1396182291,
  1695183700,
  1986661051,
  2177026350,
  2456956037,
  2730485921,
  2820302411,
  3259730800,
  3345764771,
  3516065817,
  3600352804,
  4094571909,
  275423344,
  430227734,
  506948616,
  659060556,
  883997877,
  958139571,
  1322822218,
  1537002063,
  1747873779,
  1955562222,
  2024104815,
  2227730452,
  2361852424,
  2428436474,
  2756734187,
  3204031479,
  3329325298
];
var H0 = [1779033703, 3144134277, 1013904242, 2773480762, 1359893119, 2600822924, 528734635, 1541459225];
var rotr = (x, n) => x >>> n | x << 32 - n;
function sha256(data) {
  const length = data.length;
  const padded = new Uint8Array(Math.ceil((length + 9) / 64) * 64);
  padded.set(data);
  padded[length] = 128;
  const bitsHigh = Math.floor(length / 536870912);
  const bitsLow = length * 8 % 4294967296;
  const end = padded.length;
  for (let i = 0; i < 4; i++) {
    padded[end - 8 + i] = bitsHigh >>> 24 - 8 * i & 255;
    padded[end - 4 + i] = bitsLow >>> 24 - 8 * i & 255;
  }
  const h = H0.slice();
  const w = new Array(64);
  for (let block = 0; block < end; block += 64) {
    for (let t = 0; t < 16; t++) {
      const j = block + 4 * t;
      w[t] = padded[j] << 24 | padded[j + 1] << 16 | padded[j + 2] << 8 | padded[j + 3];
    }
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15];
      const y = w[t - 2];
      const s0 = rotr(x, 7) ^ rotr(x, 18) ^ x >>> 3;
      const s1 = rotr(y, 17) ^ rotr(y, 19) ^ y >>> 10;
      w[t] = w[t - 16] + s0 + w[t - 7] + s1 | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let t = 0; t < 64; t++) {
      const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = e & f ^ ~e & g;
      const t1 = hh + S1 + ch + K[t] + w[t] | 0;
      const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = a & b ^ a & c ^ b & c;
      const t2 = S0 + maj | 0;
      hh = g;
      g = f;
      f = e;
      e = d + t1 | 0;
      d = c;
      c = b;
      b = a;
      a = t1 + t2 | 0;
    }
    h[0] = h[0] + a | 0;
    h[1] = h[1] + b | 0;
    h[2] = h[2] + c | 0;
    h[3] = h[3] + d | 0;
    h[4] = h[4] + e | 0;
    h[5] = h[5] + f | 0;
    h[6] = h[6] + g | 0;
    h[7] = h[7] + hh | 0;
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    out[4 * i] = h[i] >>> 24 & 255;
    out[4 * i + 1] = h[i] >>> 16 & 255;
    out[4 * i + 2] = h[i] >>> 8 & 255;
    out[4 * i + 3] = h[i] & 255;
  }
  return out;
}
var BLOCK = 64;
function hmacSha256(key, message) {
  const k = new Uint8Array(BLOCK);
  k.set(key.length > BLOCK ? sha256(key) : key);
  const inner = new Uint8Array(BLOCK + message.length);
  const outer = new Uint8Array(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    inner[i] = k[i] ^ 54;
    outer[i] = k[i] ^ 92;
  }
  inner.set(message, BLOCK);
  outer.set(sha256(inner), BLOCK);
  return sha256(outer);
}
var ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
function base64Encode(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = bytes[i] << 16 | (bytes[i + 1] ?? 0) << 8 | (bytes[i + 2] ?? 0);
    out += ALPHABET[n >> 18 & 63] + ALPHABET[n >> 12 & 63];
    out += i + 1 < bytes.length ? ALPHABET[n >> 6 & 63] : "=";
    out += i + 2 < bytes.length ? ALPHABET[n & 63] : "=";
  }
  return out;
}
function base64Decode(text) {
  let s = text.replace(/[\t\n\f\r ]/g, "");
  if (s.length % 4 === 0) s = s.replace(/={1,2}$/, "");
  if (s.length % 4 === 1) throw new Error("not base64: wrong length");
  const out = [];
  let bits = 0;
  let count = 0;
  for (let i = 0; i < s.length; i++) {
    const v = ALPHABET.indexOf(s[i]);
    if (v < 0) throw new Error("not base64: a character outside the alphabet");
    bits = (bits << 6 | v) & 16777215;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push(bits >> count & 255);
    }
  }
  return Uint8Array.from(out);
}
function secretKey(secret) {
  const m = /^whsec_([A-Za-z0-9+/=]+)$/.exec(secret.trim());
  let key = null;
  if (m) {
    try {
      key = base64Decode(m[1]);
    } catch {
      key = null;
    }
  }
  if (!key || key.length === 0) throw new Error('The relay secret should start with "whsec_" followed by the rest of the secret exactly as the hub gave it. Copy it again from the hub.');
  return key;
}
function mac(secret, id, ts, body) {
  return hmacSha256(secretKey(secret), utf8Encode(`${id}.${ts}.${body}`));
}
function signRelay(secret, id, timestampSeconds, body) {
  const ts = String(Math.floor(timestampSeconds));
  return { "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": `v1,${base64Encode(mac(secret, id, ts, body))}` };
}
function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
function verifyAnswer(secret, requestId, headers, body, nowSeconds) {
  if (!headers.id || !headers.timestamp || !headers.signature) {
    return { valid: false, code: "unsigned", reason: "the answer carries no webhook signature" };
  }
  if (headers.id !== requestId) {
    return { valid: false, code: "other_request", reason: `the answer is signed for another request (${headers.id.slice(0, 60)})` };
  }
  if (!/^\d{1,12}$/.test(headers.timestamp) || Math.abs(nowSeconds - Number(headers.timestamp)) > ANSWER_TOLERANCE_SECONDS) {
    return { valid: false, code: "stale", reason: "the answer’s webhook-timestamp is more than 5 minutes away from this clock" };
  }
  const expected = mac(secret, requestId, headers.timestamp, body);
  for (const part of headers.signature.split(" ")) {
    const [version, value] = part.split(",", 2);
    if (version !== "v1" || !value) continue;
    let given;
    try {
      given = base64Decode(value);
    } catch {
      continue;
    }
    if (sameBytes(given, expected)) return { valid: true };
  }
  return { valid: false, code: "bad_signature", reason: "the answer’s signature does not match the relay secret" };
}

// airtable-scripts/src/hub.ts
var MAX_ATTEMPTS = 3;
var RETRY_WAITS_MS = [1e3, 3e3];
var ATTEMPT_TIMEOUT_MS = 8e3;
var RUN_BUDGET_MS = 24e3;
var MIN_ATTEMPT_MS = 2e3;
function hubError(text) {
  try {
    const body = JSON.parse(text);
    const e = body?.error;
    if (!e || typeof e.message !== "string") return null;
    const details = Array.isArray(e.details) ? e.details : [];
    const first = details[0];
    const detail = first && typeof first.message === "string" ? ` (${typeof first.path === "string" ? `${first.path} ` : ""}${first.message})` : "";
    return { code: typeof e.code === "string" ? e.code : "error", message: `${e.message}${detail}` };
  } catch {
    return null;
  }
}
function accepted(text) {
  try {
    const body = JSON.parse(text);
    return {
      eventId: typeof body.eventId === "number" ? body.eventId : null,
      status: typeof body.status === "string" ? body.status : null,
      message: typeof body.message === "string" ? body.message : null
    };
  } catch {
    return { eventId: null, status: null, message: null };
  }
}
function networkReason(err, timeoutMs) {
  const e = err;
  if (e && e.name === "AbortError") return `no answer within ${Math.round(timeoutMs / 1e3)} seconds`;
  const cause = e?.cause && typeof e.cause.code === "string" ? ` (${e.cause.code})` : "";
  return `${typeof e?.message === "string" ? e.message : String(err)}${cause}`;
}
async function attempt(env, req, timeoutMs) {
  const url = `${req.hubUrl}/v1/relay`;
  let headers;
  try {
    headers = signRelay(req.secret, req.id, env.now() / 1e3, req.body);
  } catch (err) {
    return { final: { result: "failed", message: err instanceof Error ? err.message : String(err) } };
  }
  const controller = typeof AbortController === "function" ? new AbortController() : null;
  let expire = () => void 0;
  const timedOut = new Promise((_resolve, reject) => expire = reject);
  const stop = env.startTimer(() => {
    controller?.abort();
    expire(Object.assign(new Error("timed out"), { name: "AbortError" }));
  }, timeoutMs);
  try {
    let res;
    let text;
    try {
      const init = { method: "POST", headers: { "content-type": "application/json", ...headers }, body: req.body, ...controller ? { signal: controller.signal } : {} };
      res = await Promise.race([env.fetch(url, init), timedOut]);
      text = await Promise.race([res.text(), timedOut]);
    } catch (err2) {
      return { retry: `the hub at ${req.hubUrl} did not answer: ${networkReason(err2, timeoutMs)}` };
    }
    const status = res.status;
    const err = hubError(text);
    const where = res.redirected && res.url ? `${url} (redirected to ${res.url})` : url;
    if (status >= 200 && status < 300 || status === 409 && err?.code === "relay_replayed") {
      const verdict = verifyAnswer(
        req.secret,
        req.id,
        { id: res.headers.get("webhook-id"), timestamp: res.headers.get("webhook-timestamp"), signature: res.headers.get("webhook-signature") },
        text,
        env.now() / 1e3
      );
      if (!verdict.valid) {
        return {
          final: {
            result: "failed",
            message: `The answer did not come from your hub (${verdict.reason}). Check hubUrl: ${where} answered ${status}, but only the hub holding your relay secret can sign its answer; a proxy, a login page or a wrong address cannot. The change may not have reached the hub. ${req.retryHint}`
          }
        };
      }
      if (status === 409) return { final: { result: "already sent" } };
      const a = accepted(text);
      return { final: { result: "sent", eventId: a.eventId, hubStatus: a.status, hubMessage: a.message } };
    }
    if (status >= 500) return { retry: `the hub answered ${status}${err ? `: ${err.message}` : ""}` };
    if (status === 401) {
      const hint = err?.code === "stale_timestamp" ? "" : " Copy the relay secret (whsec_…) of this base’s credential again into the relaySecret input variable; if it was revoked or rotated, ask the supplier for a new one (npx stockrelay credentials create --scope relay).";
      return { final: { result: "failed", message: err ? `The hub refused this relay’s signature: ${err.message}${hint}` : `${where} answered 401 without the hub’s explanation: check hubUrl.${hint}` } };
    }
    if (status >= 400 && err) return { final: { result: "failed", message: `The hub refused the change (${err.code}): ${err.message}` } };
    return { final: { result: "failed", message: `${where} answered HTTP ${status}, which is not an answer from the hub: check hubUrl (the hub’s own address, like https://stock.example.com).` } };
  } finally {
    stop?.();
  }
}
async function sendRelay(env, req) {
  let last = "no attempt could be made in the time left";
  let tried = 0;
  for (let n = 1; n <= MAX_ATTEMPTS; n++) {
    const left = req.deadline - env.now();
    if (left < MIN_ATTEMPT_MS) break;
    tried = n;
    const a = await attempt(env, req, Math.min(ATTEMPT_TIMEOUT_MS, left));
    if ("final" in a) return a.final;
    last = a.retry;
    const wait = RETRY_WAITS_MS[n - 1];
    if (n === MAX_ATTEMPTS || wait === void 0 || env.now() + wait + MIN_ATTEMPT_MS > req.deadline) break;
    await env.sleep(wait);
  }
  const attempts = tried === 1 ? "one attempt" : `${tried} attempts`;
  return { result: "failed", message: `The change did not reach the hub after ${attempts}: ${last}. ${req.retryHint}` };
}

// airtable-scripts/src/script.ts
var ScriptFailure = class extends Error {
};
function errorText(err) {
  const m = err !== null && typeof err === "object" ? err.message : void 0;
  return typeof m === "string" && m ? m : String(err);
}
function withoutSecrets(text) {
  return text.replace(/whsec_[A-Za-z0-9+/=]+/g, "whsec_…");
}
async function runScript(env, body) {
  let outcome;
  try {
    outcome = await body();
  } catch (err) {
    const message = err instanceof ScriptFailure ? err.message : `The script stopped on something unexpected (${errorText(err)}). Check its input variables and the table's fields, then run it again; if this message comes back, pass it on to whoever set up stockrelay.`;
    outcome = { status: "failed", message };
  }
  outcome = { ...outcome, message: withoutSecrets(outcome.message) };
  env.output.set("status", outcome.status);
  env.output.set("message", outcome.message);
  if (outcome.eventId !== void 0 && outcome.eventId !== null) env.output.set("eventId", outcome.eventId);
  if (outcome.status === "failed") throw new Error(outcome.message);
  return outcome;
}
function readInputs(env) {
  const config = env.input.config();
  const values = config && typeof config === "object" ? config : {};
  const text = (name) => {
    const v = values[name];
    if (v === null || v === void 0) return "";
    if (Array.isArray(v)) return v.map((x) => String(x ?? "").trim()).filter(Boolean).join(", ");
    return String(v).trim();
  };
  const required = (name, how) => {
    const v = text(name);
    if (!v) throw new ScriptFailure(`The input variable "${name}" is missing or empty. Add it on the left of the script editor: ${how}`);
    return v;
  };
  return {
    text,
    or: (name, fallback) => text(name) || fallback,
    required,
    hubUrl() {
      const raw = required("hubUrl", "the hub’s address, like https://stock.example.com.");
      const url = raw.replace(/\/+$/, "").replace(/\/v1\/relay$/, "");
      if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(url)) {
        throw new ScriptFailure(`hubUrl should be the hub’s address starting with https://, like https://stock.example.com (it is "${raw.slice(0, 200)}").`);
      }
      return url;
    },
    relaySecret: () => required("relaySecret", 'the relay secret (whsec_…) of this base’s own credential, which the supplier makes on the hub’s machine with: npx stockrelay credentials create --name "Airtable: <base>" --scope relay'),
    actor: () => text("actor").slice(0, 200) || void 0
  };
}
function runDeadline(env) {
  return env.now() + RUN_BUDGET_MS;
}
function uniqueId(env, prefix) {
  return `${prefix}-${env.randomHex(8)}`;
}
function send(env, req) {
  const { relay, ...rest } = req;
  return sendRelay(env, { ...rest, body: JSON.stringify(relay) });
}
function eventLabel(d) {
  return d.result === "sent" && d.eventId !== null ? ` (event ${d.eventId})` : "";
}

// airtable-scripts/src/sync-request.ts
var MAX_SKU_LENGTH = 120;
var MAX_SKUS = 5e3;
function parseSkus(text) {
  const skus = [...new Set(text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean))];
  if (skus.length === 0) return void 0;
  const long = skus.find((s) => s.length > MAX_SKU_LENGTH);
  if (long) throw new ScriptFailure(`skus lists "${long.slice(0, 40)}…", longer than the ${MAX_SKU_LENGTH} characters a SKU may have; separate SKUs with commas.`);
  if (skus.length > MAX_SKUS) throw new ScriptFailure(`skus lists ${skus.length} SKUs; at most ${MAX_SKUS} at a time (leave it empty for every item).`);
  return skus;
}
function parseYesNo(name, text) {
  const t = text.toLowerCase();
  if (t === "") return void 0;
  if (["yes", "y", "true", "1"].includes(t)) return true;
  if (["no", "n", "false", "0"].includes(t)) return false;
  throw new ScriptFailure(`${name} should be yes or no (it is "${text.slice(0, 40)}").`);
}
function requestSync(env) {
  return runScript(env, async () => {
    const inputs = readInputs(env);
    const hubUrl = inputs.hubUrl();
    const secret = inputs.relaySecret();
    const skus = parseSkus(inputs.text("skus"));
    const reconcile = parseYesNo("reconcile", inputs.text("reconcile"));
    const actor = inputs.actor();
    const relay = {
      kind: "sync_request",
      origin: "airtable",
      ...skus ? { skus } : {},
      ...reconcile !== void 0 ? { reconcile } : {},
      ...actor ? { actor } : {},
      requestedAt: new Date(env.now()).toISOString()
    };
    const what = `${skus ? skus.length === 1 ? `SKU ${skus[0]}` : `${skus.length} SKUs` : "every item"}${reconcile ? ", reading every channel back" : ""}`;
    const d = await send(env, { hubUrl, secret, deadline: runDeadline(env), id: uniqueId(env, "airtable-sync"), relay, retryHint: "Run it again once the hub is back." });
    if (d.result === "sent") return { status: "sent", message: `The hub was asked to send its current numbers again${eventLabel(d)}: ${what}.`, eventId: d.eventId };
    if (d.result === "already sent") return { status: "already sent", message: `The hub already had this request (${what}).` };
    return { status: "failed", message: d.message };
  });
}

// airtable-scripts/src/request-sync.ts
await requestSync(airtableEnv());
