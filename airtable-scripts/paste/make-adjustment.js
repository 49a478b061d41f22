/*
 * stockrelay · make-adjustment
 * Paste this whole file into an Airtable automation's "Run a script" action.
 *
 * Books one record of the Adjustments table (SKU, Quantity, Reason, Location, Note) as a stock
 * adjustment in your stockrelay hub, and writes the outcome into its Status field. Pressing the
 * button twice books it once.
 *
 * Trigger:
 *   "When a button is clicked" (an Interface button on an Adjustments record), "When a form is
 *   submitted" on the Adjustments table, or "When a record matches conditions" (a Send checkbox is
 *   checked).
 *
 * Input variables (left of the script editor, "+ Add input variable"; names exactly as here):
 *   hubUrl       Required. The hub’s address, like https://stock.example.com (without /v1/relay).
 *   relaySecret  Required. The relay secret (whsec_…) of this base’s own credential, made on the
 *                hub’s machine with: npx stockrelay credentials create --name "Airtable: <base>"
 *                --scope relay (never the hub-wide relay secret). Anyone who can edit this
 *                automation can read it; it can only relay, and the supplier can revoke it alone.
 *   recordId     Required. Value: blue + → the trigger’s record → Airtable record ID.
 *   table        The adjustments table’s name (default Adjustments).
 *   actor        Who asked for it (an email or a name), e.g. from the trigger’s user.
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
function getTable(env, name) {
  try {
    return env.base.getTable(name);
  } catch {
    throw new ScriptFailure(`This base has no table called "${name}". Set the "table" input variable to your table’s name.`);
  }
}
function hasField(table, name) {
  try {
    table.getField(name);
    return true;
  } catch {
    return false;
  }
}
function requireField(table, name, renameInput) {
  if (!hasField(table, name)) {
    const rename = renameInput ? `, or set the "${renameInput}" input variable to its name` : "";
    throw new ScriptFailure(`The ${table.name} table has no field called "${name}". Name your field "${name}"${rename}.`);
  }
  return name;
}
function wholeNumber(value) {
  if (value === null || value === void 0 || value === "") return { kind: "empty" };
  if (typeof value === "number") return Number.isSafeInteger(value) ? { kind: "number", value } : { kind: "invalid", shown: String(value) };
  if (typeof value === "string") {
    const t = value.trim();
    if (t === "") return { kind: "empty" };
    if (/^[+-]?\d{1,15}$/.test(t)) return { kind: "number", value: Number(t) };
    return { kind: "invalid", shown: t.slice(0, 80) };
  }
  return { kind: "invalid", shown: typeof value === "object" ? JSON.stringify(value).slice(0, 80) : String(value) };
}
function cellText(value) {
  if (value === null || value === void 0) return "";
  if (typeof value === "object" && "name" in value && typeof value.name === "string") return value.name.trim();
  return String(value).trim();
}
function runDeadline(env) {
  return env.now() + RUN_BUDGET_MS;
}
function send(env, req) {
  const { relay, ...rest } = req;
  return sendRelay(env, { ...rest, body: JSON.stringify(relay) });
}
function eventLabel(d) {
  return d.result === "sent" && d.eventId !== null ? ` (event ${d.eventId})` : "";
}

// airtable-scripts/src/adjustment.ts
var ADJUSTMENT_FIELDS = { sku: "SKU", quantity: "Quantity", reason: "Reason", location: "Location", note: "Note", status: "Status" };
var REASONS = ["adjustment", "restock", "receipt", "return", "sale", "exchange"];
var MAX_QUANTITY = 1e6;
var RETRY_HINT = "Press the button again once the hub is back: it is booked once, however many times it is sent.";
function optionalText(table, record, field) {
  return hasField(table, field) ? cellText(record.getCellValue(field)) : "";
}
function adjustmentOf(table, record, actor, occurredAt) {
  const f = ADJUSTMENT_FIELDS;
  const sku = record.getCellValueAsString(f.sku).trim();
  if (!sku) throw new ScriptFailure(`This adjustment has no ${f.sku}; fill it in and press the button again.`);
  const q = wholeNumber(record.getCellValue(f.quantity));
  if (q.kind !== "number" || q.value === 0 || Math.abs(q.value) > MAX_QUANTITY) {
    const shown = q.kind === "number" ? String(q.value) : q.kind === "invalid" ? `"${q.shown}"` : "empty";
    throw new ScriptFailure(`${f.quantity} of SKU ${sku} is ${shown}: it should be a whole number of units other than 0, like 3 to add or -2 to remove.`);
  }
  const reasonText = optionalText(table, record, f.reason).toLowerCase();
  const reason = reasonText || "adjustment";
  if (!REASONS.includes(reason)) throw new ScriptFailure(`${f.reason} "${reasonText}" is not one the hub knows; choose one of: ${REASONS.join(", ")}.`);
  const location = optionalText(table, record, f.location);
  const note = optionalText(table, record, f.note);
  const relay = {
    kind: "adjustment",
    origin: "airtable",
    sku,
    ...location ? { location } : {},
    quantity: q.value,
    reason,
    ...note ? { note: note.length > 1e3 ? `${note.slice(0, 999)}…` : note } : {},
    ...actor ? { actor } : {},
    occurredAt
  };
  return { relay, what: `${q.value > 0 ? "+" : ""}${q.value} × SKU ${sku} (${reason}${location ? `, ${location}` : ""})` };
}
function statusText(o) {
  if (o.status === "sent") return `Sent to hub${o.eventId !== null && o.eventId !== void 0 ? ` (event ${o.eventId})` : ""}`;
  if (o.status === "already sent") return "Already sent to hub earlier; not booked again. For another change, add a new record.";
  return `Not sent: ${withoutSecrets(o.message)}`;
}
function makeAdjustment(env) {
  return runScript(env, async () => {
    const inputs = readInputs(env);
    const hubUrl = inputs.hubUrl();
    const secret = inputs.relaySecret();
    const recordId = inputs.required("recordId", 'its value is the record the button or the trigger gives → "Airtable record ID".');
    const table = getTable(env, inputs.or("table", "Adjustments"));
    const actor = inputs.actor();
    const deadline = runDeadline(env);
    requireField(table, ADJUSTMENT_FIELDS.sku);
    requireField(table, ADJUSTMENT_FIELDS.quantity);
    const fields = Object.values(ADJUSTMENT_FIELDS).filter((f) => hasField(table, f));
    const record = await table.selectRecordAsync(recordId, { fields });
    if (!record) throw new ScriptFailure(`The ${table.name} table has no record ${recordId}: it was deleted, or recordId is not the button’s record id.`);
    let outcome;
    try {
      const { relay, what } = adjustmentOf(table, record, actor, new Date(env.now()).toISOString());
      const d = await send(env, { hubUrl, secret, deadline, id: `airtable-adj-${record.id}`, relay, retryHint: RETRY_HINT });
      if (d.result === "sent") outcome = { status: "sent", message: `Sent to the hub${eventLabel(d)}: ${what}.${d.hubMessage ? ` ${d.hubMessage}` : ""}`, eventId: d.eventId };
      else if (d.result === "already sent") outcome = { status: "already sent", message: `The hub already had this adjustment (${what}); it is booked once. For another change, add a new record.` };
      else outcome = { status: "failed", message: d.message };
    } catch (err) {
      if (!(err instanceof ScriptFailure)) throw err;
      outcome = { status: "failed", message: err.message };
    }
    const status = ADJUSTMENT_FIELDS.status;
    const keep = outcome.status === "already sent" && hasField(table, status) && record.getCellValueAsString(status).startsWith("Sent to hub");
    if (hasField(table, status) && !keep) {
      try {
        await table.updateRecordAsync(record.id, { [status]: statusText(outcome) });
      } catch (err) {
        outcome = { ...outcome, message: `${outcome.message} (The ${status} field could not be written: ${err instanceof Error ? err.message : String(err)})` };
      }
    }
    return outcome;
  });
}

// airtable-scripts/src/make-adjustment.ts
await makeAdjustment(airtableEnv());
