/**
 * Where CPU time went during a measurement window, so a report can show which side was the
 * bottleneck (a saturated server sits near 100% of its CPU, an unsaturated generator well
 * below) and how much of the machine other work took. Linux /proc; NaN elsewhere.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Linux reports /proc times in clock ticks of 1/100 s on every common build (getconf CLK_TCK). */
const TICKS_PER_SECOND = 100;

/** Cumulative CPU seconds at one instant. */
export interface CpuSample {
  readonly wallMs: number;
  /** The server process (user + system). */
  readonly server: number;
  /** This process (user + system). */
  readonly self: number;
  /** Every CPU of the machine: time busy (user, nice, system, irq, softirq) and stolen by the hypervisor. */
  readonly machineBusy: number;
  readonly machineSteal: number;
}

/** CPU used during a window, in CPUs (1 = one core fully busy for the whole window). */
export interface CpuShares {
  readonly server: number;
  readonly generator: number;
  /** Everything else on the machine: other processes, kernel threads, softirq not charged to us. */
  readonly other: number;
  readonly steal: number;
}

function processSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command name, which may hold spaces, so split after its closing paren.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime (fields 14, 15)
  } catch {
    return Number.NaN;
  }
}

function machineSeconds(): { busy: number; steal: number } {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0] ?? '';
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
    return { busy: (user + nice + system + irq + softirq) / TICKS_PER_SECOND, steal: steal / TICKS_PER_SECOND };
  } catch {
    return { busy: Number.NaN, steal: Number.NaN };
  }
}

/** Samples the cumulative CPU time of `serverPid`, of this process and of the machine. */
export function sampleCpu(serverPid: number): CpuSample {
  const { user, system } = process.cpuUsage();
  const machine = machineSeconds();
  return {
    wallMs: performance.now(),
    server: processSeconds(serverPid),
    self: (user + system) / 1e6,
    machineBusy: machine.busy,
    machineSteal: machine.steal,
  };
}

/** The CPU shares between two samples taken in this process. */
export function cpuShares(from: CpuSample, to: CpuSample): CpuShares {
  const seconds = (to.wallMs - from.wallMs) / 1000;
  const server = (to.server - from.server) / seconds;
  const generator = (to.self - from.self) / seconds;
  return {
    server,
    generator,
    other: Math.max(0, (to.machineBusy - from.machineBusy) / seconds - server - generator),
    steal: (to.machineSteal - from.machineSteal) / seconds,
  };
}
