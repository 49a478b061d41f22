/**
 * Shrinks a failing scenario: removes chunks of operations, halving the chunk size, and keeps every
 * removal after which the run still fails. Operations that lose their meaning in a shorter list (a
 * refund of a sale that is gone) are skipped by the harness, so every sub-list is a valid scenario.
 */
import { runScenario, type RunOptions, type RunResult } from './harness';
import type { Op } from './scenario';

export async function shrink(failing: RunResult, opts: RunOptions = {}, budget = 150, log: (line: string) => void = () => undefined): Promise<{ ops: Op[]; result: RunResult; runs: number }> {
  let ops = failing.scenario.ops;
  let best = failing;
  let runs = 0;
  for (let size = Math.max(1, Math.floor(ops.length / 2)); size >= 1 && runs < budget; size = Math.floor(size / 2)) {
    for (let start = 0; start < ops.length && runs < budget; ) {
      const candidate = [...ops.slice(0, start), ...ops.slice(start + size)];
      runs++;
      const r = await runScenario({ ...failing.scenario, ops: candidate }, { ...opts, trace: false });
      if (!r.ok) {
        ops = candidate;
        best = r;
        log(`  shrunk to ${ops.length} operations`);
      } else {
        start += size;
      }
    }
    if (size === 1) break;
  }
  return { ops, result: best, runs };
}
