/**
 * Where CPU time went during a measured slice: the processes behind one target (a canal node,
 * its workers if it forks any, two nodes and their Redis, a peer), this load generator, and
 * everything else on the machine. The quiet-slice rule reads the last; reports read which side
 * was busy (a saturated server sits near 100% of its CPU, an unsaturated generator well below).
 *
 * Process time is in nanoseconds: the fan-out benchmark divides it by the deliveries of a slice,
 * and at a fixed load of a few publications per second that is tens of milliseconds, too little
 * for /proc/PID/stat's 10 ms ticks. Linux keeps each thread's time on CPU in nanoseconds in
 * /proc/PID/task/TID/schedstat (first field); their sum is the process's, as /proc/PID/stat
 * counts it. Falls back to /proc/PID/stat where schedstat is missing; NaN off Linux.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** /proc counts in clock ticks of 1/100 s on every common build (getconf CLK_TCK). */
const NS_PER_TICK = 1e7;

/** Descendants followed below a target's process, at most: a server with workers has a few. */
const MAX_DESCENDANTS = 256;

/** User and system CPU time of `pid` from /proc/PID/stat, in nanoseconds (10 ms resolution). */
function statTimes(pid: number): { user: number; system: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command name, which may hold spaces: split after its closing paren.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) * NS_PER_TICK, system: Number(fields[12]) * NS_PER_TICK }; // utime, stime (fields 14, 15)
  } catch {
    return { user: Number.NaN, system: Number.NaN };
  }
}

function statNs(pid: number): number {
  const { user, system } = statTimes(pid);
  return user + system;
}

/** CPU time used so far by every thread of `pid` (not its children), in nanoseconds. */
export function processCpuNs(pid: number): number {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return Number.NaN;
  }
  let total = 0;
  for (const tid of tasks) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ', 1)[0]);
    } catch {
      // A thread that ended between the listing and the read: its time is in no task file any more.
      if (tid === String(pid)) return statNs(pid);
    }
  }
  return Number.isFinite(total) && total > 0 ? total : statNs(pid);
}

/**
 * `pid` and every process below it (a server started with `--workers N` forks N), from
 * /proc/PID/task/TID/children; just `[pid]` where that file does not exist.
 */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length && out.length < MAX_DESCENDANTS; i++) {
    const at = out[i]!;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${at}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        for (const child of readFileSync(`/proc/${at}/task/${tid}/children`, 'latin1').trim().split(/\s+/)) {
          if (child !== '') out.push(Number(child));
        }
      } catch {
        // No children file (an old kernel) or the thread ended: nothing below it to count.
      }
    }
  }
  return out;
}

/**
 * Read and write system calls made so far by `pid` (/proc/PID/io: syscr, syscw; every thread's,
 * as the process's). Counts, not times: the same work makes the same number of calls however busy
 * the machine is, so they compare targets where CPU time is noisy. NaN where the file is missing
 * or unreadable.
 */
function ioCalls(pid: number): { reads: number; writes: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'latin1');
    const field = (name: string): number => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? Number.NaN);
    return { reads: field('syscr'), writes: field('syscw') };
  } catch {
    return { reads: Number.NaN, writes: Number.NaN };
  }
}

function machineTicks(): { busy: number; steal: number } {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0] ?? '';
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
    return { busy: user + nice + system + irq + softirq, steal };
  } catch {
    return { busy: Number.NaN, steal: Number.NaN };
  }
}

/** Cumulative CPU at one instant. */
export interface CpuSample {
  readonly wallMs: number;
  /** Each of the target's processes with its descendants, in nanoseconds. */
  readonly processesNs: readonly number[];
  /** The target's processes' user and system time summed, from /proc/PID/stat (10 ms resolution), in nanoseconds. */
  readonly userNs: number;
  readonly systemNs: number;
  /** This process (the load generator), in nanoseconds. */
  readonly selfNs: number;
  /** The whole machine, in clock ticks: busy (user, nice, system, irq, softirq) and stolen by the hypervisor. */
  readonly machineBusyTicks: number;
  readonly machineStealTicks: number;
  /** Read and write system calls of the target's processes (with descendants), summed. */
  readonly readCalls: number;
  readonly writeCalls: number;
}

/** Samples the CPU time of `pids` (each with its descendants), of this process and of the machine. */
export function sampleCpu(pids: readonly number[]): CpuSample {
  const { user, system } = process.cpuUsage();
  const machine = machineTicks();
  const trees = pids.map(processTree);
  const times = trees.flat().map(statTimes);
  const calls = trees.flat().map(ioCalls);
  return {
    wallMs: performance.now(),
    processesNs: trees.map((tree) => tree.reduce((sum, pid) => sum + processCpuNs(pid), 0)),
    userNs: times.reduce((a, t) => a + t.user, 0),
    systemNs: times.reduce((a, t) => a + t.system, 0),
    selfNs: (user + system) * 1000,
    machineBusyTicks: machine.busy,
    machineStealTicks: machine.steal,
    readCalls: calls.reduce((a, c) => a + c.reads, 0),
    writeCalls: calls.reduce((a, c) => a + c.writes, 0),
  };
}

/** CPU used during a window, in CPUs (1 = one core fully busy for the whole window). */
export interface CpuShares {
  /** The target's processes together. */
  readonly server: number;
  /** This load generator. */
  readonly generator: number;
  /** Everything else on the machine: other processes, kernel threads, softirq not charged to us. */
  readonly other: number;
  /** Time the hypervisor gave to other machines. */
  readonly steal: number;
}

/** {@link CpuShares} with the target's time split by process. */
export interface TargetCpu extends CpuShares {
  /** CPU nanoseconds of the target's processes, summed. */
  readonly serverNs: number;
  /** Each process's share of a CPU, in the order of the pids sampled. */
  readonly processes: readonly number[];
  /** The part of the target's CPU time spent in the kernel (system time over user + system, from /proc/PID/stat). */
  readonly systemShare: number;
  /** Read and write system calls the target's processes made in the window. */
  readonly readCalls: number;
  readonly writeCalls: number;
}

/** What the target, this generator and everything else used between `from` and `to` (in CPUs). */
export function cpuBetween(from: CpuSample, to: CpuSample): TargetCpu {
  const seconds = (to.wallMs - from.wallMs) / 1000;
  const processesNs = to.processesNs.map((ns, i) => ns - from.processesNs[i]!);
  const serverNs = processesNs.reduce((a, b) => a + b, 0);
  const server = serverNs / 1e9 / seconds;
  const generator = (to.selfNs - from.selfNs) / 1e9 / seconds;
  const machineBusy = ((to.machineBusyTicks - from.machineBusyTicks) * NS_PER_TICK) / 1e9 / seconds;
  return {
    server,
    generator,
    other: Math.max(0, machineBusy - server - generator),
    steal: ((to.machineStealTicks - from.machineStealTicks) * NS_PER_TICK) / 1e9 / seconds,
    serverNs,
    processes: processesNs.map((ns) => ns / 1e9 / seconds),
    systemShare: (to.systemNs - from.systemNs) / (to.systemNs - from.systemNs + to.userNs - from.userNs),
    readCalls: to.readCalls - from.readCalls,
    writeCalls: to.writeCalls - from.writeCalls,
  };
}
