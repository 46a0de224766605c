/**
 * The servers a fan-out run compares, and how each is started: canal with the memory engine,
 * two canal nodes sharing Redis, the naive ws broadcast peer, the ceiling peer. canal runs as
 * users run it (`node dist/cli/bin.js serve`), configured in one of two ways:
 *
 * - namespace `bench` (the default): a config file with one namespace whose channels anyone may
 *   subscribe to and publish into, and nothing else: no history, no presence, no join/leave. The
 *   fan-out alone, which is what the ws peer does.
 * - namespace `chat`: dev mode's `chat:` namespace as is (history 100 for 10 min with recovery,
 *   presence, join/leave): every publication is appended to history first, as a chat's would be.
 *
 * Either way the per-connection command rate limit is lifted (the publisher sends far more than
 * the default 1,000 commands per second at saturation) and logs are kept to warnings.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TargetKind } from './fanout-load-types.js';
import { tsxCommand } from './paths.js';
import type { ServerCommand } from './server-process.js';

export type EngineChoice = 'memory' | 'redis';
export type NamespaceChoice = 'bench' | 'chat';

/** One target: one or two server processes, and whether Redis's CPU is part of its cost. */
export interface TargetSpec {
  readonly name: string;
  readonly kind: TargetKind;
  readonly servers: readonly ServerCommand[];
  /** Names of the server processes for the report (`node 1`, `node 2`). */
  readonly serverNames: readonly string[];
  readonly usesRedis: boolean;
}

/** The namespace `bench` as a config file: anonymous subscribe and publish, nothing kept. */
const BENCH_CONFIG = {
  allow_anonymous_connect: true,
  namespaces: {
    bench: { allow_subscribe_for_anonymous: true, allow_publish_for_anonymous: true },
  },
};

/** The channel every subscriber of a protocol target subscribes to. */
export function channelOf(ns: NamespaceChoice): string {
  return `${ns}:fanout`;
}

/** Environment for canal without any CANAL_* variable: only what the benchmark sets reaches it. */
function defaultsOnlyEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CANAL_')));
}

/** Where the config file lives for the run; {@link CanalSetup.remove} deletes it. */
export class CanalSetup {
  readonly #dir: string;
  readonly configPath: string;
  readonly #bin: string;
  readonly #ns: NamespaceChoice;

  constructor(bin: string, ns: NamespaceChoice) {
    this.#bin = bin;
    this.#ns = ns;
    this.#dir = mkdtempSync(join(tmpdir(), 'canal-bench-'));
    this.configPath = join(this.#dir, 'bench.json');
    writeFileSync(this.configPath, `${JSON.stringify(BENCH_CONFIG, null, 2)}\n`);
  }

  /** `canal serve` as this run starts it; `redisPrefix` selects the redis engine. */
  canal(name: string, redisPrefix?: string): ServerCommand {
    const args = [this.#bin, 'serve'];
    if (this.#ns === 'bench') args.push('--config', this.configPath);
    args.push('--host', '127.0.0.1', '--port', '0', '--log-level', 'warn', '--client-command-rate', '1000000', '--client-command-burst', '1000000');
    if (redisPrefix !== undefined) args.push('--engine', 'redis', '--redis-prefix', redisPrefix);
    return { name, command: process.execPath, args, env: defaultsOnlyEnv() };
  }

  /** The command line of canal as printed in the report (paths shortened). */
  describe(redisPrefix?: string): string {
    const cmd = this.canal('canal', redisPrefix);
    return ['node', 'dist/cli/bin.js', ...cmd.args.slice(1)].join(' ').replace(this.configPath, '<bench.json>');
  }

  remove(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** The naive ws broadcast (bench/peers/ws-fanout.ts). */
export function wsPeer(name: string): TargetSpec {
  return { name, kind: 'plain', servers: [{ name, ...tsxCommand('bench/peers/ws-fanout.ts', ['--port', '0']) }], serverNames: ['peer'], usesRedis: false };
}

/** The fan-out ceiling (bench/peers/ceiling-fanout.ts). */
export function ceilingPeer(name: string): TargetSpec {
  return { name, kind: 'plain', servers: [{ name, ...tsxCommand('bench/peers/ceiling-fanout.ts', ['--port', '0']) }], serverNames: ['peer'], usesRedis: false };
}

/** One canal node with the memory engine. */
export function canalMemory(setup: CanalSetup, name: string): TargetSpec {
  return { name, kind: 'protocol', servers: [setup.canal(name)], serverNames: ['node'], usesRedis: false };
}

/** Two canal nodes with the redis engine under `prefix`: subscribers alternate between them, the publisher is on node 1. */
export function canalRedisPair(setup: CanalSetup, name: string, prefix: string): TargetSpec {
  return {
    name,
    kind: 'protocol',
    servers: [setup.canal(`${name} node 1`, prefix), setup.canal(`${name} node 2`, prefix)],
    serverNames: ['node 1', 'node 2'],
    usesRedis: true,
  };
}
