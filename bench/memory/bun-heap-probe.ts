/**
 * Preloaded into a server run by Bun (`bun --preload bench/memory/bun-heap-probe.ts ...`), what
 * the V8 inspector is to a Node server in the memory benchmark: a way to force a full garbage
 * collection and read the JavaScript heap of a process whose source is not changed. For each
 * line `gc` on stdin it runs `Bun.gc(true)` (synchronous, full) and prints one line,
 * `bench-heap {"heapUsed":BYTES}`, on stdout. Bun's heap is JavaScriptCore's, not V8's: compare
 * heap figures only between targets of the same runtime.
 */
import { createInterface } from 'node:readline';
import { bunApi } from '../lib/bun-api.js';

const bun = bunApi();
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'gc') return;
  bun.gc(true);
  process.stdout.write(`bench-heap ${JSON.stringify({ heapUsed: process.memoryUsage().heapUsed })}\n`);
});
