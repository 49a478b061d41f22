/** Starts and drives hub-child.ts (a real hub in another process). */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

export interface HubProcess {
  url: string;
  settle(): Promise<void>;
  close(): Promise<void>;
}

const ROOT = path.join(__dirname, '..', '..', '..');

export async function startHubProcess(dataDir: string): Promise<HubProcess> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'hub-child.ts'), dataDir], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent' },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = readline.createInterface({ input: child.stdout });
  const waiting: ((o: any) => void)[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  lines.on('line', (l) => {
    let msg: unknown;
    try {
      msg = JSON.parse(l);
    } catch {
      return; // not ours
    }
    waiting.shift()?.(msg);
  });
  const next = (what: string) =>
    new Promise<any>((resolve, reject) => {
      waiting.push(resolve);
      void exited.then(() => reject(new Error(`the hub process exited while waiting for ${what}: ${stderr}`)));
    });
  const first = await next('its address');
  return {
    url: first.url,
    async settle() {
      const p = next('settle');
      child.stdin.write('settle\n');
      await p;
    },
    async close() {
      if (child.exitCode !== null) return;
      const p = next('close');
      child.stdin.write('close\n');
      await p.catch(() => undefined);
      await exited;
    },
  };
}
