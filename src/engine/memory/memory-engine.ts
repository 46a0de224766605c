/** The embedded default engine: a MemoryBroker, a MemoryPresence and MemoryUserConnections swept by one timer. */
import type { Engine, NodeRegistry, NodeSummary } from '../types.js';
import { MemoryBroker } from './memory-broker.js';
import { MemoryPresence } from './memory-presence.js';
import { MemoryUserConnections } from './memory-users.js';

export interface MemoryEngineOptions {
  /** The clock, in ms; tests pass a fake one. */
  readonly now?: () => number;
  /** How often expired streams and presence entries are swept from memory (default 1 s). */
  readonly sweepIntervalMs?: number;
}

/** Announcements kept in memory until their TTL passes (in practice: this process's one node). */
class MemoryNodeRegistry implements NodeRegistry {
  readonly #nodes = new Map<string, { summary: NodeSummary; expiresAt: number }>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  async announce(summary: NodeSummary, ttlMs: number): Promise<void> {
    this.#nodes.set(summary.uid, { summary, expiresAt: this.#now() + ttlMs });
  }

  async list(): Promise<NodeSummary[]> {
    const now = this.#now();
    for (const [uid, n] of this.#nodes) if (n.expiresAt <= now) this.#nodes.delete(uid);
    return [...this.#nodes.values()].map((n) => n.summary);
  }
}

export class MemoryEngine implements Engine {
  readonly name = 'memory';
  readonly broker: MemoryBroker;
  readonly presence: MemoryPresence;
  readonly nodes: NodeRegistry;
  readonly users: MemoryUserConnections;
  readonly #timer: NodeJS.Timeout;

  constructor(options: MemoryEngineOptions = {}) {
    const clock = options.now ? { now: options.now } : {};
    this.broker = new MemoryBroker(clock);
    this.presence = new MemoryPresence(clock);
    this.nodes = new MemoryNodeRegistry(options.now ?? Date.now);
    this.users = new MemoryUserConnections(clock);
    this.#timer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 1000);
    this.#timer.unref();
  }

  /** Frees what has expired now (the timer calls it; tests may too). */
  sweep(): void {
    this.broker.sweep();
    this.presence.sweep();
    this.users.sweep();
  }

  /** Sizes of every internal map, for tests that prove nothing is left behind. */
  internalSizes(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.broker.internalSizes())) out[`broker.${k}`] = v;
    for (const [k, v] of Object.entries(this.presence.internalSizes())) out[`presence.${k}`] = v;
    for (const [k, v] of Object.entries(this.users.internalSizes())) out[`users.${k}`] = v;
    return out;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.broker.close();
    await this.presence.close();
  }
}

/** Creates the in-memory engine (the default). */
export function createMemoryEngine(options: MemoryEngineOptions = {}): MemoryEngine {
  return new MemoryEngine(options);
}
