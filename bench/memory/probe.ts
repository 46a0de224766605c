/**
 * How the memory benchmark forces a full garbage collection in a server and reads its JavaScript
 * heap without changing the server's source: through the V8 inspector for Node (the server runs
 * with --inspect=127.0.0.1:0), through a preloaded module for Bun (bun-heap-probe.ts).
 */
import { join } from 'node:path';
import type { Child } from '../lib/children.js';
import { REPO_ROOT } from '../lib/paths.js';
import type { RunningServer, ServerCommand } from '../lib/server-process.js';
import { INSPECT_FLAG, InspectorClient } from './inspector-client.js';

/** A server's heap, read after a forced full collection. */
export interface HeapProbe {
  /** Forces a full collection, then resolves with the bytes of JavaScript heap in use. */
  heapAfterGc(): Promise<number>;
  close(): void;
}

const BUN_PROBE = join(REPO_ROOT, 'bench/memory/bun-heap-probe.ts');
const BUN_HEAP_LINE = /^bench-heap (\{.*\})$/;
const BUN_PROBE_TIMEOUT_MS = 30_000;

/** `command` with what its runtime needs for a probe: node's inspector flag, or Bun's preload. */
export function withProbe(command: ServerCommand): ServerCommand {
  const flags = command.runtime === 'node' ? [INSPECT_FLAG] : ['--preload', BUN_PROBE];
  return { ...command, args: [...flags, ...command.args] };
}

/** How the probe is described in the report. */
export function probeDescription(runtime: 'node' | 'bun'): string {
  return runtime === 'node' ? `${INSPECT_FLAG} (V8 heap)` : '--preload bench/memory/bun-heap-probe.ts (JavaScriptCore heap)';
}

class BunProbe implements HeapProbe {
  readonly #child: Child;
  #waiter: ((heapUsed: number) => void) | undefined;

  constructor(child: Child) {
    this.#child = child;
    child.onLine((line) => {
      const match = BUN_HEAP_LINE.exec(line);
      if (!match || !this.#waiter) return;
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter((JSON.parse(match[1]!) as { heapUsed: number }).heapUsed);
    });
  }

  heapAfterGc(): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(this.#child.failure(`did not answer its heap probe within ${BUN_PROBE_TIMEOUT_MS} ms`));
      }, BUN_PROBE_TIMEOUT_MS);
      this.#waiter = (heapUsed) => {
        clearTimeout(timer);
        resolve(heapUsed);
      };
      this.#child.process.stdin?.write('gc\n');
    });
  }

  close(): void {}
}

/** Attaches to `server`, started from {@link withProbe}'s command. */
export async function attachProbe(server: RunningServer, runtime: 'node' | 'bun'): Promise<HeapProbe> {
  if (runtime === 'bun') return new BunProbe(server.child);
  const inspector = await InspectorClient.attach(server.child);
  return {
    heapAfterGc: async () => (await inspector.heapAfterGc()).usedSize,
    close: () => inspector.close(),
  };
}
