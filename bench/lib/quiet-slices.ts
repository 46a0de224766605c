/**
 * When a slice of measurement counts: on a shared machine, a slice during which other work
 * (other processes, hypervisor steal) took CPU measured the neighbours, not the server.
 */
import type { CpuShares } from './cpu-usage.js';

/**
 * Other work above this share of a CPU makes a slice disturbed: on a two-core machine that
 * time was taken from the server or the generator. Our own loopback traffic handled by kernel
 * threads stays well below it (under 10% at the ceiling's rate).
 */
export const DISTURBED_CPU = 0.25;

/** The shortest slice worth sampling: /proc counts CPU in 10 ms ticks, so 500 ms is ~2%. */
export const MIN_SLICE_MS = 500;

/** Whether other work stayed under {@link DISTURBED_CPU} during a slice with these CPU shares. */
export function isQuiet(cpu: CpuShares): boolean {
  return cpu.other + cpu.steal <= DISTURBED_CPU;
}
