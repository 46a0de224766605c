/**
 * The Redis engine: broker, presence, node registry and per-user connection counts on one Redis (a URL), on a master found
 * through Sentinel, or on a Redis Cluster, under one key prefix.
 */
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import type { Engine } from '../types.js';
import type { Config } from '../../config/schema.js';
import { parseAddresses, RedisConnections, type RedisTopology } from './connections.js';
import { RedisKeys } from './keys.js';
import { RedisBroker } from './redis-broker.js';
import { RedisNodes } from './redis-nodes.js';
import { RedisPresence } from './redis-presence.js';
import { RedisUserConnections } from './redis-users.js';

export type { RedisAddress, RedisTopology } from './connections.js';

export interface RedisEngineOptions {
  /** redis://[user:password@]host:port/db (default redis://127.0.0.1:6379/0); ignored when `topology` is given. */
  readonly url?: string;
  /** A Sentinel-managed master or a Redis Cluster instead of one URL. */
  readonly topology?: RedisTopology;
  /** Prefix of every key and pub/sub channel (default "canal"). */
  readonly prefix?: string;
  /** Timeout of every Redis call, and of connecting at start, in ms (default 2000). */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
}

export class RedisEngine implements Engine {
  readonly name = 'redis';
  readonly broker: RedisBroker;
  readonly presence: RedisPresence;
  readonly nodes: RedisNodes;
  readonly users: RedisUserConnections;
  readonly keys: RedisKeys;
  readonly connections: RedisConnections;

  constructor(options: RedisEngineOptions = {}) {
    const log = options.logger ?? silentLogger();
    this.keys = new RedisKeys(options.prefix ?? 'canal');
    const topology = options.topology ?? { kind: 'single', url: options.url ?? 'redis://127.0.0.1:6379/0' };
    this.connections = new RedisConnections({ topology, timeoutMs: options.timeoutMs ?? 2000, log });
    this.broker = new RedisBroker(this.connections, this.keys, log);
    this.presence = new RedisPresence(this.connections, this.keys);
    this.nodes = new RedisNodes(this.connections, this.keys);
    this.users = new RedisUserConnections(this.connections, this.keys);
  }

  async close(): Promise<void> {
    await this.broker.close();
    await this.connections.close();
  }
}

/**
 * Creates the Redis engine. It connects when the server starts (Broker.start); until then, and
 * while Redis is away, calls fail at once with EngineUnavailableError.
 */
export function createRedisEngine(options: RedisEngineOptions = {}): RedisEngine {
  return new RedisEngine(options);
}

/** Where the configuration says Redis is: the sentinels, the cluster, or the URL. */
export function redisTopology(config: Pick<Config, 'redis_url' | 'redis_sentinels' | 'redis_sentinel_master' | 'redis_sentinel_password' | 'redis_cluster' | 'redis_password'>): RedisTopology {
  const password = config.redis_password !== undefined ? { password: config.redis_password } : {};
  if (config.redis_sentinels.length > 0) {
    return {
      kind: 'sentinel', sentinels: parseAddresses(config.redis_sentinels), master: config.redis_sentinel_master, ...password,
      ...(config.redis_sentinel_password !== undefined ? { sentinelPassword: config.redis_sentinel_password } : {}),
    };
  }
  if (config.redis_cluster.length > 0) return { kind: 'cluster', nodes: parseAddresses(config.redis_cluster), ...password };
  return { kind: 'single', url: config.redis_url };
}
