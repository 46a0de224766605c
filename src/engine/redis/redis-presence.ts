/**
 * Presence in Redis (presence.lua): per channel a hash of entries, a sorted set of their expiry
 * times and a per-user count, updated atomically; entries not refreshed by their node expire,
 * so a node that dies takes its clients' presence with it after the TTL.
 */
import { encodeClientInfo } from '../../protocol/encode.js';
import type { ClientInfo } from '../../protocol/types.js';
import type { PresenceManager, PresenceStats } from '../types.js';
import { infoFromWire } from './codec.js';
import { unavailable, type RedisConnections } from './connections.js';
import type { RedisKeys } from './keys.js';

export class RedisPresence implements PresenceManager {
  readonly #conn: RedisConnections;
  readonly #keys: RedisKeys;

  constructor(conn: RedisConnections, keys: RedisKeys) {
    this.#conn = conn;
    this.#keys = keys;
  }

  #run(channel: string, ...args: Array<string | number>): Promise<unknown> {
    const k = this.#keys;
    return this.#conn.script('canalPresence', k.presenceData(channel), k.presenceExpiry(channel), k.presenceUsers(channel), ...args);
  }

  async add(channel: string, info: ClientInfo, ttlMs: number): Promise<void> {
    try {
      await this.#run(channel, 'add', info.client, encodeClientInfo(info), info.user, ttlMs);
    } catch (err) {
      throw unavailable('presence add', err);
    }
  }

  async remove(channel: string, clientId: string): Promise<void> {
    try {
      await this.#run(channel, 'remove', clientId);
    } catch (err) {
      throw unavailable('presence remove', err);
    }
  }

  async presence(channel: string): Promise<Record<string, ClientInfo>> {
    let flat: string[];
    try {
      flat = (await this.#run(channel, 'get')) as string[];
    } catch (err) {
      throw unavailable('presence', err);
    }
    const out: Record<string, ClientInfo> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = infoFromWire(JSON.parse(flat[i + 1]!));
    return out;
  }

  async stats(channel: string): Promise<PresenceStats> {
    try {
      const [numClients, numUsers] = (await this.#run(channel, 'stats')) as [number, number];
      return { numClients, numUsers };
    } catch (err) {
      throw unavailable('presence stats', err);
    }
  }

  async close(): Promise<void> {}
}
