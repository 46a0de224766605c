/**
 * CPU time of the processes behind one target (a canal node, two nodes and their Redis, a
 * peer), in nanoseconds: the fan-out benchmark divides it by the deliveries of a slice, and at
 * a fixed load of a few publications per second that is tens of milliseconds, too little for
 * /proc/PID/stat's 10 ms ticks. Linux keeps each thread's time on CPU in nanoseconds in
 * /proc/PID/task/TID/schedstat (first field); their sum is the process's, as /proc/PID/stat
 * counts it. Falls back to /proc/PID/stat where schedstat is missing; NaN off Linux.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { CpuShares } from './cpu-usage.js';

/** /proc/PID/stat counts in clock ticks of 1/100 s on every common build (getconf CLK_TCK). */
const NS_PER_TICK = 1e7;

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

/** CPU time used so far by every thread of `pid`, in nanoseconds. */
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
export interface TargetCpuSample {
  readonly wallMs: number;
  /** Each of the target's processes, in nanoseconds. */
  readonly processesNs: readonly number[];
  /** The target's processes' user and system time summed, from /proc/PID/stat (10 ms resolution), in nanoseconds. */
  readonly userNs: number;
  readonly systemNs: number;
  /** This process (the load generator), in nanoseconds. */
  readonly selfNs: number;
  /** The whole machine, in clock ticks: busy (user, nice, system, irq, softirq) and stolen by the hypervisor. */
  readonly machineBusyTicks: number;
  readonly machineStealTicks: number;
}

/** Samples the CPU time of `pids`, of this process and of the machine. */
export function sampleTargetCpu(pids: readonly number[]): TargetCpuSample {
  const { user, system } = process.cpuUsage();
  const machine = machineTicks();
  const times = pids.map(statTimes);
  return {
    wallMs: performance.now(),
    processesNs: pids.map(processCpuNs),
    userNs: times.reduce((a, t) => a + t.user, 0),
    systemNs: times.reduce((a, t) => a + t.system, 0),
    selfNs: (user + system) * 1000,
    machineBusyTicks: machine.busy,
    machineStealTicks: machine.steal,
  };
}

/** CPU used between two samples: the shares the quiet-slice rule reads, plus each process's. */
export interface TargetCpu extends CpuShares {
  /** CPU nanoseconds of the target's processes, summed. */
  readonly serverNs: number;
  /** Each process's share of a CPU, in the order of the pids sampled. */
  readonly processes: readonly number[];
  /** The part of the target's CPU time spent in the kernel (system time over user + system, from /proc/PID/stat). */
  readonly systemShare: number;
}

/** What the target, this generator and everything else used between `from` and `to` (in CPUs). */
export function targetCpu(from: TargetCpuSample, to: TargetCpuSample): TargetCpu {
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
  };
}
