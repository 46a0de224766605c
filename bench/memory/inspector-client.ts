/**
 * A client of the V8 inspector of a server started with `--inspect=127.0.0.1:0`: how the memory
 * benchmark forces a garbage collection and reads the V8 heap of a process whose source it may
 * not change, and how a CPU profile of exactly one measured window is taken (Profiler.start /
 * stop, the profiler `--cpu-prof` runs for a whole process). Loopback only; one session per server.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { BenchError } from '../lib/benchmark.js';
import type { Child } from '../lib/children.js';

/** Node's line on stderr when --inspect is on: `Debugger listening on ws://127.0.0.1:PORT/UUID`. */
const LISTENING = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/;

/** The flag that makes a node process listen for an inspector on a free loopback port. */
export const INSPECT_FLAG = '--inspect=127.0.0.1:0';

export class InspectorClient {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, { resolve: (result: unknown) => void; reject: (err: Error) => void }>();
  #nextId = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
      if (message.id === undefined) return; // an event
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.error) pending?.reject(new Error(message.error.message));
      else pending?.resolve(message.result);
    });
    ws.on('close', () => {
      for (const p of this.#pending.values()) p.reject(new Error('the inspector connection closed'));
      this.#pending.clear();
    });
  }

  /** Connects to the inspector of `child` (started with {@link INSPECT_FLAG}); rejects with BenchError after `timeoutMs`. */
  static async attach(child: Child, timeoutMs = 10_000): Promise<InspectorClient> {
    const deadline = Date.now() + timeoutMs;
    let url: string | undefined;
    // Bounded by the deadline: node prints the line before it runs any script.
    while (!(url = LISTENING.exec(child.stderrTail)?.[1])) {
      if (child.exit || Date.now() > deadline) throw child.failure('did not start its inspector');
      await sleep(20);
    }
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (err) => reject(new BenchError(`${child.name}: cannot reach its inspector at ${url}: ${err.message}`)));
    });
    return new InspectorClient(ws);
  }

  /** Calls an inspector method and resolves with its result. */
  call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Forces a full garbage collection, then reads the V8 heap: bytes used and bytes the heap holds. */
  async heapAfterGc(): Promise<{ usedSize: number; totalSize: number }> {
    await this.call('HeapProfiler.collectGarbage');
    return this.call('Runtime.getHeapUsage');
  }

  /** Closes the session (a node process waits at exit for an attached inspector to go). */
  close(): void {
    this.#ws.close();
  }
}
