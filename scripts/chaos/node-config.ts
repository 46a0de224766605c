/**
 * The configuration file every chaos node is started with (`canal serve --config FILE`): the
 * private Redis, the run's API key, a namespace with history and recovery for the checked
 * channels, and one for the /raw/ flood. Pure: the run writes the result to its temp dir.
 */

/** The namespace of the checked channels: `chaos:c0`, `chaos:c1`, ..., `chaos:bulk`. */
export const CHAOS_NAMESPACE = 'chaos';
/** The namespace /raw/ floods publish to, apart from the checked channels. */
export const FLOOD_NAMESPACE = 'flood';
/** The channel of the slow-consumer bursts: only the slow-consumer candidates subscribe to it. */
export const BULK_CHANNEL = `${CHAOS_NAMESPACE}:bulk`;

/** The checked channels shared by every subscriber (the bulk channel aside). */
export function chaosChannels(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${CHAOS_NAMESPACE}:c${i}`);
}

/** Publications the chaos namespace keeps per channel. */
export const HISTORY_SIZE = 1000;
/** Most publications one resubscribe recovers; a bigger gap is told recovered: false. */
export const RECOVERY_MAX = 300;
/** Past this many unsent bytes a connection is a slow consumer, cut with 3008. */
export const QUEUE_MAX_BYTES = 256 * 1024;

export interface NodeConfigInput {
  readonly redisUrl: string;
  readonly redisPrefix: string;
  readonly apiKey: string;
}

/** The JSON of the config file (the port is a flag, so every node shares the file). */
export function nodeConfig(input: NodeConfigInput): Record<string, unknown> {
  return {
    host: '127.0.0.1',
    log_level: 'warn',
    engine: 'redis',
    redis_url: input.redisUrl,
    redis_prefix: input.redisPrefix,
    // Short, so calls fail fast while Redis sleeps, and the run sees both timeouts and late applies.
    redis_timeout: '1s',
    api_key: input.apiKey,
    allow_anonymous_connect: true,
    // A ping every 10 s: a subscriber that stops reading for up to 8 s is cut for being slow
    // (3008), or for not answering a ping (3012); both reconnect and recover.
    ping_interval: '10s',
    pong_timeout: '5s',
    client_queue_max_bytes: QUEUE_MAX_BYTES,
    recovery_max_publications: RECOVERY_MAX,
    namespaces: {
      [CHAOS_NAMESPACE]: {
        allow_subscribe_for_anonymous: true,
        allow_publish_for_anonymous: true,
        history_size: HISTORY_SIZE,
        history_ttl: '30m',
        force_recovery: true,
      },
      [FLOOD_NAMESPACE]: {
        allow_subscribe_for_anonymous: true,
        allow_publish_for_anonymous: true,
        history_size: 10,
        history_ttl: '1m',
      },
    },
  };
}
