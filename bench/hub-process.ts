/**
 * Runs the hub as its own process, as `npm start` does, and waits for the log line that says where it
 * listens. Used by the benchmark (built JavaScript) and by the crash test (TypeScript through tsx).
 */
import crypto from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { signRelay } from '../server/relay/verify';

export interface HubProcess {
  proc: ChildProcess;
  url: string;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
}

/**
 * The environment of a hub process on loopback with its own data folder and config file: any free
 * port, info logs (the listening line is read from them), no sandbox.
 */
export function hubProcessEnv(o: { dataDir: string; configFile: string; relaySecret: string; adminToken: string; extra?: Record<string, string | undefined> }): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    STOCKRELAY_DATA_DIR: o.dataDir,
    STOCKRELAY_CONFIG: o.configFile,
    STOCKRELAY_RELAY_SECRET: o.relaySecret,
    STOCKRELAY_ADMIN_TOKEN: o.adminToken,
    STOCKRELAY_SANDBOX: 'off',
    ...o.extra,
  };
}

export function startHubProcess(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<HubProcess> {
  // BENCH_HUB_NODE_ARGS: extra Node flags for the hub, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it.
  const nodeArgs = (process.env.BENCH_HUB_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, ...args], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    let buf = '';
    let started = false;
    const timer = setTimeout(() => reject(new Error(`the hub did not start in ${opts.timeoutMs ?? 30_000} ms: ${stderr}`)), opts.timeoutMs ?? 30_000);
    // Keep reading stdout for the whole life of the process, so a full pipe never stalls the hub.
    proc.stdout!.on('data', (d: Buffer) => {
      if (started) return;
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const rec = JSON.parse(line) as { url?: string; msg?: string };
          if (rec.url && rec.msg?.startsWith('stockrelay hub listening')) {
            started = true;
            clearTimeout(timer);
            resolve({ proc, url: rec.url, exited });
            return;
          }
        } catch {
          /* not a log line */
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      if (!started) reject(new Error(`the hub exited with ${code} before listening: ${stderr}`));
    });
  });
}

/** Calls to a running hub: the admin API, signed relays, and waiting until every stored event is booked. */
export function hubClient(url: string, adminToken: string, relaySecret: string) {
  const call = async (method: string, p: string, body?: unknown): Promise<any> => {
    // A hub that stops answering fails the call after 30 s rather than holding the benchmark.
    const res = await fetch(url + p, { method, headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? null : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    if (res.status >= 300) throw new Error(`${method} ${p} answered ${res.status}: ${await res.text()}`);
    return res.json();
  };
  const relay = async (body: object): Promise<void> => {
    const raw = JSON.stringify(body);
    const res = await fetch(`${url}/v1/relay`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', ...signRelay(relaySecret, `msg_${crypto.randomUUID()}`, raw, new Date()) } });
    if (res.status !== 202) throw new Error(`relay answered ${res.status}: ${await res.text()}`);
  };
  const waitBooked = async (): Promise<void> => {
    for (;;) {
      const { events } = (await call('GET', '/v1/events?status=received&limit=1')) as { events: unknown[] };
      if (events.length === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { call, relay, waitBooked };
}
