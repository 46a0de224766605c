/**
 * The in-memory PresenceManager: channel -> client id -> entry with an expiry time. Entries
 * not refreshed by `add` within their TTL vanish (from reads at once, from memory at the next
 * sweep), and an empty channel leaves nothing behind.
 *
 * An entry is refreshed in place and is itself the item of the expiry heap (its `due`), queued
 * once when made and again only by the sweep that popped it: a connection's presence costs one
 * small object, no key string (measured: a `channel + client` key string per entry was 64 of the
 * 300 bytes a presence-enabled subscription adds), and no expiry slot or queued-set entry beside
 * it (about 100 bytes on Bun; docs/benchmarks.md).
 */
import type { ClientInfo } from '../../protocol/types.js';
import type { PresenceManager, PresenceStats } from '../types.js';
import { DueHeap } from './expiry-queue.js';

interface Entry {
  readonly channel: string;
  info: ClientInfo;
  expiresAt: number;
  /** When the sweep looks at it next: its expiry when it was queued (a refresh moves expiresAt only). */
  due: number;
}

export class MemoryPresence implements PresenceManager {
  readonly #now: () => number;
  readonly #channels = new Map<string, Map<string, Entry>>();
  readonly #expiry = new DueHeap<Entry>();

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
    const known = entries.get(info.client);
    if (known) {
      // Still queued at its earlier time: the sweep finds it extended and queues it again.
      known.info = info;
      known.expiresAt = expiresAt;
      return;
    }
    const entry: Entry = { channel, info, expiresAt, due: expiresAt };
    entries.set(info.client, entry);
    this.#expiry.push(entry);
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
    for (const entry of this.#expiry.popDue(now)) {
      const entries = this.#channels.get(entry.channel);
      // Removed (or removed and added again as a new entry) since it was queued: nothing to do.
      if (entries?.get(entry.info.client) !== entry) continue;
      if (entry.expiresAt > now) {
        entry.due = entry.expiresAt;
        this.#expiry.push(entry);
        continue;
      }
      entries.delete(entry.info.client);
      if (entries.size === 0) this.#channels.delete(entry.channel);
    }
  }

  internalSizes(): Record<string, number> {
    return { channels: this.#channels.size, expiry: this.#expiry.size };
  }
}
