/**
 * The in-memory UserConnections: user -> client id -> expiry time, and one admission counter for
 * every user. One process, so atomic by construction; a user with no live connection leaves
 * nothing behind.
 */
import type { Admission, UserConnections } from '../types.js';
import { ExpiryQueue } from './expiry-queue.js';

interface UserEntry {
  readonly clients: Map<string, number>;
}

export class MemoryUserConnections implements UserConnections {
  readonly #now: () => number;
  readonly #users = new Map<string, UserEntry>();
  #seq = 0;
  /** Users to look at when their earliest entry may have expired: the sweep visits only those. */
  readonly #expiry = new ExpiryQueue<string>();

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** The user's entry with its expired clients dropped (and the entry too when none is left). */
  #live(user: string, now: number): UserEntry | undefined {
    const entry = this.#users.get(user);
    if (!entry) return undefined;
    for (const [client, expiresAt] of entry.clients) if (expiresAt <= now) entry.clients.delete(client);
    if (entry.clients.size === 0) {
      this.#users.delete(user);
      return undefined;
    }
    return entry;
  }

  async admit(user: string, client: string, limit: number, ttlMs: number): Promise<Admission> {
    const now = this.#now();
    let entry = this.#live(user, now);
    if (limit > 0 && entry && !entry.clients.has(client) && entry.clients.size >= limit) {
      return { admitted: false, count: entry.clients.size };
    }
    if (!entry) {
      entry = { clients: new Map() };
      this.#users.set(user, entry);
    }
    entry.clients.set(client, now + ttlMs);
    this.#expiry.schedule(user, now + ttlMs);
    return { admitted: true, seq: ++this.#seq };
  }

  async renew(user: string, client: string, ttlMs: number): Promise<void> {
    const now = this.#now();
    let entry = this.#live(user, now);
    if (!entry) {
      entry = { clients: new Map() };
      this.#users.set(user, entry);
    }
    entry.clients.set(client, now + ttlMs);
    this.#expiry.schedule(user, now + ttlMs);
  }

  async remove(user: string, client: string): Promise<void> {
    const entry = this.#users.get(user);
    if (!entry) return;
    entry.clients.delete(client);
    if (entry.clients.size === 0) this.#users.delete(user);
  }

  async count(user: string): Promise<number> {
    return this.#live(user, this.#now())?.clients.size ?? 0;
  }

  /** Forgets expired entries (the engine's timer calls this). */
  sweep(now: number = this.#now()): void {
    for (const user of this.#expiry.popDue(now)) {
      const entry = this.#live(user, now);
      if (entry) this.#expiry.schedule(user, Math.min(...entry.clients.values()));
    }
  }

  internalSizes(): Record<string, number> {
    return { users: this.#users.size, expiry: this.#expiry.size };
  }
}
