/**
 * The Redis the redis-engine fan-out shares with whatever else runs on this machine: found on
 * 127.0.0.1:6379, its process id read from INFO (so its CPU time counts as the target's, not as
 * other work), and, after the run, the keys under the benchmark's own unique prefix deleted. The
 * database is never flushed: other people's keys are not ours to touch.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { BenchError } from '../lib/benchmark.js';

export const REDIS_URL = 'redis://127.0.0.1:6379/0';

/** What is known of the Redis. */
export interface RedisInfo {
  readonly version: string;
  /** Its process, when it runs in this pid namespace (its CPU time can then be read from /proc). */
  readonly pid: number | undefined;
}

function connect(): Redis {
  return new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null });
}

/** Finds the Redis; throws BenchError, saying how to get one, when there is none. */
export async function probeRedis(): Promise<RedisInfo> {
  const redis = connect();
  try {
    await redis.connect();
    const info = await redis.info('server');
    const field = (name: string): string | undefined => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
    const pid = Number(field('process_id'));
    const visible = Number.isInteger(pid) && existsSync(`/proc/${pid}/stat`) && readFileSync(`/proc/${pid}/comm`, 'latin1').trim().startsWith('redis');
    return { version: field('redis_version') ?? '?', pid: visible ? pid : undefined };
  } catch (err) {
    throw new BenchError(`--engine redis needs a Redis on ${REDIS_URL} (${(err as Error).message}): start one (redis-server), or run without --engine redis`);
  } finally {
    redis.disconnect();
  }
}

/** A prefix no one else uses, so the benchmark's keys and pub/sub channels are its own. */
export function uniquePrefix(): string {
  return `canal-bench-${process.pid}-${Date.now().toString(36)}`;
}

/** Deletes the keys under `prefix` (SCAN, then DEL: only ours); resolves with how many there were. */
export async function deletePrefix(prefix: string): Promise<number> {
  const redis = connect();
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = '0';
    // Bounded: SCAN ends when its cursor comes back to 0; the count bound guards a Redis that misbehaves.
    for (let i = 0; i < 100_000; i++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}.*`, 'COUNT', 1000);
      if (keys.length > 0) deleted += await redis.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}
