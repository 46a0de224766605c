/** The facts about the machine a benchmark report must carry to be read correctly. */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { bunFoundVersion } from './bun.js';

export interface Machine {
  /** CPUs this process may use, as `nproc` prints it. */
  readonly nproc: number;
  /** `node -v` of the node running the benchmark and its children. */
  readonly node: string;
  readonly cpuModel: string;
  /** One line for the report: the above, and Bun's version when the run uses Bun. */
  readonly line: string;
}

/** Reads {@link Machine}; `nproc` falls back to os.availableParallelism() where it is missing. Call it after the targets are chosen. */
export function describeMachine(): Machine {
  let nproc: number;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {
    nproc = availableParallelism();
  }
  const node = process.version;
  const cpuModel = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const bun = bunFoundVersion();
  return { nproc, node, cpuModel, line: `nproc ${nproc}, node ${node}${bun ? `, bun ${bun}` : ''}, ${cpuModel}` };
}
