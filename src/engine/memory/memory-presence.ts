/**
 * The in-memory PresenceManager: channel -> client id -> entry with an expiry time. Entries
 * not refreshed by `add` within their TTL vanish (from reads at once, from memory at the next
 * sweep), and an empty channel leaves nothing behind.
 */
import type { ClientInfo } from '../../protocol/types.js';
import type { PresenceManager, PresenceStats } from '../types.js';
import { ExpiryQueue } from './expiry-queue.js';

interface Entry {
  readonly info: ClientInfo;
  expiresAt: number;
}

const SEP = '\u0000';

export class MemoryPresence implements PresenceManager {
  readonly #now: () => number;
  readonly #channels = new Map<string, Map<string, Entry>>();
  readonly #expiry = new ExpiryQueue<string>();

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async add(channel: string, info: ClientInfo, ttlMs: number): Promise<void> {
    let entries = this.#channels.get(channel);
    if (!entries) {
      entries = new Map();
      this.#channels.set(channel, entries);
    }
    const expiresAt = this.#now() + ttlMs;
    entries.set(info.client, { info, expiresAt });
    this.#expiry.schedule(`${channel}${SEP}${info.client}`, expiresAt);
  }

  async remove(channel: string, clientId: string): Promise<void> {
    const entries = this.#channels.get(channel);
    if (!entries) return;
    entries.delete(clientId);
    if (entries.size === 0) this.#channels.delete(channel);
  }

  async presence(channel: string): Promise<Record<string, ClientInfo>> {
    const out: Record<string, ClientInfo> = {};
    const now = this.#now();
    for (const [id, e] of this.#channels.get(channel) ?? []) if (e.expiresAt > now) out[id] = e.info;
    return out;
  }

  async stats(channel: string): Promise<PresenceStats> {
    const now = this.#now();
    const users = new Set<string>();
    let numClients = 0;
    for (const e of this.#channels.get(channel)?.values() ?? []) {
      if (e.expiresAt <= now) continue;
      numClients++;
      users.add(e.info.user);
    }
    return { numClients, numUsers: users.size };
  }

  async close(): Promise<void> {}

  /** Forgets expired entries and empty channels; the engine calls this on a timer. */
  sweep(now: number = this.#now()): void {
    for (const key of this.#expiry.popDue(now)) {
      const i = key.indexOf(SEP);
      const channel = key.slice(0, i);
      const entries = this.#channels.get(channel);
      const entry = entries?.get(key.slice(i + 1));
      if (!entries || !entry) continue;
      if (entry.expiresAt > now) {
        this.#expiry.schedule(key, entry.expiresAt);
        continue;
      }
      entries.delete(key.slice(i + 1));
      if (entries.size === 0) this.#channels.delete(channel);
    }
  }

  internalSizes(): Record<string, number> {
    return { channels: this.#channels.size, expiry: this.#expiry.size };
  }
}
