/**
 * The servers benchmarks compare, and how each is started. canal runs as users run it
 * (`node dist/cli/bin.js serve`, or `bun dist/cli/bin.js serve` through Bun's Node
 * compatibility layer), with whatever extra serve flags the run was given (`--serve-flags`),
 * and, for the channel benchmarks, configured in one of two ways:
 *
 * - namespace `bench`: a config file with one namespace whose channels anyone may subscribe to
 *   and publish into, and nothing else: no history, no presence, no join/leave. The fan-out
 *   alone, which is what the peers do.
 * - namespace `chat`: dev mode's `chat:` namespace as is (history 100 for 10 min with recovery,
 *   presence, join/leave): every publication is appended to history first, as a chat's would be.
 *
 * Either way the per-connection command rate limit is lifted (the publisher sends far more than
 * the default 1,000 commands per second at saturation) and logs are kept to warnings. The echo
 * benchmark runs canal with its defaults (no namespace: no config file, no lifted limit).
 *
 * Peers are small programs in bench/<benchmark>/peers/, on Node (through tsx) or on Bun.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bunBinary } from './bun.js';
import { bundledCommand, REPO_ROOT } from './paths.js';
import type { Runtime, ServerCommand } from './server-process.js';

/**
 * How a target is spoken to. `protocol`: canal's /connection/websocket; subscribers send
 * connect + subscribe in one frame and answer server pings `{}`, the publisher publishes with
 * the protocol's publish command. `plain`: a broadcast server where every frame the publisher
 * sends goes to every subscriber (the peers).
 */
export type TargetKind = 'protocol' | 'plain';

export type NamespaceChoice = 'bench' | 'chat';
export const NAMESPACES = ['bench', 'chat'] as const;
export const RUNTIMES = ['node', 'bun'] as const;

/** The namespace `bench` as a config file: anonymous subscribe and publish, nothing kept. */
const BENCH_CONFIG = {
  allow_anonymous_connect: true,
  namespaces: {
    bench: { allow_subscribe_for_anonymous: true, allow_publish_for_anonymous: true },
  },
};

/** A canal target as a run may have several: which runtime, which namespace. */
export interface CanalVariant {
  readonly name: string;
  readonly runtime: Runtime;
  readonly namespace: NamespaceChoice | undefined;
}

/**
 * The canal targets of a run: one per runtime and namespace. Named `canal` (Node) or
 * `canal-bun`, with `-chat` added for the chat namespace when the run has both namespaces.
 */
export function canalVariants(runtimes: readonly Runtime[], namespaces: readonly (NamespaceChoice | undefined)[]): CanalVariant[] {
  return namespaces.flatMap((namespace) =>
    runtimes.map((runtime) => ({
      name: `canal${runtime === 'bun' ? '-bun' : ''}${namespace === 'chat' && namespaces.length > 1 ? '-chat' : ''}`,
      runtime,
      namespace,
    })),
  );
}

/** Environment for canal without any CANAL_* variable: only what the benchmark sets reaches it. */
function defaultsOnlyEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CANAL_')));
}

/** `--serve-flags` as arguments: split at white space (no quoting). */
export function splitFlags(text: string): string[] {
  return text.split(/\s+/).filter((s) => s !== '');
}

/** How canal is started in a run; owns the config file, which {@link remove} deletes. */
export class CanalSetup {
  readonly #dir: string;
  readonly configPath: string;
  readonly #bin: string;
  readonly #serveFlags: readonly string[];

  constructor(bin: string, serveFlags: readonly string[] = []) {
    this.#bin = bin;
    this.#serveFlags = serveFlags;
    this.#dir = mkdtempSync(join(tmpdir(), 'canal-bench-'));
    this.configPath = join(this.#dir, 'bench.json');
    writeFileSync(this.configPath, `${JSON.stringify(BENCH_CONFIG, null, 2)}\n`);
  }

  /**
   * `canal serve` as this run starts it for `variant`: with a namespace, configured for the
   * channel benchmarks (and with the redis engine under `redisPrefix` when given); without, with
   * its defaults. Throws BenchError when the variant needs Bun and there is none.
   */
  canal(variant: CanalVariant, name = variant.name, redisPrefix?: string): ServerCommand {
    const args = [this.#bin, 'serve'];
    if (variant.namespace === 'bench') args.push('--config', this.configPath);
    args.push('--host', '127.0.0.1', '--port', '0', '--log-level', 'warn');
    if (variant.namespace !== undefined) args.push('--client-command-rate', '1000000', '--client-command-burst', '1000000');
    if (redisPrefix !== undefined) args.push('--engine', 'redis', '--redis-prefix', redisPrefix);
    args.push(...this.#serveFlags);
    const command = variant.runtime === 'bun' ? bunBinary().path : process.execPath;
    return { name, runtime: variant.runtime, command, args, env: defaultsOnlyEnv() };
  }

  /** The command line of `variant` as printed in the report (paths shortened). */
  describe(variant: CanalVariant, redisPrefix?: string): string {
    const cmd = this.canal(variant, variant.name, redisPrefix);
    return [variant.runtime, 'dist/cli/bin.js', ...cmd.args.slice(1)].join(' ').replace(this.configPath, '<bench.json>');
  }

  remove(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** A peer on Node: `node <entry, bundled> --port 0`, `entry` relative to the repository root (see bundledCommand). */
export function nodePeer(name: string, entry: string): ServerCommand {
  return { name, runtime: 'node', ...bundledCommand(entry, ['--port', '0']) };
}

/** A peer on Bun: `bun <entry> --port 0`. Throws BenchError when there is no Bun. */
export function bunPeer(name: string, entry: string): ServerCommand {
  return { name, runtime: 'bun', command: bunBinary().path, args: [join(REPO_ROOT, entry), '--port', '0'] };
}
