/**
 * Per-user connection counts in Redis (users.lua): per user a sorted set of its connections with
 * their expiry times and a counter of admissions, in one Cluster slot. A connection is counted
 * by the script that checks the limit, so nodes racing for a user's last place cannot both win.
 */
import type { Admission, UserConnections } from '../types.js';
import { unavailable, type RedisConnections } from './connections.js';
import type { RedisKeys } from './keys.js';

export class RedisUserConnections implements UserConnections {
  readonly #conn: RedisConnections;
  readonly #keys: RedisKeys;

  constructor(conn: RedisConnections, keys: RedisKeys) {
    this.#conn = conn;
    this.#keys = keys;
  }

  #run(user: string, ...args: Array<string | number>): Promise<unknown> {
    return this.#conn.script('canalUsers', this.#keys.userConnections(user), this.#keys.userSeq(user), ...args);
  }

  async admit(user: string, client: string, limit: number, ttlMs: number): Promise<Admission> {
    let reply: [number, number];
    try {
      reply = (await this.#run(user, 'admit', client, limit, ttlMs)) as [number, number];
    } catch (err) {
      throw unavailable('connection count', err);
    }
    return reply[0] === 1 ? { admitted: true, seq: reply[1] } : { admitted: false, count: reply[1] };
  }

  async renew(user: string, client: string, ttlMs: number): Promise<void> {
    try {
      await this.#run(user, 'renew', client, ttlMs);
    } catch (err) {
      throw unavailable('connection count renewal', err);
    }
  }

  async remove(user: string, client: string): Promise<void> {
    try {
      await this.#run(user, 'remove', client);
    } catch (err) {
      throw unavailable('connection count removal', err);
    }
  }

  async count(user: string): Promise<number> {
    try {
      return (await this.#run(user, 'count')) as number;
    } catch (err) {
      throw unavailable('connection count', err);
    }
  }
}
