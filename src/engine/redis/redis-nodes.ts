/** Node announcements in Redis: a hash of summaries and a sorted set of their expiry times. */
import type { NodeRegistry, NodeSummary } from '../types.js';
import { unavailable, type RedisConnections } from './connections.js';
import type { RedisKeys } from './keys.js';

export class RedisNodes implements NodeRegistry {
  readonly #conn: RedisConnections;
  readonly #keys: RedisKeys;

  constructor(conn: RedisConnections, keys: RedisKeys) {
    this.#conn = conn;
    this.#keys = keys;
  }

  async announce(summary: NodeSummary, ttlMs: number): Promise<void> {
    try {
      // The keys outlive the latest announcement a little, so they vanish when every node is gone.
      await this.#conn.command.multi()
        .hset(this.#keys.nodes, summary.uid, JSON.stringify(summary))
        .zadd(this.#keys.nodesSeen, Date.now() + ttlMs, summary.uid)
        .pexpire(this.#keys.nodes, 2 * ttlMs)
        .pexpire(this.#keys.nodesSeen, 2 * ttlMs)
        .exec();
    } catch (err) {
      throw unavailable('node announcement', err);
    }
  }

  async list(): Promise<NodeSummary[]> {
    const now = Date.now();
    const r = this.#conn.command;
    try {
      const stale = await r.zrangebyscore(this.#keys.nodesSeen, '-inf', now);
      if (stale.length > 0) await r.multi().hdel(this.#keys.nodes, ...stale).zrem(this.#keys.nodesSeen, ...stale).exec();
      const live = await r.zrangebyscore(this.#keys.nodesSeen, now, '+inf');
      if (live.length === 0) return [];
      const summaries = await r.hmget(this.#keys.nodes, ...live);
      return summaries.filter((s): s is string => s !== null).map((s) => JSON.parse(s) as NodeSummary);
    } catch (err) {
      throw unavailable('node list', err);
    }
  }
}
