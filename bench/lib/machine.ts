/** The facts about the machine a benchmark report must carry to be read correctly. */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';

export interface Machine {
  /** CPUs this process may use, as `nproc` prints it. */
  readonly nproc: number;
  /** `node -v` of the node running the benchmark and its children. */
  readonly node: string;
  readonly cpuModel: string;
}

/** Reads {@link Machine}; `nproc` falls back to os.availableParallelism() where it is missing. */
export function describeMachine(): Machine {
  let nproc: number;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {
    nproc = availableParallelism();
  }
  return { nproc, node: process.version, cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU' };
}
