/** Small measuring helpers shared by the benchmarks. */
import fs from 'node:fs';
import type { Emulator } from '../server/connectors/emulator';

export const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;

/** The p-th percentile of an ascending list (nearest rank); NaN for an empty one. */
export function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CPU time (user + system) a process has used so far, in ms. */
export function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of /proc/<pid>/stat (1-based), in clock ticks (100/s).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A process's peak resident memory (VmHWM), in MiB. */
export function peakRssMiB(pid: number): number {
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return round(kb / 1024);
}

/** Every API answer of the emulator is held 50–150 ms, drawn afresh per call. */
export function realisticLatency(emu: Emulator): void {
  Object.defineProperty(emu.faults.api, 'latencyMs', { get: () => 50 + Math.random() * 100, configurable: true, enumerable: true });
}
